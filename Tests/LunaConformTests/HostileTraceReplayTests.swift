import Foundation
import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat

/// Replay of traces nobody recorded: corpus traces whose events carry extreme values (recorded
/// lengths, sizes, capacities, pids, message ids, timeouts, tags), cut to at most 4 KB. Whatever
/// the trace says, `luna-conform replay` must end every trace with a report (pass, divergence or
/// a clear error), never crash, and keep its memory bounded by the trace rather than by the
/// lengths the trace claims.
@Suite struct HostileTraceReplayTests {
    /// The replay's peak memory allowed for any of these traces (luna-conform and its adapter,
    /// each measured as its own process tree).
    static let memoryLimitBytes = 100 * 1024 * 1024

    @Test("200 mutated 4 KB traces: every replay ends with a report, peak memory ≤ 100 MB")
    func hostileTracesReplayInBoundedMemory() async throws {
        let binary = builtExecutablePath("luna-conform")
        let dir = NSTemporaryDirectory() + "luna-hostile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // LUNA_HOSTILE_SEED=N explores another set; a failure names the directory of its traces.
        let seed = ProcessInfo.processInfo.environment["LUNA_HOSTILE_SEED"].flatMap { UInt64($0) } ?? 0x4B_1D_5EED
        let written = try await offPool { try Self.writeHostileTraces(count: 200, seed: seed, into: dir) }
        #expect(written == 200)

        let run = try await offPool {
            try Self.runMeasured([
                binary, "replay", dir, "--report", "json", "--trace-timeout", "4",
                "--timeout", "1", "--allow-incomplete", "--output", dir + "/report.json",
            ])
        }
        // 0 = all passed, 1 = some diverged; anything else (a signal, 2+) is a crash or a usage error.
        #expect(run.status == 0 || run.status == 1, "luna-conform ended with \(run.status) (seed \(seed)); traces kept in \(dir)")
        #expect(
            run.peakBytes <= Self.memoryLimitBytes,
            "peak RSS \(run.peakBytes / 1_048_576) MiB > 100 MiB; traces kept in \(dir)")
        let report = try String(contentsOfFile: dir + "/report.json", encoding: .utf8)
        let outcomes = report.components(separatedBy: "\"status\":").count - 1
        #expect(outcomes == 200, "the report covers \(outcomes) of 200 traces")
        if run.status <= 1 && run.peakBytes <= Self.memoryLimitBytes { try? FileManager.default.removeItem(atPath: dir) }
    }

    // MARK: generation

    /// Writes `count` traces into `dir`: each a corpus trace's events with a few fields set to
    /// extreme values, cut so the file stays within 4 KB. Returns how many were written.
    static func writeHostileTraces(count: Int, seed: UInt64, into dir: String) throws -> Int {
        let corpus = TestSupport.packageRoot + "/traces/corpus"
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".trace") }.sorted()
        var sources: [[TraceEvent]] = []
        for file in files {
            let reader = try TraceReader(path: corpus + "/" + file)
            var events: [TraceEvent] = []
            while let e = try reader.next(), events.count < 400 { events.append(e) }
            if !events.isEmpty { sources.append(events) }
        }
        var rng = SplitMix(seed: seed)
        var written = 0
        for i in 0..<count {
            var events = sources[Int(rng.next() % UInt64(sources.count))]
            for _ in 0..<(1 + Int(rng.next() % 6)) {
                let at = Int(rng.next() % UInt64(events.count))
                mutate(&events[at], &rng)
            }
            var keep = events.count
            while true {
                let path = dir + "/hostile-\(String(format: "%03d", i)).trace"
                let writer = try TraceWriter(path: path, header: TraceHeader(producer: "HostileTraceReplayTests"))
                for e in events.prefix(keep) { writer.record(e) }
                let size = try writer.close().fileBytes
                if size <= 4096 || keep <= 1 { break }
                keep = max(1, keep * 3 / 4)
            }
            written += 1
        }
        return written
    }

    /// Sets one field of `e` to an extreme value.
    static func mutate(_ e: inout TraceEvent, _ rng: inout SplitMix) {
        let extremes: [Int64] = [-1, 0, 1, 2, .max, .min, Int64(Int32.max), Int64(UInt32.max), 1 << 40, -(1 << 40), 9027]
        let value = extremes[Int(rng.next() % UInt64(extremes.count))]
        switch rng.next() % 7 {
        case 0, 1:
            guard !e.args.isEmpty else { fallthrough }
            var args = Array(e.args)
            args[Int(rng.next() % UInt64(args.count))] = value
            e.args = EventArguments(args)
        case 2: e.pid = ProcessID(truncatingIfNeeded: value)
        case 3: e.message = MessageID(truncatingIfNeeded: value)
        case 4: e.result = .value(value)
        case 5: e.tags = Array(repeating: value, count: Int(rng.next() % 40))
        default: e.end = e.start &+ UInt64(truncatingIfNeeded: value)
        }
    }

    // MARK: measuring

    /// Runs `argv` and returns its exit status (128 + N for signal N) and the peak resident
    /// memory of the process and the children it waited for. A small Python parent starts it
    /// and reports its `ru_maxrss`: a child spawned straight from this (large) test process
    /// would inherit the test process's high-water mark at `exec`.
    static func runMeasured(_ argv: [String]) throws -> (status: Int32, peakBytes: Int) {
        let result = Scratch.path("luna-peak")
        defer { try? FileManager.default.removeItem(atPath: result) }
        let script = """
            import os, subprocess, sys
            p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(p.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            open(sys.argv[1], "w").write("%d %d" % (code if code >= 0 else 128 - code, usage.ru_maxrss))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, result] + argv
        try process.run()
        process.waitUntilExit()
        let fields = try String(contentsOfFile: result, encoding: .utf8).split(separator: " ")
        guard fields.count == 2, let status = Int32(fields[0]), let kib = Int(fields[1]) else {
            throw POSIXError(.EIO)
        }
        return (status, kib * 1024)
    }
}
