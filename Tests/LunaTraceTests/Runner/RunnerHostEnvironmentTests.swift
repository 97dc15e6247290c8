import Foundation
import Testing

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// `luna-trace run` and `test` give the program the host's environment variables, the current
/// directory preopened as "." and each `--dir`, as lunatic's CLI did (traces/guests/ns_wasi.c,
/// through the built binary, run in a scratch directory).
@Suite("luna-trace run and test: host environment and preopened directories")
struct RunnerHostEnvironmentTests {
    static var guest: String { RunnerGuests.path("ns_wasi.wasm") }

    /// Runs the built binary in `directory` with `LUNA_TEST_VAR=42` added to the environment.
    static func run(_ arguments: [String], in directory: URL) throws -> CommandResult {
        guard let binary = TraceFixtures.binary else { throw FixtureError("luna-trace executable not found; run `swift build`") }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(["LUNA_TEST_VAR": "42"]) { $1 }
        let out = directory.appendingPathComponent("stdout.txt"), err = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return CommandResult(
            out: try String(contentsOf: out, encoding: .utf8), err: try String(contentsOf: err, encoding: .utf8),
            code: process.terminationStatus)
    }

    /// A scratch directory holding hello.txt ("hello\n") and a subdirectory `extra`.
    static func scratch() throws -> URL {
        let dir = try TraceFixtures.directory()
        try "hello\n".write(to: dir.appendingPathComponent("hello.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("extra"), withIntermediateDirectories: true)
        return dir
    }

    @Test("run: host variables, '.' always preopened, --dir added after it; a file of the current directory reads")
    func run() throws {
        let dir = try Self.scratch()
        let shown = try Self.run(["run", "--dir", "extra", "--entry", "print_wasi", Self.guest, "one"], in: dir)
        #expect(shown.code == 0, "\(shown.err)")
        let lines = shown.out.split(separator: "\n")
        #expect(lines.prefix(2) == ["arg ns_wasi.wasm", "arg one"])
        #expect(lines.contains("env LUNA_TEST_VAR=42"))
        #expect(lines.suffix(3) == ["preopen .", "preopen extra", "end"])

        let cat = try Self.run(["run", "--entry", "cat_main", Self.guest, "hello.txt"], in: dir)
        #expect(cat.code == 0, "\(cat.err)")
        #expect(cat.out == "hello\n")
        // Outside the preopened directories nothing opens (WASI's sandbox).
        let outside = try Self.run(
            ["run", "--entry", "cat_main", Self.guest, "../hello.txt"], in: dir.appendingPathComponent("extra"))
        #expect(outside.code == 3)
        #expect(outside.out.hasPrefix("open failed: errno "))
    }

    @Test("run and test: a --dir that is not a directory is refused with 64, naming it")
    func badDirectory() throws {
        let dir = try Self.scratch()
        for command in ["run", "test"] {
            let r = try Self.run([command, "--dir", "missing-dir", Self.guest], in: dir)
            #expect(r.code == 64)
            #expect(r.err.contains("--dir missing-dir"), "\(r.err)")
        }
    }

    @Test("test: each test sees the host's variables and reads the current directory")
    func test() throws {
        let dir = try Self.scratch()
        let r = try Self.run(["test", Self.guest], in: dir)
        #expect(r.code == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("test sees_host_environment ... ok"))
        #expect(r.out.contains("test reads_file_in_current_directory ... ok"))
        #expect(r.out.contains("test result: ok. 2 passed; 0 failed;"))
    }
}
