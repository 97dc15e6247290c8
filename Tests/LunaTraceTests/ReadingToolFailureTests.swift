import Foundation
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// The reading tools on summaries that lie, outputs that cannot be written and inputs that
/// cannot be read: a clear error and a non-zero status, never a crash, a false "ok" or a
/// half-written file.
@Suite("reading tools: lying summaries, unwritable outputs, unreadable inputs")
struct ReadingToolFailureTests {
    /// A small closed trace in a fresh directory.
    static func trace() throws -> (URL, URL) {
        let dir = try TraceFixtures.directory()
        let url = dir.appendingPathComponent("t.trace")
        try TraceFixtures.write(Postmortem.events(), to: url)
        return (dir, url)
    }

    /// Rewrites one u64 field of the closing summary (0 events, 1 blocks, 2 raw bytes, 3 file
    /// bytes, 4 last end) and its check, so the frame itself is valid.
    static func rewriteSummary(_ url: URL, field: Int, value: UInt64) throws {
        var bytes = [UInt8](try Data(contentsOf: url))
        let content = bytes.count - 52
        for i in 0..<8 { bytes[content + field * 8 + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        let check = UInt32(truncatingIfNeeded: XXH64.hash(bytes[content..<(content + 48)]))
        for i in 0..<4 { bytes[content + 48 + i] = UInt8(truncatingIfNeeded: check >> (8 * UInt32(i))) }
        try Data(bytes).write(to: url)
    }

    @Test("verify reports a summary claiming 2^64-1 file bytes (no crash)")
    func hugeFileSize() throws {
        let (_, url) = try Self.trace()
        try Self.rewriteSummary(url, field: 3, value: .max)
        let r = TraceFixtures.run(["verify", url.path])
        #expect(r.code == 1)
        #expect(!r.out.contains("ok:"))
        #expect(r.out.contains("says the file has 18446744073709551615 bytes"), "\(r.out)")
    }

    @Test("verify reports wrong raw sizes and a wrong last end time", arguments: [2, 4])
    func wrongFields(field: Int) throws {
        let (_, url) = try Self.trace()
        try Self.rewriteSummary(url, field: field, value: 12_345_678_901)
        let r = TraceFixtures.run(["verify", url.path])
        #expect(r.code == 1)
        #expect(!r.out.contains("ok:"), "\(r.out)")
        #expect(r.out.contains("damaged: the closing summary"))
        #expect(r.out.contains("12345678901"))
    }

    @Test("verify still says ok for an untouched trace")
    func intact() throws {
        let (_, url) = try Self.trace()
        let r = TraceFixtures.run(["verify", url.path])
        #expect(r.code == 0, "\(r.out)")
        #expect(r.out.contains("ok: complete"))
    }

    @Test(
        "show, verify, stats and lost fail clearly when standard output cannot be written",
        arguments: ["show", "verify", "stats", "lost"])
    func fullDisk(command: String) throws {
        let (_, url) = try Self.trace()
        let fd = open("/dev/full", O_WRONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let err = StringOutput()
        let code = LunaTraceCommand.invoke(
            [command, url.path],
            io: CommandIO(out: FileDescriptorOutput(fd: fd), err: err))
        #expect(code == TraceExitCode.writeFailed, "\(err.text)")
        #expect(err.text.contains("cannot write standard output"))
    }

    @Test("the built binary exits non-zero writing to /dev/full")
    func fullDiskBinary() throws {
        guard let binary = TraceFixtures.binary else { return }
        let (_, url) = try Self.trace()
        let p = Process()
        p.executableURL = binary
        p.arguments = ["show", url.path]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == TraceExitCode.writeFailed)
        #expect(text.contains("cannot write standard output"))
    }

    @Test("export of an unreadable input leaves no output file")
    func exportUnreadable() throws {
        let dir = try TraceFixtures.directory()
        let bad = dir.appendingPathComponent("bad.trace")
        try Data("not a trace at all".utf8).write(to: bad)
        let out = dir.appendingPathComponent("out.json")
        for input in [bad.path, dir.appendingPathComponent("missing.trace").path] {
            let r = TraceFixtures.run(["export", input, "--format", "chrome", "-o", out.path])
            #expect(r.code == TraceExitCode.unreadable)
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["bad.trace"])
    }

    @Test("export of a cut input writes a complete JSON document of the recovered events")
    func exportCut() throws {
        let (dir, url) = try Self.trace()
        let bytes = try Data(contentsOf: url)
        let cut = dir.appendingPathComponent("cut.trace")
        try bytes.prefix(bytes.count - 30).write(to: cut)
        let out = dir.appendingPathComponent("out.json")
        let r = TraceFixtures.run(["export", cut.path, "--format", "chrome", "-o", out.path])
        #expect(r.code == 0, "\(r.err)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out))
        #expect(json is [String: Any] || json is [Any])
    }
}
