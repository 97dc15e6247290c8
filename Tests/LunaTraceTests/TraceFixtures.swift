import Foundation
import LunaTestSupport
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// What a command printed and how it exited.
struct CommandResult {
    var out: String
    var err: String
    var code: Int32
}

/// Trace files for the tests, and two ways to run commands on them.
enum TraceFixtures {
    /// A fresh directory in the process's scratch directory (removed when the tests end).
    static func directory() throws -> URL {
        try Scratch.makeDirectory("luna-trace-tests")
    }

    /// Writes `events` as a trace file with TraceWriter.
    @discardableResult
    static func write(_ events: [TraceEvent], to url: URL, eventsPerBlock: Int = 16_384) throws -> TraceSummary {
        let writer = try TraceWriter(
            path: url.path, header: TraceHeader(producer: "luna-trace tests", metadata: ["test": "yes"]),
            options: TraceWriter.Options(eventsPerBlock: eventsPerBlock))
        for e in events { writer.record(e) }
        return try writer.close()
    }

    /// The postmortem scenario written to a file in `dir`.
    static func postmortem(in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("postmortem.trace")
        try write(Postmortem.events(), to: url)
        return url
    }

    /// Runs `luna-trace ARGS` in process, capturing its output; `stdin` is the file read for `-`.
    static func run(_ arguments: [String], stdin: URL? = nil) -> CommandResult {
        let out = StringOutput(), err = StringOutput()
        var fd: Int32 = -1
        if let stdin { fd = open(stdin.path, O_RDONLY) }
        defer { if fd >= 0 { close(fd) } }
        let code = LunaTraceCommand.invoke(arguments, io: CommandIO(out: out, err: err, standardInput: fd >= 0 ? fd : 0))
        return CommandResult(out: out.text, err: err.text, code: code)
    }

    /// The built `luna-trace` executable, next to the test bundle.
    static var binary: URL? { builtExecutable("luna-trace").map(URL.init(fileURLWithPath:)) }

    /// Runs the built binary with `arguments`, optionally feeding `stdin`.
    static func runBinary(_ arguments: [String], stdin: URL? = nil) throws -> CommandResult {
        guard let binary else {
            throw FixtureError(
                "luna-trace executable not found next to the test bundle (\(Bundle.main.bundleURL.path)); run `swift build` first"
            )
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        // stdout through a pipe, read to the end; stderr into a file (it is small).
        let outPipe = Pipe()
        let errURL = URL(fileURLWithPath: Scratch.path("luna-trace-stderr"))
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? FileManager.default.removeItem(at: errURL) }
        process.standardOutput = outPipe
        process.standardError = errHandle
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
        try process.run()
        let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errHandle.close()
        let errData = try Data(contentsOf: errURL)
        return CommandResult(
            out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self),
            code: process.terminationStatus)
    }
}

/// A test setup problem.
struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
