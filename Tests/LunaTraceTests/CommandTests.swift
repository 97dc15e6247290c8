import Foundation
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

@Suite("luna-trace commands, in process")
struct CommandTests {
    @Test("show prints one line per event with named arguments, and filters by pid and kind")
    func showFilters() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let all = TraceFixtures.run(["show", file])
        #expect(all.code == 0)
        #expect(all.out.split(separator: "\n").count == Postmortem.events().count)
        #expect(all.out.contains("pid 1  create_data(tag=7, capacity=64)  msg=#1 tag=7"))
        #expect(all.out.contains("send(pid=9)  msg=#4 tag=3  → 0"))

        let receives = TraceFixtures.run(["show", file, "--pid", "2", "--kind", "receive"])
        let lines = receives.out.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.contains("pid 2  receive(timeout=") })
        #expect(receives.out.contains("→ 9027 (timeout)"))
    }

    @Test("show --message follows data calls made on the message in a scratch area")
    func showMessage() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["show", file, "--message", "1"])
        #expect(r.code == 0)
        let calls = r.out.split(separator: "\n").map { line in
            line.split(separator: " ", omittingEmptySubsequences: true)[3].prefix { $0 != "(" }
        }
        #expect(
            calls == [
                "create_data", "write_data", "push_tcp_stream", "push_module", "send", "receive",
                "read_data", "take_tcp_stream", "resource_dropped",
            ])
    }

    @Test("show --tag, --from/--to and --format jsonl")
    func showTagTimeJSON() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let tagged = TraceFixtures.run(["show", file, "--tag", "9"])
        #expect(tagged.out.contains("receive(timeout=10)  tags=[9]"))
        #expect(tagged.out.contains("create_data(tag=9"))
        let window = TraceFixtures.run(["show", file, "--from", "15ms", "--to", "0.0185"])
        for line in window.out.split(separator: "\n") {
            let t = Double(line.split(separator: " ")[0].dropLast())!
            #expect(t >= 0.015 && t <= 0.0185)
        }
        let jsonl = TraceFixtures.run(["show", file, "--format", "jsonl", "--kind", "message"])
        #expect(jsonl.code == 0)
        let lines = jsonl.out.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["pid"] != nil)
        }
    }

    @Test("show rejects an unknown kind with a usage error")
    func showUnknownKind() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["show", file, "--kind", "recieve"])
        #expect(r.code == 64)
        #expect(r.err.contains("unknown event kind 'recieve'"))
    }

    @Test("stats reads standard input with '-'")
    func statsFromStdin() throws {
        let dir = try TraceFixtures.directory()
        let url = try TraceFixtures.postmortem(in: dir)
        let r = TraceFixtures.run(["stats", "-"], stdin: url)
        #expect(r.code == 0)
        #expect(r.out.contains("events: \(Postmortem.events().count)"))
        #expect(r.out.contains("p50 2.00ms"))
        #expect(r.out.contains("process ends: normal 2, failure 1"))
    }

    @Test("flow tells the life of a message that carried resources (R-RES-2, R-RES-5)")
    func flowWithResource() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["flow", file, "--message", "1"])
        #expect(r.code == 0)
        #expect(r.out.hasPrefix("message #1  tag 7\n"))
        #expect(r.out.contains("created by pid 1 (main) (capacity hint 64)"))
        #expect(r.out.contains("wrote 12 B in 1 write_data call(s)"))
        #expect(r.out.contains("pushed tcp_stream id 4 from pid 1 (main) into slot 0"))
        #expect(r.out.contains("pushed module id 0 from pid 1 (main) into slot 1"))
        #expect(r.out.contains("sent by pid 1 (main) to pid 2 (worker) with send"))
        #expect(r.out.contains("received by pid 2 (worker) via receive (tag set [7]) after waiting 2.00ms"))
        #expect(r.out.contains("read 12 B in 1 read_data call(s)"))
        #expect(r.out.contains("pid 2 (worker) took slot 0 as tcp_stream id 0"))
        #expect(r.out.contains("resource in slot 1 (module) dropped with the message, never taken"))
    }

    @Test("flow of a dropped message says where and why; unknown ids exit 1")
    func flowDroppedAndMissing() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["flow", file, "--message", "4"])
        #expect(r.out.contains("sent by pid 1 (main) to pid 9 with send — no such process"))
        #expect(r.out.contains("dropped at pid 1 (main): receiver_missing"))
        let missing = TraceFixtures.run(["flow", file, "--message", "99"])
        #expect(missing.code == 1)
        #expect(missing.err.contains("no message #99"))
        let byPid = TraceFixtures.run(["flow", file, "--pid", "3"])
        #expect(byPid.out.contains("message #5"))
        #expect(byPid.out.contains("receiver had already ended (normal)"))
    }

    @Test("lost exits 1 and lists each planted problem; a clean trace exits 0")
    func lost() throws {
        let dir = try TraceFixtures.directory()
        let file = try TraceFixtures.postmortem(in: dir).path
        let r = TraceFixtures.run(["lost", file])
        #expect(r.code == 1)
        #expect(r.out.contains("lost message: 4"))
        #expect(r.out.contains("near miss: 1"))
        #expect(r.out.contains("resource dropped untaken: 1"))
        #expect(r.out.contains("died with queued messages: 1"))
        // The arrival came 3 ms after the timeout: outside a 1 ms window.
        let narrow = TraceFixtures.run(["lost", file, "--near-miss", "1ms"])
        #expect(!narrow.out.contains("near miss"))
        #expect(narrow.code == 1)

        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "a")
        s.exit(1, .normal)
        let clean = dir.appendingPathComponent("clean.trace")
        try TraceFixtures.write(s.events, to: clean)
        let ok = TraceFixtures.run(["lost", clean.path])
        #expect(ok.code == 0)
        #expect(ok.out.contains("no lost messages"))
    }

    @Test("a missing file is an error on stderr naming the file, exit 2")
    func missingFile() {
        let r = TraceFixtures.run(["stats", "/nonexistent/trace.trace"])
        #expect(r.code == 2)
        #expect(r.err.contains("/nonexistent/trace.trace"))
        #expect(r.out.isEmpty)
    }

    @Test("every command documents its exit codes in --help")
    func helpHasExitCodes() {
        for command in ["show", "stats", "flow", "lost", "export", "verify"] {
            let r = TraceFixtures.run([command, "--help"])
            #expect(r.code == 0)
            #expect((r.out + r.err).contains("Exit codes"), "\(command) --help")
        }
    }
}
