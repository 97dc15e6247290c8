import ConformanceKit
import Foundation
import TraceFormat

/// Paths and commands the tests share.
enum TestSupport {
    /// The package root (…/Tests/LunaConformTests/TestSupport.swift → …).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built `luna-conform` executable next to the test bundle.
    static var lunaConform: String {
        let candidates = [packageRoot + "/.build/debug/luna-conform", packageRoot + "/.build/release/luna-conform"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

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

    /// Runs `body` on a thread of its own and awaits it, so that a long blocking recording or
    /// replay does not hold one of the few threads that every other test's tasks share.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            Thread { c.resume(returning: body()) }.start()
        }
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
