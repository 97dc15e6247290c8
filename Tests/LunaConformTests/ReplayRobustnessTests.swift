import ConformanceKit
import Foundation
import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat

/// The replayer survives whatever a trace, an adapter or its output does, and replays
/// concurrent waits concurrently.
@Suite("Replay robustness: adapters, inputs, outputs, concurrency")
struct ReplayRobustnessTests {
    static func faulty(_ fault: String) -> [String] { DivergenceNamingTests.faulty(fault) }

    @Test("concurrent timeouts of 40 processes (3 s each) replay in about the recorded time")
    func concurrentTimeouts() async throws {
        let events = await offPool { ScenarioTraces.concurrentTimeouts(count: 40, timeoutMs: 3_000) }
        for command in [TestSupport.pythonAdapter, TestSupport.builtinAdapter()] {
            let started = MonotonicClock.now()
            let report = await offPool { TestSupport.replay([.events(events, name: "forty-waits")], command, callTimeout: 3) }
            let seconds = Double(MonotonicClock.now() - started) / 1e9
            #expect(report.allPassed, "\(report.text())")
            // One after another they cannot take less than 120 s; together about 3 s (9 s when a
            // late timeout on a loaded machine makes the runner replay twice more). Any time
            // below 120 s proves they overlapped; the margin is for a debug build on a loaded
            // machine, where the replay and the adapter get a fraction of a CPU.
            #expect(seconds < 120, "took \(seconds) s")
        }
    }

    /// 300 processes and two adapters load a 2-CPU machine for ~20 s, enough to upset the timing
    /// tests running beside it: run with LUNA_SLOW_TESTS=1 (the figure for the docs).
    @Test(
        "a ring of 300 processes with 5 s timeouts replays in about the recorded time and passes",
        .enabled(if: ProcessInfo.processInfo.environment["LUNA_SLOW_TESTS"] == "1"))
    func ringOf300() async throws {
        let recordStart = MonotonicClock.now()
        let events = await offPool { ScenarioTraces.concurrentTimeouts(count: 300, timeoutMs: 5_000) }
        let recorded = Double(MonotonicClock.now() - recordStart) / 1e9
        for (name, command) in [("python", TestSupport.pythonAdapter), ("built-in", TestSupport.builtinAdapter())] {
            let started = MonotonicClock.now()
            let report = await offPool {
                ConformanceRunner(adapter: .init(command: command), replay: .init(callTimeout: 3, traceTimeout: 60))
                    .run([.events(events, name: "ring-300")])
            }
            let seconds = Double(MonotonicClock.now() - started) / 1e9
            print(
                "ring of 300, 5 s timeouts: recorded in \(String(format: "%.1f", recorded)) s, replayed (\(name)) in \(String(format: "%.1f", seconds)) s"
            )
            #expect(report.allPassed, "\(report.text())")
            #expect(seconds < 30, "took \(seconds) s")  // one after another: 25 minutes
        }
    }

    @Test("a call that never answers is judged once: later events needing its process do not each wait again")
    func stuckCallIsWaitedForOnce() async throws {
        // With finite timeouts never firing, pid 1's skip-search call stays blocked in the
        // adapter, and every later request of pid 1 is queued behind it. Each event that needs
        // one of those answers (a delivery, an end reaching pid 1) used to wait a fresh budget,
        // until the whole trace ran out of time and was reported only as "adapter hung".
        let dir = (try CorpusSupport.manifest()).directory + "/corpus/"
        let report = await offPool {
            ConformanceRunner(
                adapter: .init(command: TestSupport.builtinAdapter(["ignore-timeout"])),
                replay: .init(callTimeout: 2, traceTimeout: 60)
            ).run([.file(dir + "timeout_race.trace")])
        }
        let outcome = try #require(report.outcomes.first)
        #expect(outcome.adapterFailure == nil, "\(report.text())")
        let first = try #require(outcome.firstCauses.first, "\(report.text())")
        #expect(first.category == .unexpectedMessage && first.rule == "R-RECV-4", "\(report.text())")
    }

    @Test("a send that could reach a waiting process is held until that wait timed out")
    func holdsMatchingSend() async {
        // Pid 2 waits 300 ms for tag 4 and times out; only then does pid 1 send it tag 4.
        let trace: [TraceEvent] = [
            ReplayDiffTests.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            ReplayDiffTests.ev(.spawn, 0, [2, 0, 0, 0], result: .value(0)),
            TraceEvent(kind: .receive, pid: 2, start: 10, end: 300_000_010, args: [300], tags: [4], result: .value(9027)),
            TraceEvent(kind: .createData, pid: 1, start: 300_000_020, end: 300_000_030, args: [4, 0], message: 1),
            TraceEvent(kind: .send, pid: 1, start: 300_000_040, end: 300_000_050, args: [2], message: 1, result: .value(0)),
            TraceEvent(
                kind: .receive, pid: 2, start: 300_000_060, end: 300_000_070, args: [-1], tags: [4], message: 1, result: .value(0)
            ),
        ]
        let report = await offPool {
            TestSupport.replay([.events(trace, name: "hold")], TestSupport.pythonAdapter, callTimeout: 3)
        }
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("a huge recorded write or read length (the call trapped) does not allocate it")
    func hugeLengths() async {
        let trace: [TraceEvent] = [
            ReplayDiffTests.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            ReplayDiffTests.ev(.createData, 1, [0, 0], msg: 1),
            ReplayDiffTests.ev(.writeData, 1, [4_294_967_000], result: .trap("lunatic::message::write_data")),
            ReplayDiffTests.ev(.exit, 1, [1]),
            ReplayDiffTests.ev(.spawn, 0, [2, 0, 0, 0], result: .value(0)),
            ReplayDiffTests.ev(.createData, 2, [0, 0], msg: 2),
            ReplayDiffTests.ev(.readData, 2, [4_294_967_000], result: .trap("lunatic::message::read_data")),
            ReplayDiffTests.ev(.exit, 2, [1]),
        ]
        for command in [TestSupport.pythonAdapter, TestSupport.builtinAdapter()] {
            let report = await offPool { TestSupport.replay([.events(trace, name: "huge")], command, callTimeout: 3) }
            #expect(report.outcomes.first?.adapterFailure == nil, "\(report.text())")
        }
    }

    @Test("a trace claiming more unrecorded bytes than the replay keeps is skipped, not replayed")
    func contentBudget() async {
        let trace: [TraceEvent] = [
            ReplayDiffTests.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            ReplayDiffTests.ev(.createData, 1, [0, 0], msg: 1),
            ReplayDiffTests.ev(.writeData, 1, [1 << 40], payload: .digest(size: 1 << 40, xxh64: 0), result: .value(1 << 40)),
        ]
        let report = await offPool { TestSupport.replay([.events(trace, name: "claims-a-terabyte")], TestSupport.pythonAdapter) }
        #expect(report.outcomes.first?.status == .skipped, "\(report.text())")
        #expect(report.outcomes.first?.note.contains("event #2") == true, "\(report.text())")
    }

    @Test("a recorded timeout past 1.8e13 ms does not overflow")
    func hugeTimeout() async {
        let trace: [TraceEvent] = [
            ReplayDiffTests.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            ReplayDiffTests.ev(.createData, 1, [0, 0], msg: 1),
            ReplayDiffTests.ev(.send, 1, [1], msg: 1, result: .value(0)),
            ReplayDiffTests.ev(.receive, 1, [20_000_000_000_000], msg: 1, result: .value(0)),
        ]
        let report = await offPool { TestSupport.replay([.events(trace, name: "huge-timeout")], TestSupport.pythonAdapter) }
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("--trace-timeout inf, a closed pipe and a full disk: no crash, clear error, non-zero exit")
    func outputFailures() async throws {
        let dir = EndToEndTests.traceDir
        let (status, out, err) = try TestSupport.run([TestSupport.lunaConform, "replay", dir, "--trace-timeout", "inf"])
        #expect(status == 0, "\(out)\n\(err)")
        let full = try TestSupport.run(["sh", "-c", "'\(TestSupport.lunaConform)' replay '\(dir)' > /dev/full"])
        #expect(full.0 == 1, "exit \(full.0): \(full.2)")
        #expect(full.2.contains("cannot write the report"), "\(full.2)")
        let piped = try TestSupport.run([
            "bash", "-c", "'\(TestSupport.lunaConform)' replay '\(dir)' | head -1; exit ${PIPESTATUS[0]}",
        ])
        #expect(piped.0 == 1, "exit \(piped.0): \(piped.2)")
        #expect(piped.2.contains("cannot write the report"), "\(piped.2)")
    }

    @Test("an answer to the same request twice is an adapter failure")
    func duplicateAnswer() async {
        let report = await offPool {
            TestSupport.replay([TestSupport.scenarios[0]], Self.faulty("duplicate-answer"), callTimeout: 3)
        }
        #expect(report.outcomes.first?.adapterFailure?.kind == .duplicateAnswer, "\(report.text())")
    }

    @Test("a stray answer is charged to the trace it came in, never the next one")
    func strayAnswer() async {
        let marker = Scratch.path("stray")
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let command = Self.faulty("stray-at-second-reset") + [marker]
        let report = await offPool { TestSupport.replay(Array(TestSupport.scenarios.prefix(2)), command, callTimeout: 3) }
        #expect(report.outcomes.count == 2)
        #expect(report.outcomes.first?.adapterFailure?.kind == .unknownID, "\(report.text())")
        #expect(report.outcomes.last?.status == .passed, "\(report.text())")
    }

    @Test("an adapter that hangs with only waiting calls left is reported hung and replaced")
    func hangWithWaits() async {
        let sources = [TestSupport.scenarios.first { $0.name == "selective-receive" }!, TestSupport.scenarios[0]]
        let report = await offPool { TestSupport.replay(sources, Self.faulty("hang-after-park"), callTimeout: 1) }
        #expect(report.outcomes.first?.adapterFailure?.kind == .hung, "\(report.text())")
        #expect(report.outcomes.first?.divergences.isEmpty == true, "\(report.text())")
        #expect(report.outcomes.last?.adapterFailure?.message.contains("no answer to reset") != true, "\(report.text())")
    }

    @Test("a 50 MB line is reported as an over-long line")
    func overlongLine() async {
        let report = await offPool {
            TestSupport.replay([TestSupport.scenarios[0]], Self.faulty("overlong-line"), callTimeout: 3)
        }
        #expect(report.outcomes.first?.adapterFailure?.kind == .overlongLine, "\(report.text())")
    }
}

/// Adapters live in their own process group and end with luna-conform.
@Suite("Adapter processes end with luna-conform")
struct AdapterLifetimeTests {
    static func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    static func adapterPid(_ file: String) -> Int32? {
        (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    @Test("an adapter that ignores end of input is ended when luna-conform is terminated")
    func endedWithLunaConform() async throws {
        let dir = Scratch.path("lifetime")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A trace that waits long enough for luna-conform to be terminated during it.
        let trace: [TraceEvent] = [
            ReplayDiffTests.ev(.spawn, 0, [1, 0, 0, 0], result: .value(0)),
            ReplayDiffTests.ev(.receive, 1, [30_000], result: .value(9027)),
        ]
        let writer = try TraceWriter(path: dir + "/wait.trace", header: TraceHeader(producer: "luna-conform tests"))
        for e in trace { writer.record(e) }
        _ = try writer.close()
        let pidFile = dir + "/adapter.pid"
        let adapter = (DivergenceNamingTests.faulty("ignore-eof") + [pidFile]).joined(separator: " ")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.lunaConform)
        p.arguments = ["replay", dir + "/wait.trace", "--adapter", adapter]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var pid: Int32? = nil
        for _ in 0..<200 where pid == nil {
            usleep(50_000)
            pid = Self.adapterPid(pidFile)
        }
        let adapterPid = try #require(pid, "the adapter never started")
        usleep(300_000)
        #expect(Self.alive(adapterPid))
        p.terminate()  // SIGTERM
        p.waitUntilExit()
        var gone = false
        for _ in 0..<100 where !gone {
            usleep(50_000)
            gone = !Self.alive(adapterPid)
        }
        if !gone { kill(adapterPid, SIGKILL) }
        #expect(gone, "the adapter outlived luna-conform")
    }
}
