import Foundation
import LunaTestSupport
import Testing

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// Golden tests: the whole output of luna-trace's reading commands over the committed traces in
/// Tests/Golden/inputs, compared byte for byte with Tests/Golden/luna-trace/NAME.txt (stdout,
/// then the exit status and stderr).
///
/// After an intended change of output, regenerate and review the diff:
///
///     LUNA_UPDATE_GOLDEN=1 swift test --filter GoldenTests
@Suite("golden output of luna-trace")
struct GoldenTests {
    /// One command line over one committed trace.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let arguments: [String]
        var testDescription: String { name }
    }

    static let root = URL(fileURLWithPath: packageRoot + "/Tests/Golden")

    static func input(_ trace: String) -> String { root.appendingPathComponent("inputs/\(trace).trace").path }

    static let cases: [Case] = {
        var cases: [Case] = []
        for trace in ["supervisor", "request_reply", "timeout_race", "res_take"] {
            let file = input(trace)
            cases.append(Case(name: "\(trace).show", arguments: ["show", file]))
            cases.append(Case(name: "\(trace).show-jsonl", arguments: ["show", file, "--format", "jsonl"]))
            cases.append(Case(name: "\(trace).stats", arguments: ["stats", file]))
            cases.append(Case(name: "\(trace).lost", arguments: ["lost", file]))
            cases.append(Case(name: "\(trace).verify", arguments: ["verify", file]))
            cases.append(Case(name: "\(trace).mermaid", arguments: ["export", file, "--format", "mermaid", "-o", "-"]))
        }
        let supervisor = input("supervisor")
        cases.append(Case(name: "supervisor.flow-pid-1", arguments: ["flow", supervisor, "--pid", "1"]))
        cases.append(Case(name: "request_reply.flow-message-1", arguments: ["flow", input("request_reply"), "--message", "1"]))
        cases.append(Case(name: "supervisor.query-lost", arguments: ["query", supervisor, QueryExamples.lost]))
        cases.append(
            Case(
                name: "supervisor.query-processes-csv",
                arguments: ["query", supervisor, QueryExamples.processes, "--format", "csv"]))
        cases.append(
            Case(
                name: "request_reply.query-waits-jsonl",
                arguments: ["query", input("request_reply"), QueryExamples.waits, "--format", "jsonl"]))
        cases.append(Case(name: "res_take.query-resources", arguments: ["query", input("res_take"), "SELECT * FROM resources"]))
        cases.append(Case(name: "supervisor.diff-rerun", arguments: ["diff", supervisor, input("supervisor-rerun")]))
        cases.append(Case(name: "supervisor.diff-request_reply", arguments: ["diff", supervisor, input("request_reply")]))
        // A flight recorder's window: `luna-trace record flight.wat --flight-recorder 64k` of
        // FlightGuest.wat(rounds: 3000, ending: .traps), written when the first process trapped.
        let window = input("flight_window")
        cases.append(Case(name: "flight_window.show-last", arguments: ["show", window, "--last", "8"]))
        cases.append(Case(name: "flight_window.stats", arguments: ["stats", window]))
        cases.append(Case(name: "flight_window.lost", arguments: ["lost", window]))
        cases.append(Case(name: "flight_window.verify", arguments: ["verify", window]))
        cases.append(Case(name: "flight_window.flow-message-5141", arguments: ["flow", window, "--message", "5141"]))
        // request_reply.trace as format 1.0 wrote it: each skip-search call one event at its
        // return (FormatOneZero.combinedForm), under a 1.0 header; read in the current shape.
        let oneZero = input("request_reply-1.0")
        cases.append(Case(name: "request_reply-1.0.show", arguments: ["show", oneZero]))
        cases.append(Case(name: "request_reply-1.0.stats", arguments: ["stats", oneZero]))
        cases.append(Case(name: "request_reply-1.0.lost", arguments: ["lost", oneZero]))
        cases.append(Case(name: "request_reply-1.0.verify", arguments: ["verify", oneZero]))
        cases.append(Case(name: "request_reply-1.0.flow-message-1", arguments: ["flow", oneZero, "--message", "1"]))
        // request_reply.trace written again by the 1.3 writer: its reads and echoes hold payload
        // references instead of bytes.
        let oneThree = input("request_reply-1.3")
        cases.append(Case(name: "request_reply-1.3.show", arguments: ["show", oneThree]))
        cases.append(Case(name: "request_reply-1.3.verify", arguments: ["verify", oneThree]))
        // And by the 2.0 writer: the times in each block's time column.
        let twoZero = input("request_reply-2.0")
        cases.append(Case(name: "request_reply-2.0.show", arguments: ["show", twoZero]))
        cases.append(Case(name: "request_reply-2.0.verify", arguments: ["verify", twoZero]))
        return cases
    }()

    /// What a golden file holds: stdout, then a separator line with the exit status, then stderr.
    /// Absolute paths of the inputs are replaced by their path under Tests/Golden.
    static func rendered(_ result: CommandResult) -> String {
        let prefix = root.path + "/"
        func clean(_ text: String) -> String { text.replacingOccurrences(of: prefix, with: "Golden/") }
        return clean(result.out) + "---- exit \(result.code); stderr:\n" + clean(result.err)
    }

    @Test("a format 1.0 file gives the same stats, lost and flow output as the recording it was made from")
    func formatOneZeroReadsAsTheRecording() {
        // (A skip-search request's flow differs only in its send time: 1.0 kept when the call
        // began, not when the request was queued.)
        for command in [["stats"], ["lost"], ["flow", "--message", "1"], ["flow", "--message", "3"]] {
            func output(_ trace: String) -> String {
                let r = TraceFixtures.run([command[0], Self.input(trace)] + command.dropFirst())
                return r.out.replacingOccurrences(of: Self.input(trace), with: "FILE") + "exit \(r.code)"
            }
            #expect(output("request_reply-1.0") == output("request_reply"), "\(command)")
        }
    }

    @Test(
        "format 1.3 (payload references) and 2.0 (time columns) files read exactly as the 1.1 recording they were written from",
        arguments: ["request_reply-1.3", "request_reply-2.0"])
    func laterFormatsReadAsTheRecording(_ file: String) {
        for command in [["show"], ["show", "--format", "jsonl"], ["stats"], ["lost"], ["flow", "--message", "2"]] {
            func output(_ trace: String) -> String {
                let r = TraceFixtures.run([command[0], Self.input(trace)] + command.dropFirst())
                return r.out.replacingOccurrences(of: Self.input(trace), with: "FILE") + "exit \(r.code)" + r.err
            }
            let recorded = output("request_reply"), rewritten = output(file)
            #expect(rewritten == recorded, "\(command)")
            if command == ["show"] {
                #expect(recorded.contains("read_data(len=8)  msg=#2 tag=1000  payload=8B 0100000000000000"))
            }
        }
    }

    @Test("full output equals the golden file", arguments: cases)
    func matchesGolden(_ c: Case) throws {
        let got = Self.rendered(TraceFixtures.run(c.arguments))
        let golden = Self.root.appendingPathComponent("luna-trace/\(c.name).txt")
        if ProcessInfo.processInfo.environment["LUNA_UPDATE_GOLDEN"] != nil {
            try got.write(to: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        if got != expected {
            let gotLines = got.split(separator: "\n", omittingEmptySubsequences: false)
            let wantLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first =
                zip(gotLines, wantLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(gotLines.count, wantLines.count)
            let want = first < wantLines.count ? String(wantLines[first]) : "<end of file>"
            let have = first < gotLines.count ? String(gotLines[first]) : "<end of output>"
            Issue.record(
                """
                \(c.name): output differs from \(golden.path) at line \(first + 1)
                  expected: \(want)
                  got:      \(have)
                (LUNA_UPDATE_GOLDEN=1 swift test --filter GoldenTests regenerates the golden files)
                """)
        }
    }
}
