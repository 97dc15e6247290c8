import Foundation
import LunaSupport
import Testing

@testable import TraceFormat

/// The flight recorder: a bounded ring of the most recent events, dumped as valid traces that
/// say how much came before them.
@Suite struct FlightRecorderTests {
    /// Event `i` of a workload: a kind, pid, times and argument that tell it apart, a payload of
    /// `i % 40` bytes on every third event, a text on every seventh.
    static func event(_ i: Int) -> TraceEvent {
        let start = UInt64(i) * 1000
        var e = TraceEvent(
            kind: i % 2 == 0 ? .send : .writeData, pid: UInt64(i % 5 + 1), start: start, end: start + 500,
            args: [Int64(i)], message: UInt64(i / 3 + 1), result: .value(Int64(i % 7)))
        if i % 3 == 0 { e.payload = .bytes((0..<(i % 40)).map { UInt8(truncatingIfNeeded: $0 &+ i) }) }
        if i % 7 == 0 { e.kind = .trap; e.text = "reason \(i)"; e.result = .none }
        return e
    }

    /// Records `e` through the runtime's plain-fields path when it has that shape, else as a
    /// `TraceEvent` (both paths must agree).
    static func record(_ e: TraceEvent, into recorder: FlightRecorder) {
        if let plain = EventRecord(plain: e), case .bytes(let b) = e.payload {
            b.withUnsafeBytes { recorder.record(plain, payload: $0) }
        } else if let plain = EventRecord(plain: e), case .none = e.payload {
            recorder.record(plain, payload: nil)
        } else {
            recorder.record(e)
        }
    }

    static func recorder(capacity: Int = 64 << 10, unit: UInt64 = 1) -> FlightRecorder {
        FlightRecorder(
            header: TraceHeader(producer: "tests", timeUnitNanos: unit, metadata: ["k": "v"]),
            options: .init(capacityBytes: capacity))
    }

    static func read(_ path: String) throws -> (TraceHeader, [TraceEvent], TraceStop) {
        let reader = try TraceReader(path: path)
        let (events, stop) = TraceSamples.readAll(reader)
        return (reader.header, events, stop)
    }

    /// The workload's argument of each event: its number in the recording.
    static func numbers(_ events: [TraceEvent]) -> [Int64] { events.map { $0.args.at(0) ?? -1 } }

    @Test func aFinalDumpHoldsExactlyTheLastEventsAndSaysWhatCameBefore() throws {
        let recorder = Self.recorder()
        let total = 60_000
        let events = (0..<total).map(Self.event)
        for e in events { Self.record(e, into: recorder) }
        let path = TraceSamples.temporaryPath()
        let dump = try recorder.close(to: path, trigger: "exit")
        let (header, read, stop) = try Self.read(path)
        guard case .complete(let summary) = stop else {
            Issue.record("expected a complete trace, got \(stop)")
            return
        }
        let window = try #require(header.window)
        #expect(header.formatMinor == TraceHeader.currentMinor && header.metadata == ["k": "v"] && header.producer == "tests")
        #expect(window == dump.window && window.trigger == "exit")
        #expect(window.droppedEvents + UInt64(read.count) == UInt64(total))
        #expect(window.isPartial && read.count > 1000)
        // Exactly the last events, unchanged, in order.
        #expect(read == Array(events[Int(window.droppedEvents)...]))
        // The window starts where the last dropped event ended.
        #expect(window.startNanos == events[Int(window.droppedEvents) - 1].end)
        #expect(window.droppedBytes > 0)
        #expect(summary.rawBytes <= 64 << 10 && summary == dump.summary)
        #expect(recorder.recordedEvents == UInt64(total))
    }

    @Test func dumpsWhileRecordingGoOnAreValidAndLaterOnesStartLater() throws {
        let recorder = Self.recorder()
        for i in 0..<20_000 { Self.record(Self.event(i), into: recorder) }
        let first = TraceSamples.temporaryPath(), second = TraceSamples.temporaryPath()
        let a = try recorder.dump(to: first, trigger: "SIGUSR1")
        for i in 20_000..<40_000 { Self.record(Self.event(i), into: recorder) }
        let b = try recorder.dump(to: second, trigger: "SIGUSR1")
        for i in 40_000..<40_010 { Self.record(Self.event(i), into: recorder) }
        for (path, dump, last) in [(first, a, 19_999), (second, b, 39_999)] {
            let (header, read, stop) = try Self.read(path)
            guard case .complete = stop else {
                Issue.record("\(path): expected a complete trace, got \(stop)")
                continue
            }
            let numbers = Self.numbers(read)
            #expect(numbers.first == Int64(dump.window.droppedEvents))
            #expect(numbers.last == Int64(last))
            #expect(numbers == Array(numbers.first!...numbers.last!))
            #expect(header.window == dump.window)
        }
        #expect(b.window.droppedEvents > a.window.droppedEvents)
        // The ring went on: the final dump ends with the events after the second dump.
        let final = try recorder.close(to: TraceSamples.temporaryPath(), trigger: "exit")
        let (_, read, _) = try Self.read(final.path)
        #expect(Self.numbers(read).last == 40_009)
    }

    @Test func theFinalDumpStopsRecordingAndIsMadeOnce() throws {
        let recorder = Self.recorder()
        for i in 0..<100 { Self.record(Self.event(i), into: recorder) }
        let path = TraceSamples.temporaryPath()
        let dump = try recorder.close(to: path, trigger: "trap")
        #expect(dump.summary.eventCount == 100 && dump.window == TraceWindow(droppedEvents: 0, trigger: "trap"))
        Self.record(Self.event(100), into: recorder)
        #expect(recorder.recordedEvents == 100)
        #expect(try recorder.close(to: TraceSamples.temporaryPath(), trigger: "exit") == dump)
        #expect(recorder.finalDump == dump)
        #expect(throws: TraceFormatError.self) { try recorder.dump(to: TraceSamples.temporaryPath(), trigger: "SIGUSR1") }
        let (header, read, _) = try Self.read(path)
        #expect(read.count == 100 && header.window?.isPartial == false)
    }

    @Test func anEmptyRingDumpsAnEmptyValidTrace() throws {
        let path = TraceSamples.temporaryPath()
        try Self.recorder().close(to: path, trigger: "exit")
        let (header, read, stop) = try Self.read(path)
        #expect(read.isEmpty && header.window == TraceWindow(droppedEvents: 0, trigger: "exit"))
        if case .complete = stop {} else { Issue.record("expected a complete trace, got \(stop)") }
    }

    @Test func aDumpThatCannotBeWrittenLeavesTheRingWhole() throws {
        let recorder = Self.recorder()
        for i in 0..<30_000 { Self.record(Self.event(i), into: recorder) }
        #expect(throws: TraceFormatError.self) { try recorder.dump(to: "/nonexistent-dir/x.trace", trigger: "SIGUSR1") }
        let limit = 64 << 10
        #expect(recorder.memoryBytes <= limit)
        let dump = try recorder.close(to: TraceSamples.temporaryPath(), trigger: "exit")
        let (_, read, _) = try Self.read(dump.path)
        #expect(Self.numbers(read).last == 29_999 && Self.numbers(read).first == Int64(dump.window.droppedEvents))
    }

    @Test func aFinalDumpThatFailsKeepsItsEventsForAnotherTry() throws {
        let recorder = Self.recorder()
        for i in 0..<1_000 { Self.record(Self.event(i), into: recorder) }
        #expect(throws: TraceFormatError.self) { try recorder.close(to: "/nonexistent-dir/x.trace", trigger: "exit") }
        #expect(recorder.finalDump == nil)
        Self.record(Self.event(1_000), into: recorder)  // recording has ended all the same
        let dump = try recorder.close(to: TraceSamples.temporaryPath(), trigger: "exit")
        let (_, read, _) = try Self.read(dump.path)
        #expect(Self.numbers(read) == (0..<1_000).map(Int64.init))
    }

    @Test func eventsLargerThanHalfAChunkAreStoredSmaller() throws {
        let recorder = Self.recorder()
        let chunk = recorder.options.chunkBytes
        let big = [UInt8](repeating: 7, count: 3 * chunk)
        let plain = EventRecord(kind: .writeData, pid: 1, start: 10, end: 20, message: 1, result: Int64(big.count))
        big.withUnsafeBytes { recorder.record(plain, payload: $0) }
        let text = String(repeating: "é", count: chunk)
        let wide = TraceEvent(
            kind: .spawn, pid: 1, start: 30, end: 40, args: EventArguments((0..<Int64(chunk)).map { $0 }),
            tags: (0..<Int64(chunk)).map { $0 }, payload: .bytes(big), text: text, result: .trap(text))
        recorder.record(wide)
        let (_, read, stop) = try Self.read(try recorder.close(to: TraceSamples.temporaryPath(), trigger: "exit").path)
        guard read.count == 2, case .complete = stop else {
            Issue.record("expected 2 events in a complete trace, got \(read.count), \(stop)")
            return
        }
        #expect(read[0].payload == .digest(size: UInt64(big.count), xxh64: XXH64.hash(big)))
        #expect(read[1].payload == .digest(size: UInt64(big.count), xxh64: XXH64.hash(big)))
        #expect(text.hasPrefix(read[1].text) && !read[1].text.isEmpty && read[1].text.utf8.count <= chunk / 16)
        #expect(read[1].tags == Array(wide.tags.prefix(read[1].tags.count)) && read[1].tags.count == chunk / 80)
        #expect(Array(read[1].args) == Array(wide.args.prefix(chunk / 80)))
    }

    /// Whether the ring's memory is within its capacity, every chunk exactly one chunk long
    /// (no encoder ever grew one).
    static func withinBounds(_ recorder: FlightRecorder) -> Bool {
        recorder.ring.withLock { r in
            let sizes = [r.encoder.storage.capacity] + r.chunks.map(\.body.storage.capacity) + r.spare.map(\.capacity)
            return r.storages * recorder.chunkBytes <= recorder.options.capacityBytes
                && sizes.allSatisfy { $0 == recorder.chunkBytes } && sizes.count <= r.storages
        }
    }

    @Test(arguments: [64 << 10, 300 << 10])
    func memoryNeverExceedsTheRingWhateverTheEventSizes(capacity: Int) throws {
        var random = SplitMix(seed: UInt64(capacity))
        let recorder = Self.recorder(capacity: capacity)
        let chunk = recorder.options.chunkBytes
        var violations = 0
        for i in 0..<4_000 {
            var e = Self.event(i)
            switch Int.random(in: 0..<10, using: &random) {
            case 0: e.payload = .bytes([UInt8](repeating: 1, count: Int.random(in: 0...(3 * chunk), using: &random)))
            case 1: e.text = String(repeating: "x", count: Int.random(in: 0...chunk, using: &random))
            case 2: e.tags = (0..<Int64.random(in: 0...2_000, using: &random)).map { $0 }
            case 3: e.result = .trap(String(repeating: "t", count: Int.random(in: 0...chunk, using: &random)))
            default: e.payload = .bytes([UInt8](repeating: 2, count: Int.random(in: 0...64, using: &random)))
            }
            Self.record(e, into: recorder)
            if !Self.withinBounds(recorder) { violations += 1 }
            if i % 997 == 0 { _ = try recorder.dump(to: TraceSamples.temporaryPath(), trigger: "SIGUSR1") }
        }
        #expect(violations == 0)
        let final = try recorder.close(to: TraceSamples.temporaryPath(), trigger: "exit")
        let (_, read, stop) = try Self.read(final.path)
        if case .complete = stop {} else { Issue.record("expected a complete trace, got \(stop)") }
        #expect(Self.numbers(read).last == 3_999)
    }

    @Test func dumpsRacingTheRecordingStayContiguousAndBounded() throws {
        let recorder = Self.recorder()
        let stop = Locked(false)
        let paths = Locked<[(String, FlightDump)]>([])
        let dumper = Thread {
            while !stop.withLock({ $0 }) {
                let path = TraceSamples.temporaryPath()
                if let d = try? recorder.dump(to: path, trigger: "SIGUSR1") { paths.withLock { $0.append((path, d)) } }
            }
        }
        dumper.start()
        var violations = 0
        var i = 0
        // Record until several dumps were made (however slowly the dumping thread runs).
        while paths.withLock({ $0.count }) < 5 || i < 50_000 {
            Self.record(Self.event(i), into: recorder)
            if i % 64 == 0 && !Self.withinBounds(recorder) { violations += 1 }
            i += 1
        }
        stop.withLock { $0 = true }
        let final = try recorder.close(to: TraceSamples.temporaryPath(), trigger: "exit")
        #expect(violations == 0)
        for (path, dump) in paths.withLock({ $0 }) + [(final.path, final)] {
            let (header, read, readStop) = try Self.read(path)
            guard case .complete = readStop else {
                Issue.record("\(path): expected a complete trace, got \(readStop)")
                continue
            }
            let numbers = Self.numbers(read)
            #expect(header.window == dump.window)
            if let first = numbers.first {
                #expect(first == Int64(dump.window.droppedEvents))
                #expect(numbers == Array(first..<(first + Int64(numbers.count))))
            }
        }
        #expect(Self.numbers(try Self.read(final.path).1).last == Int64(i - 1))
    }
}
