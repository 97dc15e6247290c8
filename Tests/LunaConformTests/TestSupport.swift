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

    /// The `luna-conform` executable of the build these tests belong to (next to the test
    /// bundle: .build/debug for `swift test`, .build/release for `swift test -c release`), never
    /// one of another configuration, which may be stale.
    static let lunaConform: String = builtExecutable("luna-conform")

    /// Executable `name` in the test bundle's build directory; the expected path when missing,
    /// so that running it fails naming the file.
    static func builtExecutable(_ name: String) -> String {
        var directories: [URL] = []
        if let exe = Bundle.main.executableURL { directories.append(exe.deletingLastPathComponent()) }
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        // swift-testing on Linux may run from inside the .xctest directory.
        directories += directories.map { $0.deletingLastPathComponent() }
        let paths = directories.map { $0.appendingPathComponent(name).path }
        return paths.first { FileManager.default.isExecutableFile(atPath: $0) } ?? paths[0]
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
