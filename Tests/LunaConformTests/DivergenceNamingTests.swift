import ConformanceKit
import Foundation
import LunaTestSupport
import Testing
import TraceFormat

/// Mistakes of independent adapters (the Python adapter with one deliberate fault each) are
/// caught, named by what happened, with the most specific rule.
@Suite("Divergences are caught and named precisely")
struct DivergenceNamingTests {
    static func faulty(_ fault: String) -> [String] {
        ["python3", TestSupport.packageRoot + "/Tests/LunaConformTests/Fixtures/faulty_adapter.py", fault]
    }

    static let resourceIDs = TraceSource.events(ScenarioTraces.resourceIDs(), name: "resource-ids")
    static let modulePushedTwice = TraceSource.events(ScenarioTraces.modulePushedTwice(), name: "module-pushed-twice")
    static let skipSearchLinkDied = TraceSource.events(ScenarioTraces.skipSearchLinkDied(), name: "skip-search-link-died")
    static func scenario(_ name: String) -> TraceSource { TestSupport.scenarios.first { $0.name == name }! }

    struct Case: CustomTestStringConvertible, Sendable {
        let fault: String
        let trace: String
        let category: DivergenceCategory
        let rule: String
        var testDescription: String { "\(fault) on \(trace) → \(category.rawValue) \(rule)" }
    }

    static let cases: [Case] = [
        Case(fault: "ids-from-1", trace: "resource-ids", category: .wrongResourceIndex, rule: "R-RES-1"),
        Case(fault: "ids-from-1", trace: "resources", category: .wrongResourceIndex, rule: "R-RES-1"),
        Case(fault: "reuse-moved-id", trace: "resource-ids", category: .wrongResourceIndex, rule: "R-RES-1"),
        Case(fault: "late-timeout", trace: "selective-receive", category: .timeoutMismatch, rule: "R-RECV-5"),
        Case(fault: "fifo-break", trace: "selective-receive", category: .wrongOrder, rule: "R-SEND-4"),
        Case(fault: "newest-match", trace: "selective-receive", category: .wrongOrder, rule: "R-SEND-4"),
        Case(fault: "link-tag-plus-one", trace: "links", category: .wrongData, rule: "R-PROC-4"),
        Case(fault: "send-missing-returns-1", trace: "send-to-missing", category: .wrongReturnCode, rule: "R-SEND-2"),
        Case(fault: "module-push-moves", trace: "module-pushed-twice", category: .trapMismatch, rule: "R-RES-3"),
        Case(fault: "skip-search-ignores-link-died", trace: "skip-search-link-died", category: .lostMessage, rule: "R-RECV-8"),
    ]

    static func source(_ name: String) -> TraceSource {
        switch name {
        case "resource-ids": return resourceIDs
        case "module-pushed-twice": return modulePushedTwice
        case "skip-search-link-died": return skipSearchLinkDied
        default: return scenario(name)
        }
    }

    @Test("the new scenarios pass against both adapters")
    func correctAdaptersPass() async {
        let sources = [Self.resourceIDs, Self.modulePushedTwice, Self.skipSearchLinkDied]
        for command in [TestSupport.pythonAdapter, TestSupport.builtinAdapter()] {
            let report = await offPool { TestSupport.replay(sources, command, callTimeout: 3) }
            #expect(report.allPassed, "\(report.text())")
        }
    }

    @Test("fault is caught as its first cause", arguments: cases)
    func caught(_ c: Case) async {
        let report = await offPool { TestSupport.replay([Self.source(c.trace)], Self.faulty(c.fault), callTimeout: 3) }
        let causes = report.outcomes.flatMap(\.firstCauses)
        #expect(report.outcomes.allSatisfy { $0.adapterFailure == nil }, "\(report.text())")
        #expect(
            causes.first?.category == c.category && causes.first?.rule == c.rule,
            "expected \(c.category.rawValue) \(c.rule) first; report:\n\(report.text())")
    }

    @Test("on corpus traces: a notice with a wrong tag skipped by a tag set, a skip-search that ignores a LinkDied reply")
    func corpusRules() async throws {
        let corpus = TestSupport.packageRoot + "/traces/corpus/"
        for (fault, trace, rule) in [
            ("link-tag-plus-one", "proc_spawn_link", "R-PROC-4"),
            ("skip-search-ignores-link-died", "recv_skip_search_link_died", "R-RECV-8"),
        ] {
            let report = await offPool {
                TestSupport.replay([.file(corpus + trace + ".trace")], Self.faulty(fault), callTimeout: 2)
            }
            #expect(report.outcomes.first?.firstCauses.first?.rule == rule, "\(fault): \(report.text())")
        }
    }

    @Test("a reorder is reported where it happened, and the late message is not called unknown")
    func reorderWording() async throws {
        let report = await offPool {
            TestSupport.replay([Self.scenario("selective-receive")], Self.faulty("fifo-break"), callTimeout: 3)
        }
        let outcome = try #require(report.outcomes.first)
        let first = try #require(outcome.firstCauses.first)
        #expect(first.detail.contains("arrived later, at event #"), "\(report.text())")
        #expect(!report.text().contains("the trace never delivers this message here"), "\(report.text())")
    }

    @Test("a message dropped after a later one overtook nothing is still a loss")
    func dropIsLoss() async {
        let report = await offPool {
            TestSupport.replay(TestSupport.scenarios, TestSupport.builtinAdapter(["drop-every-nth"]), callTimeout: 3)
        }
        #expect(
            report.outcomes.flatMap(\.firstCauses).contains { $0.category == .lostMessage && $0.rule == "R-SEND-1" },
            "\(report.text())")
    }

    @Test("R-PROC-8: a skip-search the trace never saw return, answered, cites R-PROC-8")
    func killedWaiterReturning() async {
        // Pid 1 waits in skip-search and never returns (it was killed after the trace was cut);
        // pid 2 replies, so a replay of what was recorded makes the call return.
        let e = ReplayDiffTests.self
        let trace: [TraceEvent] = [
            e.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            e.ev(.spawn, 0, [2, 0, 0, 0], result: .value(0)),
            e.ev(.createData, 1, [0, 0], msg: 1),
            e.ev(.sendReceiveSkipSearch, 1, [2, 5000, 0], msg: 1),
            e.ev(.receive, 2, [-1], msg: 1, result: .value(0)),
            e.ev(.createData, 2, [0, 0], msg: 2),
            e.ev(.send, 2, [1], msg: 2, result: .value(0)),
        ]
        let report = await offPool { TestSupport.replay([.events(trace, name: "killed-waiter")], TestSupport.pythonAdapter) }
        let first = report.outcomes.first?.firstCauses.first
        #expect(first?.rule == "R-PROC-8", "\(report.text())")
    }
}
