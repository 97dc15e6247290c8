import ConformanceKit
import Foundation
import Testing

/// Misbehaving adapters get a clear report with their last stderr lines, the child is reaped,
/// and replay goes on with the next trace (with a fresh adapter).
@Suite("Adapter failures are reported clearly and replay goes on")
struct AdapterFailureTests {
    static func fixture(_ name: String) -> [String] {
        ["python3", TestSupport.packageRoot + "/Tests/LunaConformTests/Fixtures/\(name)"]
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let script: String
        let kind: AdapterFailure.Kind
        let stderr: String
        var testDescription: String { "\(script) → \(kind.rawValue)" }
    }

    static let cases: [Case] = [
        Case(script: "crash_adapter.py", kind: .crashed, stderr: "crasher: about to fail"),
        Case(script: "hang_adapter.py", kind: .hung, stderr: "hanger: ignoring"),
        Case(script: "garbage_adapter.py", kind: .garbage, stderr: "garbler: printing garbage"),
        Case(script: "unknown_id_adapter.py", kind: .unknownID, stderr: "misnumberer"),
        Case(script: "silent_adapter.py", kind: .noHandshake, stderr: "silent: started"),
    ]

    @Test("each trace fails with the failure kind and stderr lines", arguments: cases)
    func reported(_ c: Case) {
        let sources = Array(TestSupport.scenarios.prefix(2))
        // Budgets with room for a loaded CI machine: a crash or garbage that comes late must
        // not be taken for a hang (only the hang and silent fixtures wait them out).
        let runner = ConformanceRunner(
            // Only the silent fixture waits out its handshake budget; the others answer it, as
            // soon as a loaded machine has started Python. The silent one's budget must still
            // cover Python's start-up, or its stderr line is not written yet when the budget
            // ends (a CI machine under the whole suite's load took longer than 3 s).
            adapter: .init(command: Self.fixture(c.script), handshakeTimeout: c.kind == .noHandshake ? 15 : 30),
            replay: .init(callTimeout: 2, traceTimeout: 20))
        let report = runner.run(sources)
        #expect(report.outcomes.count == 2, "replay must go on with the next trace")
        for o in report.outcomes {
            #expect(o.status == .failed)
            #expect(o.adapterFailure?.kind == c.kind, "\(report.text())")
            #expect(o.adapterFailure?.stderrTail.contains { $0.contains(c.stderr) } == true, "\(report.text())")
        }
        #expect(report.summaryLine == "0 passed, 2 failed, 0 skipped")
        #expect(report.text().contains("last adapter stderr lines"))
    }

    @Test("an adapter that answers slowly but steadily is not hung: each answer restarts a call's budget")
    func slowAdapterIsNotHung() {
        // Each answer is held 60 ms: the dozen pipelined requests of these traces are answered
        // long after a 0.5 s budget counted from their send, but the adapter never stops answering.
        let traces = ["msg_seek", "msg_kinds"].map { TraceSource.file(TestSupport.packageRoot + "/traces/corpus/\($0).trace") }
        let runner = ConformanceRunner(
            adapter: .init(command: Self.fixture("slow_adapter.py")),
            replay: .init(callTimeout: 0.5, traceTimeout: 60))
        let report = runner.run(traces)
        #expect(report.outcomes.allSatisfy { $0.adapterFailure == nil }, "\(report.text())")
        #expect(report.summaryLine == "2 passed, 0 failed, 0 skipped", "\(report.text())")
    }

    @Test("a command that does not exist is a clear failure")
    func missingCommand() {
        let runner = ConformanceRunner(adapter: .init(command: ["/nonexistent/adapter"], handshakeTimeout: 1))
        let report = runner.run(Array(TestSupport.scenarios.prefix(1)))
        #expect(report.outcomes.first?.status == .failed)
        #expect(report.outcomes.first?.adapterFailure != nil)
    }

    @Test("traces needing unsupported capabilities are skipped")
    func skipped() {
        // This fixture supports no resource kinds: the resources scenario needs some.
        let runner = ConformanceRunner(adapter: .init(command: Self.fixture("no_resources_adapter.py"), handshakeTimeout: 30))
        let report = runner.run([TestSupport.scenarios[0]])
        #expect(report.outcomes.first?.status == .skipped, "\(report.text())")
        #expect(report.summaryLine == "0 passed, 0 failed, 1 skipped")
        #expect(report.allPassed)
    }
}
