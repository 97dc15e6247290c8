import ArgumentParser
import CZstd
import Foundation
import TraceAnalysis
import TraceFormat

#if canImport(Glibc)
import Glibc
#endif

/// `luna-bench workload NAME`: one workload of the `all` figures, run once and nothing else, so
/// a profiler or `valgrind --tool=callgrind` (bench/callgrind.sh) can count its instructions.
/// It prints the events the workload handled, the divisor of "instructions per event".
struct WorkloadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload",
        abstract:
            "Run one workload once (for callgrind/perf): one-way, ping-pong, ping-pong-skip, record, flight, stats, reader, inflate.",
        discussion: """
            one-way / ping-pong: P1's native workloads, untraced or traced into --trace FILE.
            ping-pong-skip: P5's native ping-pong through send_receive_skip_search (same options).
            record: a native ping-pong of about --count events traced into --trace FILE (the P3 file).
            flight: --count write_data-like events recorded on one thread into a wrapped 4 MiB flight
            recorder (P1's flight recorder figure; nothing is written).
            stats: luna-trace stats' path over FILE (output discarded); reader: TraceReader alone;
            inflate: only the zstd decompression of FILE's blocks (what any reader must do).
            """)

    @Argument(help: "one-way, ping-pong, ping-pong-skip, record, flight, stats, reader or inflate.") var name: String
    @Option(help: "Messages (one-way), round trips (ping-pong) or events (record).") var count = 100_000
    @Option(help: "Trace file: written by one-way/ping-pong/record, read by stats/reader/inflate.") var trace: String?
    @Option(help: "Trace format major version written (2: times in a column; 1: times in each record).")
    var formatMajor: UInt16 = TraceHeader.currentMajor

    /// The header the writing workloads use.
    private func header(_ producer: String) -> TraceHeader {
        TraceHeader(producer: producer, formatMajor: formatMajor, formatMinor: TraceHeader.newestMinor(ofMajor: formatMajor))
    }

    func run() throws {
        switch name {
        case "one-way", "ping-pong", "ping-pong-skip":
            let writer = try trace.map { try TraceWriter(path: $0, header: header("luna-bench workload")) }
            if name == "one-way" {
                _ = try RuntimeBench().oneWayRate(count: count, trace: writer)
            } else {
                _ = try RuntimeBench().pingPongRate(count: count, trace: writer, skipSearch: name == "ping-pong-skip")
            }
            print("events \(try writer?.close().eventCount ?? 0)")
        case "record":
            let path = try required()
            let writer = try TraceWriter(path: path, header: header("luna-bench workload record"))
            _ = try RuntimeBench().pingPongRate(count: max(1, count / 11), trace: writer, skipSearch: false)
            print("events \(try writer.close().eventCount)")
        case "flight":
            let recorder = FlightRecorder(header: header("luna-bench workload flight"), options: .init(capacityBytes: 4 << 20))
            _ = FlightRecorderBench.fill(recorder)
            FlightRecorderBench.records(count, into: recorder)
            print("events \(count)")
        case "stats":
            let statistics = TraceStatistics()
            let reader = try TraceReader(path: try required())
            var event = TraceEvent(kind: .send, pid: 0)
            while try reader.next(into: &event) { statistics.observe(event) }
            let devNull = FileDescriptorOutput(fd: open("/dev/null", O_WRONLY), closeOnDeinit: true)
            statistics.write(to: devNull, processLimit: 200)
            devNull.flush()
            print("events \(statistics.events)")
        case "reader":
            let reader = try TraceReader(path: try required())
            var event = TraceEvent(kind: .send, pid: 0)
            var n = 0
            while try reader.next(into: &event) { n += 1 }
            print("events \(n)")
        case "inflate":
            let (events, bytes) = try Self.inflate(try required())
            print("events \(events)")
            print("raw bytes \(bytes)")
        default:
            throw ValidationError(
                "unknown workload \(name): one-way, ping-pong, ping-pong-skip, record, flight, stats, reader or inflate")
        }
    }

    private func required() throws -> String {
        guard let trace else { throw ValidationError("workload \(name) needs --trace FILE") }
        return trace
    }

    /// Decompresses every block of the trace at `path` and nothing else (no event decoding):
    /// the floor under any reader of the file. Returns the file's events (from its summary)
    /// and the raw bytes produced.
    static func inflate(_ path: String) throws -> (events: UInt64, rawBytes: UInt64) {
        let reader = try TraceReader(path: path)
        guard let index = reader.blockIndex, let summary = reader.summary else {
            throw BenchFailure("\(path): no frame index (a closed trace file has one)")
        }
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? file.close() }
        let data = try file.readToEnd() ?? Data()
        let dctx = ZSTD_createDCtx()
        defer { ZSTD_freeDCtx(dctx) }
        var out = [UInt8](repeating: 0, count: 1 << 20)
        var raw: UInt64 = 0
        try data.withUnsafeBytes { bytes in
            for (i, entry) in index.enumerated() {
                let start = Int(entry.frameOffset), end = start + Int(entry.frameBytes)
                guard end <= bytes.count else { throw BenchFailure("\(path): block \(i) runs past the end of the file") }
                let size = ZSTD_getFrameContentSize(bytes.baseAddress! + start, end - start)
                if size < UInt64(1) << 32, Int(size) > out.count { out = [UInt8](repeating: 0, count: Int(size)) }
                let n = out.withUnsafeMutableBytes { dst in
                    ZSTD_decompressDCtx(dctx, dst.baseAddress, dst.count, bytes.baseAddress! + start, end - start)
                }
                guard ZSTD_isError(n) == 0 else {
                    throw BenchFailure("\(path): block \(i) does not decompress: \(String(cString: ZSTD_getErrorName(n)))")
                }
                raw += UInt64(n)
            }
        }
        return (summary.eventCount, raw)
    }
}
