import Foundation
import LunaRuntime
import LunaSupport
import TraceAnalysis
import TraceFormat

#if canImport(Glibc)
import Glibc
#endif

extension AllBench {
    /// A trace file recorded for P2/P3 and its figures.
    struct RecordedTrace {
        var name: String
        var path: String
        var events: UInt64
        var bytes: UInt64
        var bytesPerEvent: Double { Double(bytes) / Double(max(events, 1)) }
        /// Bytes/event of every recording the median was taken from, in the order made.
        var spread: [Double] = []
    }

    /// P2 and P3. P2: trace bytes/event of a native ping-pong (about `events` events) and of
    /// the mixed corpus-like workload, both recorded by the real runtime into a TraceWriter,
    /// against the same events exported as Chrome Trace Event JSON (luna-trace's exporter) and
    /// compressed with the zstd CLI (default level 3, and -19). P3: `luna-trace stats` (its
    /// real code) over the ping-pong file against `zstd -dc` of the same file.
    func traceSizeAndDecode(_ s: Sizes, _ report: BenchReport) throws {
        let pingPath = Measure.tempPath("p2-pingpong.trace"), mixedPath = Measure.tempPath("p2-mixed.trace")
        defer {
            try? FileManager.default.removeItem(atPath: pingPath)
            try? FileManager.default.removeItem(atPath: mixedPath)
        }
        // Ping-pong: 11 events per round trip (client create/write/send/receive/read, server
        // receive/get_tag/read/create/write/send).
        // The bytes of a recording move with the run's timing jitter (docs/BENCHMARKS.md,
        // 2026-12-05), so each workload is recorded `repeats` times and the median file kept.
        let ping = try recordMedian("ping-pong", pingPath, s.repeats) { writer in
            _ = try RuntimeBench().pingPongRate(count: max(1, s.events / 11), trace: writer, skipSearch: false)
        }
        let mixed = try recordMedian("mixed", mixedPath, s.repeats) { writer in
            try MixedWorkload.run(events: s.events, trace: writer)
        }

        if wants("P2") {
            for trace in [ping, mixed] {
                let json = try chromeJSON(trace)
                let bare = try withoutPayloads(trace)
                let ratio = trace.bytesPerEvent / json.zstd3
                let goal = trace.name == "ping-pong" ? 1.5 : 2.0
                report.add(
                    BenchRow(
                        id: "P2", what: "trace bytes/event, native \(trace.name) (\(trace.events) events, real runtime)",
                        figure: String(format: "%.3f B/event", trace.bytesPerEvent),
                        comparison: String(
                            format:
                                "Chrome JSON %.1f B/event raw, %.2f zstd -3, %.2f zstd -19 (ours = %.2f of zstd -3); same events without payload bytes %.3f B/event; recordings %@",
                            json.raw, json.zstd3, json.zstd19, ratio, bare,
                            trace.spread.map { String(format: "%.3f", $0) }.joined(separator: ", ")),
                        goal: String(format: "≤ %.1f B/event and ≤ ¼ of zstd'd JSON", goal),
                        met: trace.bytesPerEvent <= goal && ratio <= 0.25))
            }
            if let corpus = try corpusFigure() {
                report.add(
                    BenchRow(
                        id: "P2",
                        what: "trace bytes/event, conformance corpus files (\(corpus.files) traces, \(corpus.events) events)",
                        figure: String(format: "%.2f B/event", Double(corpus.bytes) / Double(max(corpus.events, 1))),
                        comparison: "small files: headers and summaries dominate (informational)", goal: "", met: nil))
            }
        }
        if wants("P3") { try decode(ping, s, report) }
    }

    /// Records `workload` `times` times and keeps the recording of median size at `path`.
    func recordMedian(
        _ name: String, _ path: String, _ times: Int, _ workload: (TraceWriter) throws -> Void
    ) throws -> RecordedTrace {
        var runs: [RecordedTrace] = []
        for i in 0..<max(1, times) {
            runs.append(try record(name, i == 0 ? path : "\(path).\(i)", workload))
        }
        let order = runs.indices.sorted { runs[$0].bytesPerEvent < runs[$1].bytesPerEvent }
        var median = runs[order[order.count / 2]]
        median.spread = runs.map(\.bytesPerEvent)
        for run in runs where run.path != median.path { try? FileManager.default.removeItem(atPath: run.path) }
        if median.path != path {
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: median.path, toPath: path)
            median.path = path
        }
        return median
    }

    /// Runs `workload` traced into a fresh TraceWriter at `path`; the file's events and size.
    func record(_ name: String, _ path: String, _ workload: (TraceWriter) throws -> Void) throws -> RecordedTrace {
        let writer = try TraceWriter(path: path, header: TraceHeader(producer: "luna-bench all \(name)"))
        try workload(writer)
        let summary = try writer.close()
        return RecordedTrace(name: name, path: path, events: summary.eventCount, bytes: Measure.fileSize(path))
    }

    /// The trace through ChromeTraceExporter into a JSON file, then `zstd -3` and `zstd -19`:
    /// bytes per event of each.
    func chromeJSON(_ trace: RecordedTrace) throws -> (raw: Double, zstd3: Double, zstd19: Double) {
        let json = trace.path + ".json"
        defer {
            for p in [json, json + ".3.zst", json + ".19.zst"] { try? FileManager.default.removeItem(atPath: p) }
        }
        let fd = open(json, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BenchFailure("P2: cannot create \(json)") }
        do {
            let out = FileDescriptorOutput(fd: fd, bufferSize: 1 << 20, closeOnDeinit: true)
            let exporter = ChromeTraceExporter(out: out)
            let reader = try TraceReader(path: trace.path)
            while let e = try reader.next() { exporter.observe(e) }
            exporter.finish()
            out.flush()
        }
        let n = Double(max(trace.events, 1))
        _ = try Measure.runTool(["zstd", "-q", "-3", "-c", json], stdoutPath: json + ".3.zst")
        _ = try Measure.runTool(["zstd", "-q", "-19", "-T0", "-c", json], stdoutPath: json + ".19.zst")
        return (
            Double(Measure.fileSize(json)) / n, Double(Measure.fileSize(json + ".3.zst")) / n,
            Double(Measure.fileSize(json + ".19.zst")) / n
        )
    }

    /// Bytes/event of the same events re-encoded with every payload dropped: how much of the
    /// file the message bodies take.
    func withoutPayloads(_ trace: RecordedTrace) throws -> Double {
        let path = trace.path + ".bare"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try TraceReader(path: trace.path)
        let writer = try TraceWriter(path: path, header: TraceHeader(producer: "luna-bench all (no payloads)"))
        var e = TraceEvent(kind: .send, pid: 0)
        while try reader.next(into: &e) {
            e.payload = .none
            writer.record(e)
        }
        let summary = try writer.close()
        return Double(summary.fileBytes) / Double(max(summary.eventCount, 1))
    }

    /// Bytes and events of every `.trace` file in the corpus directory (nil when there is none).
    func corpusFigure() throws -> (files: Int, events: UInt64, bytes: UInt64)? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: corpus) else { return nil }
        var files = 0, events: UInt64 = 0, bytes: UInt64 = 0
        for name in names.sorted() where name.hasSuffix(TraceFileName.suffix) {
            let path = corpus + "/" + name
            let reader = try TraceReader(path: path)
            var e = TraceEvent(kind: .send, pid: 0)
            var n: UInt64 = 0
            while try reader.next(into: &e) { n += 1 }
            files += 1
            events += n
            bytes += Measure.fileSize(path)
        }
        return files == 0 ? nil : (files, events, bytes)
    }

    /// P3: the `luna-trace stats` path (TraceReader into TraceStatistics, output discarded) over the file, against
    /// `zstd -dc` of the same file and TraceReader alone; medians of `repeats` runs.
    func decode(_ trace: RecordedTrace, _ s: Sizes, _ report: BenchReport) throws {
        var stats: [Double] = [], zstd: [Double] = [], reader: [Double] = []
        let n = Double(trace.events)
        for _ in 0..<s.repeats {
            let devNull = FileDescriptorOutput(fd: open("/dev/null", O_WRONLY), closeOnDeinit: true)
            let t0 = MonotonicClock.now()
            let statistics = TraceStatistics()
            let source = try TraceReader(path: trace.path)
            var event = TraceEvent(kind: .send, pid: 0)
            while try source.next(into: &event) { statistics.observe(event) }
            statistics.write(to: devNull, processLimit: 200)
            devNull.flush()
            stats.append(n / Measure.seconds(since: t0))
            zstd.append(n / (try Measure.runTool(["zstd", "-q", "-dc", trace.path])))
            let r = try TraceReader(path: trace.path)
            var e = TraceEvent(kind: .send, pid: 0)
            var count = 0.0
            let r0 = MonotonicClock.now()
            while try r.next(into: &e) { count += 1 }
            reader.append(count / Measure.seconds(since: r0))
        }
        let rate = Measure.median(stats), z = Measure.median(zstd)
        report.add(
            BenchRow(
                id: "P3", what: "decode events/s, luna-trace stats path (ping-pong file, \(trace.events) events)",
                figure: String(format: "%@ (stats ÷ zstd -dc %.2f)", Measure.rate(rate), rate / max(z, 1)),
                comparison: String(
                    format: "zstd -dc of the same file %@ events (process start included); TraceReader alone %@",
                    Measure.rate(z), Measure.rate(Measure.median(reader))),
                goal: "stats ÷ zstd -dc ≥ 1.5", met: rate / max(z, 1) >= 1.5))
    }
}
