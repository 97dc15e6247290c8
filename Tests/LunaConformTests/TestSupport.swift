import ConformanceKit
import Foundation
import LunaTestSupport
import TraceFormat

/// Paths and commands the tests share.
enum TestSupport {
    /// The package root.
    static var packageRoot: String { LunaTestSupport.packageRoot }

    /// The `luna-conform` executable of the build these tests belong to.
    static let lunaConform: String = builtExecutablePath("luna-conform")

    /// The Python adapter command.
    static var pythonAdapter: [String] { ["python3", packageRoot + "/adapters/python/luna_adapter.py"] }

    /// The built-in adapter command with faults.
    static func builtinAdapter(_ faults: [String] = []) -> [String] {
        [lunaConform, "adapter"] + faults.flatMap { ["--fault", $0] }
    }

    /// The scenario traces as in-memory sources (recorded once per test process).
    static let scenarios: [TraceSource] = ScenarioTraces.all().map { TraceSource.events($0.events, name: $0.name) }

    /// Replays `sources` with `command`.
    static func replay(_ sources: [TraceSource], _ command: [String], callTimeout: Double = 1) -> ConformanceReport {
        ConformanceRunner(adapter: .init(command: command), replay: .init(callTimeout: callTimeout, traceTimeout: 30))
            .run(sources)
    }

    /// Runs a program and returns (status, stdout, stderr).
    static func run(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
