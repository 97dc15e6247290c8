import Foundation
import LunaTestSupport
import Testing

/// Golden tests of `luna-conform replay`: the whole output (text and JSON) over the committed
/// traces of Tests/Golden/inputs, against the built-in adapter with and without injected
/// faults, compared byte for byte with Tests/Golden/luna-conform/NAME.txt (stdout, then the exit
/// status and stderr). Only what varies from run to run is normalized: how many milliseconds a
/// call took (`after 5003.4 ms`) and the path of the luna-conform binary.
///
/// After an intended change of output, regenerate and review the diff:
///
///     LUNA_UPDATE_GOLDEN=1 swift test --filter GoldenTests
@Suite("golden output of luna-conform replay")
struct ReplayGoldenTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let traces: [String]
        let faults: [String]
        let json: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "all.pass", traces: ["supervisor", "request_reply", "timeout_race", "res_take"], faults: [], json: false),
        Case(name: "all.pass-json", traces: ["supervisor", "request_reply", "timeout_race", "res_take"], faults: [], json: true),
        Case(name: "supervisor.link-died-returns-0", traces: ["supervisor"], faults: ["link-died-returns-0"], json: false),
        Case(name: "supervisor.link-died-returns-0-json", traces: ["supervisor"], faults: ["link-died-returns-0"], json: true),
        Case(name: "supervisor.duplicate-message", traces: ["supervisor"], faults: ["duplicate-message"], json: false),
        Case(name: "res_take.push-off-by-one", traces: ["res_take"], faults: ["push-off-by-one"], json: false),
        Case(name: "res_take.push-off-by-one-json", traces: ["res_take"], faults: ["push-off-by-one"], json: true),
        Case(name: "res_take.take-other-slot", traces: ["res_take"], faults: ["take-other-slot"], json: false),
        Case(name: "timeout_race.duplicate-message", traces: ["timeout_race"], faults: ["duplicate-message"], json: false),
        Case(name: "request_reply-1.0.pass", traces: ["request_reply-1.0"], faults: [], json: false),
        Case(
            name: "request_reply-1.0.skip-search-searches-queue", traces: ["request_reply-1.0"],
            faults: ["skip-search-searches-queue"], json: false),
    ]

    /// Runs the replay from the package root, so the trace names in the output are relative.
    static func output(_ c: Case) throws -> String {
        let conform = builtExecutablePath("luna-conform")
        let adapter = ([conform, "adapter"] + c.faults.flatMap { ["--fault", $0] }).joined(separator: " ")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: conform)
        p.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        p.arguments =
            ["replay"] + c.traces.map { "Tests/Golden/inputs/\($0).trace" } + ["--adapter", adapter]
            + (c.json ? ["--report", "json"] : [])
        let errURL = URL(fileURLWithPath: Scratch.path("luna-golden"))
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let stderr = try Data(contentsOf: errURL)
        let text =
            String(decoding: stdout, as: UTF8.self) + "---- exit \(p.terminationStatus); stderr:\n"
            + String(decoding: stderr, as: UTF8.self)
        return normalized(text, binary: conform)
    }

    static func normalized(_ text: String, binary: String) -> String {
        var t = text.replacingOccurrences(of: binary, with: "luna-conform")
        t = t.replacingOccurrences(of: #"after [0-9]+(\.[0-9]+)? ms"#, with: "after T ms", options: .regularExpression)
        return t
    }

    @Test("full output equals the golden file", arguments: cases)
    func matchesGolden(_ c: Case) async throws {
        let got = try await offPool { try Self.output(c) }
        let golden = URL(fileURLWithPath: packageRoot + "/Tests/Golden/luna-conform/\(c.name).txt")
        if ProcessInfo.processInfo.environment["LUNA_UPDATE_GOLDEN"] != nil {
            try got.write(to: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        guard got != expected else { return }
        let gotLines = got.split(separator: "\n", omittingEmptySubsequences: false)
        let wantLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let first =
            zip(gotLines, wantLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(gotLines.count, wantLines.count)
        Issue.record(
            """
            \(c.name): output differs from \(golden.path) at line \(first + 1)
              expected: \(first < wantLines.count ? String(wantLines[first]) : "<end of file>")
              got:      \(first < gotLines.count ? String(gotLines[first]) : "<end of output>")
            (LUNA_UPDATE_GOLDEN=1 swift test --filter GoldenTests regenerates the golden files)
            """)
    }
}
