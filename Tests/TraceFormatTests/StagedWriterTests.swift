import Foundation
import Testing

@testable import TraceFormat

/// `TraceWriter` stages events unencoded and encodes them on its background queue: its file must
/// be byte for byte the file of encoding each event as it is recorded (`DirectWriter`), for any
/// mix of records, general events and flushes.
@Suite struct StagedWriterTests {
    /// One step of a recording.
    enum Step {
        case record(EventRecord, [UInt8]?)
        case event(TraceEvent)
        case flush
    }

    /// The reference: every event encoded as it comes, a block cut where it fills and at each
    /// flush, each block compressed and written at once.
    struct DirectWriter {
        let output: BlockOutput
        var encoder: BlockEncoder
        var count: UInt64 = 0
        let capture: PayloadCapture
        let eventsPerBlock: Int

        init(path: String, header: TraceHeader, options: TraceWriter.Options) throws {
            output = BlockOutput(
                fd: try FileDescriptorIO.openForWriting(path), owned: true, header: header, options: options)
            try output.writeHeader()
            encoder = BlockEncoder(unit: header.timeUnitNanos, capacity: 4096, timesInColumn: header.timesInColumn)
            capture = options.payloadCapture
            eventsPerBlock = options.eventsPerBlock
        }

        mutating func apply(_ step: Step) {
            switch step {
            case .record(let r, let payload):
                if let payload {
                    payload.withUnsafeBytes { encoder.encode(r, payload: $0, capture: capture) }
                } else {
                    encoder.encode(r, payload: nil, capture: capture)
                }
            case .event(let e): encoder.encode(e, capture: capture)
            case .flush:
                cut()
                return
            }
            count += 1
            if encoder.eventCount >= eventsPerBlock || encoder.bodyBytes >= TraceWriter.blockSoftLimitBytes { cut() }
        }

        mutating func cut() {
            guard encoder.eventCount > 0 else { return }
            output.write(
                encoder.take(firstEventIndex: count - UInt64(encoder.eventCount), next: BlockBytes(capacity: 4096)))
        }

        mutating func close() throws {
            cut()
            _ = try output.finish()
        }
    }

    /// A reproducible pseudo-random source (SplitMix64).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }

    static let kinds: [EventKind] = [.send, .receive, .writeData, .readData, .createData, .getTag, .spawn, .kill]

    /// A random recording of `length` steps; `large` adds payloads of hundreds of KiB, so blocks
    /// are also cut by size.
    static func steps(_ rng: inout Random, length: Int, large: Bool) -> [Step] {
        var out: [Step] = []
        var t = rng.next() % 1_000_000
        var message: UInt64 = rng.next() % 100
        func payload(_ rng: inout Random) -> [UInt8]? {
            switch rng.below(10) {
            case 0, 1, 2: return nil
            case 3: return []
            case 4 where large: return (0..<(300_000 + rng.below(700_000))).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            case 5: return (0..<(64 + rng.below(400))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            default: return (0..<rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        for _ in 0..<length {
            t += rng.next() % 5_000
            let pid = UInt64(1 + rng.below(5))
            let end = rng.chance(30) ? t : t + rng.next() % 3_000
            if rng.chance(30) { message += 1 + rng.next() % 3 }
            let msg = rng.chance(40) ? 0 : (rng.chance(10) ? rng.next() : message)
            let kind = kinds[rng.below(kinds.count)]
            switch rng.below(20) {
            case 0:
                out.append(.flush)
            case 1...6:
                // The general path: what a record cannot hold, or a plain event given as one.
                var e = TraceEvent(kind: kind, pid: pid, start: t, end: end, message: msg)
                let argCount = rng.below(8)
                for _ in 0..<argCount { e.args.append(Int64(bitPattern: rng.next() >> UInt64(rng.below(64)))) }
                if rng.chance(30) { e.tags = (0..<rng.below(4)).map { _ in Int64(rng.below(1000)) - 500 } }
                if rng.chance(20) { e.text = String(repeating: "ü·x", count: rng.below(20)) }
                switch rng.below(4) {
                case 0: e.result = .value(Int64(bitPattern: rng.next()))
                case 1: e.result = .trap("lunatic::message::receive")
                default: break
                }
                if rng.chance(15) {
                    e.payload = .digest(size: rng.next() % 10_000, xxh64: rng.next())
                } else if let b = payload(&rng) {
                    e.payload = .bytes(b)
                }
                out.append(.event(e))
            default:
                var r = EventRecord(
                    kind: kind, pid: pid, start: t, end: end, message: msg,
                    result: rng.chance(50) ? Int64(bitPattern: rng.next()) >> rng.below(64) : nil)
                for _ in 0..<rng.below(5) { r.append(Int64(bitPattern: rng.next()) >> rng.below(64)) }
                out.append(.record(r, payload(&rng)))
            }
        }
        return out
    }

    static func bytes(_ path: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) }

    @Test("the staged writer's file equals encoding every event as it is recorded", arguments: 0..<40)
    func sameFileAsDirectEncoding(seed: Int) throws {
        var rng = Random(state: UInt64(seed) &* 0x2545_F491_4F6C_DD1D)
        let captures: [PayloadCapture] = [.full, .digest, .digestAbove(64)]
        let options = TraceWriter.Options(
            payloadCapture: captures[rng.below(captures.count)],
            eventsPerBlock: [1, 2, 7, 50, 16_384][rng.below(5)],
            maxPendingBlocks: 1 + rng.below(3))
        let header = TraceHeader(
            producer: "staged writer test", wallClockStartNanos: rng.next(), timeUnitNanos: [1, 100, 1_000][rng.below(3)])
        let steps = Self.steps(&rng, length: 200 + rng.below(2_000), large: seed % 8 == 7)
        let (staged, direct, summary) = try Self.record(steps, header: header, options: options)
        #expect(summary.eventCount == UInt64(steps.filter { if case .flush = $0 { false } else { true } }.count))
        #expect(Self.firstDifference(staged, direct) == nil, "seed \(seed): the files differ")
    }

    /// Where two files first differ (nil: they are equal); keeps failure messages short.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        if let i = zip(a.indices, zip(a, b)).first(where: { $0.1.0 != $0.1.1 })?.0 { return i }
        return a.count == b.count ? nil : min(a.count, b.count)
    }

    @Test("blocks also end by size (4 MiB of raw events) where direct encoding ends them")
    func sizeCuts() throws {
        var steps: [Step] = []
        for i in 0..<12 {
            var r = EventRecord(kind: .writeData, pid: UInt64(1 + i % 2), start: UInt64(i) * 1_000, result: 900_000)
            r.append(900_000)
            steps.append(.record(r, (0..<900_000).map { UInt8(truncatingIfNeeded: $0 &* (i + 3)) }))
            steps.append(.event(TraceEvent(kind: .send, pid: 1, start: UInt64(i) * 1_000 + 5, tags: [1], message: UInt64(i))))
        }
        let (staged, direct, summary) = try Self.record(
            steps, header: TraceHeader(producer: "size cuts"), options: .init(eventsPerBlock: 16_384))
        #expect(summary.blockCount >= 3)
        #expect(Self.firstDifference(staged, direct) == nil)
    }

    /// Records `steps` through a `TraceWriter` and through `DirectWriter`; returns both files
    /// and the writer's summary.
    static func record(
        _ steps: [Step], header: TraceHeader, options: TraceWriter.Options
    ) throws -> (staged: [UInt8], direct: [UInt8], summary: TraceSummary) {
        let stagedPath = TraceSamples.temporaryPath(), directPath = TraceSamples.temporaryPath()
        defer {
            try? FileManager.default.removeItem(atPath: stagedPath)
            try? FileManager.default.removeItem(atPath: directPath)
        }
        let staged = try TraceWriter(path: stagedPath, header: header, options: options)
        var direct = try DirectWriter(path: directPath, header: header, options: options)
        for step in steps {
            switch step {
            case .record(let r, let payload):
                if let payload {
                    payload.withUnsafeBytes { staged.record(r, payload: $0) }
                } else {
                    staged.record(r, payload: nil)
                }
            case .event(let e): staged.record(e)
            case .flush: try staged.flush()
            }
            direct.apply(step)
        }
        let summary = try staged.close()
        try direct.close()
        return (try Self.bytes(stagedPath), try Self.bytes(directPath), summary)
    }

    @Test("events recorded from several threads read back in each thread's order, nothing lost")
    func manyThreads() throws {
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try TraceWriter(
            path: path, header: TraceHeader(timeUnitNanos: 1), options: .init(eventsPerBlock: 97, maxPendingBlocks: 2))
        let threads = 4, perThread = 5_000
        DispatchQueue.concurrentPerform(iterations: threads) { i in
            for n in 0..<perThread {
                let pid = UInt64(i + 1)
                if n % 5 == 0 {
                    writer.record(TraceEvent(kind: .send, pid: pid, start: UInt64(n), tags: [Int64(n)], text: "t"))
                } else {
                    var r = EventRecord(kind: .writeData, pid: pid, start: UInt64(n), result: Int64(n))
                    r.append(Int64(n))
                    withUnsafeBytes(of: UInt64(n)) { writer.record(r, payload: $0) }
                }
            }
        }
        try writer.close()
        let (events, _) = TraceSamples.readAll(try TraceReader(path: path))
        #expect(events.count == threads * perThread)
        for pid in 1...UInt64(threads) {
            #expect(events.filter { $0.pid == pid }.map(\.start) == (0..<UInt64(perThread)).map { $0 })
        }
    }
}
