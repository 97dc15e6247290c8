import Foundation
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// Runs the built `luna-trace` executable on traces recorded from LunaRuntime and checks what
/// it prints.
@Suite("luna-trace end to end (the built binary)")
struct EndToEndTests {
    @Test("record runs a guest, says where the trace went; lost finds the planted lost messages (R-SEND-2, R-PROC-7)")
    func recordAndLost() throws {
        let dir = try TraceFixtures.directory()
        let guest = dir.appendingPathComponent("planted.wat")
        try RuntimeTraces.plantedLossWAT.write(to: guest, atomically: true, encoding: .utf8)
        let trace = dir.appendingPathComponent("planted.trace")
        let record = try TraceFixtures.runBinary(["record", guest.path, "--entry", "main", "-o", trace.path])
        #expect(record.code == 0, "\(record.err)")
        #expect(record.err.contains("trace written to \(trace.path): "))
        let count = try #require(VerifyTests.number(after: "trace written to \(trace.path): ", in: record.err))
        #expect(count > 5)

        let verify = try TraceFixtures.runBinary(["verify", trace.path])
        #expect(verify.code == 0)
        #expect(verify.out.contains("ok: complete, \(count) events"))

        let lost = try TraceFixtures.runBinary(["lost", trace.path])
        #expect(lost.code == 1)
        #expect(lost.out.contains("lost message: 2"))
        #expect(lost.out.contains("sent by pid 1 to pid 999"))
        #expect(lost.out.contains("pid 999 never existed"))
        // The sink returns after 20 ms without asking for tag 2: the message was queued when it ended.
        #expect(lost.out.contains("tag 2, 5 B sent by pid 1 to pid 2"))
        #expect(lost.out.contains("receiver exited with it still queued") || lost.out.contains("receiver dead"))
    }

    /// A guest whose `_start` exits with status 3, written to `dir`.
    static func exitGuest(in dir: URL) throws -> URL {
        let guest = dir.appendingPathComponent("exit3.wat")
        try """
        (module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start") (call $exit (i32.const 3))))
        """.write(to: guest, atomically: true, encoding: .utf8)
        return guest
    }

    @Test("record exits with the guest's status and rejects a missing entry")
    func recordStatus() throws {
        let dir = try TraceFixtures.directory()
        let guest = try Self.exitGuest(in: dir)
        let trace = dir.appendingPathComponent("exit3.trace")
        let r = try TraceFixtures.runBinary(["record", guest.path, "-o", trace.path])
        #expect(r.code == 3, "\(r.err)")
        #expect(r.err.contains("proc_exit(3)"))
        let missing = try TraceFixtures.runBinary(["record", guest.path, "--entry", "nope", "-o", trace.path])
        #expect(missing.code == 66)
        #expect(missing.err.contains("no exported function 'nope'"))
    }

    @Test("record and run pass --param values to the entry, typed by its signature, and reject ones that do not fit")
    func entryParameters() throws {
        let dir = try TraceFixtures.directory()
        let guest = dir.appendingPathComponent("params.wat")
        // Exits with a + low(b) + the vector's first byte: the status shows what arrived.
        try """
        (module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "sum") (param $a i32) (param $b i64) (param $v v128)
            (call $exit (i32.add (i32.add (local.get $a) (i32.wrap_i64 (local.get $b)))
                                 (i8x16.extract_lane_u 0 (local.get $v))))))
        """.write(to: guest, atomically: true, encoding: .utf8)
        let trace = dir.appendingPathComponent("params.trace")
        let ok = TraceFixtures.run([
            "record", guest.path, "--entry", "sum", "--param", "3", "--param", "0x10", "--param", "0x0102", "-o", trace.path,
        ])
        #expect(ok.code == 3 + 16 + 2, "\(ok.err)")
        let reader = try TraceReader(path: trace.path)
        #expect(reader.header.metadata["params"] == "3 0x10 0x0102")
        let run = TraceFixtures.run(["run", "--entry", "sum", "--param=-1", "--param", "5", "--param", "0x1", guest.path])
        #expect(run.code == 5, "\(run.err)")

        let few = TraceFixtures.run(["record", guest.path, "--entry", "sum", "--param", "3", "-o", trace.path])
        #expect(few.code == 64)
        #expect(few.err.contains("entry 'sum' takes (i32, i64, v128); 1 --param value given"), "\(few.err)")
        let wide = TraceFixtures.run([
            "run", "--entry", "sum", "--param", "4294967296", "--param", "0", "--param", "0x0", guest.path,
        ])
        #expect(wide.code == 64)
        #expect(wide.err.contains("--param 4294967296 is not a valid i32 (parameter 1 of 'sum' (i32, i64, v128))"), "\(wide.err)")
        let vector = TraceFixtures.run([
            "run", "--entry", "sum", "--param", "0", "--param", "0", "--param", "0x" + String(repeating: "1", count: 33),
            guest.path,
        ])
        #expect(vector.code == 64)
    }

    @Test("--trace-format 1.3 writes a trace a 1.x reader reads, with the same events as the 2.0 default")
    func traceFormatChoice() throws {
        let dir = try TraceFixtures.directory()
        let guest = try Self.exitGuest(in: dir)
        var kinds: [String: [String]] = [:]
        for (format, major) in [("1.3", 1), ("2.0", 2), (nil, 2)] as [(String?, UInt16)] {
            let trace = dir.appendingPathComponent("exit-\(format ?? "default").trace")
            let options = format.map { ["--trace-format", $0] } ?? []
            let r = TraceFixtures.run(["record", guest.path, "-o", trace.path] + options)
            #expect(r.code == 3, "\(r.err)")
            let reader = try TraceReader(path: trace.path)
            #expect(reader.header.formatMajor == major, "\(format ?? "default")")
            let verify = TraceFixtures.run(["verify", trace.path])
            #expect(verify.code == 0 && verify.out.contains("format: \(format ?? "2.0")"), "\(verify.out)")
            kinds[format ?? "default"] = reader.events().map(\.kind.name)
        }
        #expect(kinds["1.3"] == kinds["2.0"] && kinds["2.0"] == kinds["default"] && !(kinds["2.0"] ?? []).isEmpty)
        let bad = TraceFixtures.run([
            "record", guest.path, "-o", dir.appendingPathComponent("x.trace").path, "--trace-format", "1.2",
        ])
        #expect(bad.code == 64, "\(bad.err)")
    }

    @Test("flow follows a message that carried a resource between runtime processes (R-RES-2, R-RES-5)")
    func flowWithResource() async throws {
        let dir = try TraceFixtures.directory()
        let trace = dir.appendingPathComponent("handover.trace")
        let (sender, receiver) = try await RuntimeTraces.resourceHandover(to: trace)
        // Find the message id from the trace itself.
        let shown = try TraceFixtures.runBinary(["show", trace.path, "--kind", "send", "--format", "jsonl"])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(shown.out.split(separator: "\n")[0].utf8)) as? [String: Any])
        let message = try #require(object["message"] as? Int)
        let r = try TraceFixtures.runBinary(["flow", trace.path, "--message", String(message)])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.contains("message #\(message)  tag 5"))
        #expect(r.out.contains("created by pid \(sender) (sender)"))
        #expect(r.out.contains("wrote 5 B in 1 write_data call(s)"))
        #expect(r.out.contains("pushed module id 0 from pid \(sender) (sender) into slot 0"))
        #expect(r.out.contains("sent by pid \(sender) (sender) to pid \(receiver) (receiver) with send"))
        #expect(r.out.contains("received by pid \(receiver) (receiver) via receive (tag set [5])"))
        #expect(r.out.contains("read 5 B in 1 read_data call(s)"))
        #expect(r.out.contains("pid \(receiver) (receiver) took slot 0 as module id 0"))
        let lost = try TraceFixtures.runBinary(["lost", trace.path])
        #expect(lost.code == 0, "\(lost.out)")
    }

    @Test("export: the Chrome JSON parses with matched flow pairs; the Mermaid text has the arrows")
    func export() async throws {
        let dir = try TraceFixtures.directory()
        let trace = dir.appendingPathComponent("handover.trace")
        let (sender, receiver) = try await RuntimeTraces.resourceHandover(to: trace)
        let chrome = try TraceFixtures.runBinary(["export", trace.path, "--format", "chrome"])
        #expect(chrome.code == 0)
        let (_, flows) = try checkChromeDocument(chrome.out)
        #expect(flows.count == 1)
        #expect(flows.first?.from == Int(sender) && flows.first?.to == Int(receiver))

        let mermaid = try TraceFixtures.runBinary(["export", trace.path, "--format", "mermaid"])
        #expect(mermaid.code == 0)
        #expect(mermaid.out.hasPrefix("sequenceDiagram\n"))
        #expect(mermaid.out.contains("P\(sender)->>P\(receiver): m"))
        #expect(mermaid.out.contains("tag 5 5B +1 res"))
        #expect(mermaid.out.contains("Note over P\(receiver): received m"))
    }

    @Test("verify on a recorded trace cut in half reports the recovered prefix; stdin works with '-'")
    func verifyCut() throws {
        let dir = try TraceFixtures.directory()
        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "a")
        s.spawn(parent: 0, child: 2, entry: "b")
        for _ in 0..<3000 {
            let m = s.create(1, tag: 1)
            s.write(1, Array(repeating: 1, count: 20))
            s.send(1, to: 2)
            s.receive(2, m, waitMs: 0.01)
        }
        let full = dir.appendingPathComponent("full.trace")
        let summary = try TraceFixtures.write(s.events, to: full, eventsPerBlock: 500)
        let bytes = try Data(contentsOf: full)
        let half = dir.appendingPathComponent("half.trace")
        try bytes.prefix(bytes.count / 2).write(to: half)
        let r = try TraceFixtures.runBinary(["verify", "-"], stdin: half)
        #expect(r.code == 1)
        let recovered = try #require(VerifyTests.number(after: "recovered: ", in: r.out))
        #expect(recovered > 0 && recovered < summary.eventCount && recovered % 500 == 0)
        #expect(r.out.contains("last good offset: "))
        let shown = try TraceFixtures.runBinary(["show", half.path])
        #expect(shown.out.split(separator: "\n").count == Int(recovered))
        #expect(shown.err.contains(half.path))
    }
}
