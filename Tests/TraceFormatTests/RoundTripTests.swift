import Foundation
import Testing

@testable import TraceFormat

@Suite struct RoundTripTests {
    @Test func everyKindWithEdgeValuesSurvivesAFile() throws {
        let events = TraceSamples.everyKind
        let file = try TraceSamples.write(events, options: .init(eventsPerBlock: 7))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let reader = try TraceReader(path: file.path)
        #expect(reader.header.producer == "tests")
        let (read, stop) = TraceSamples.readAll(reader)
        #expect(read.count == events.count)
        for (a, b) in zip(read, events) { #expect(a == b) }
        guard case .complete(let summary) = stop else {
            Issue.record("expected a complete trace, got \(stop)")
            return
        }
        #expect(summary.eventCount == UInt64(events.count))
        #expect(summary.fileBytes == UInt64(file.bytes.count))
    }

    @Test func bytesAndDescriptorReadersAgree() throws {
        let events = TraceSamples.pingPong(rounds: 50)
        let file = try TraceSamples.write(events, options: .init(eventsPerBlock: 64))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let fromBytes = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(fromBytes.0 == events)
        let fd = open(file.path, O_RDONLY)
        defer { close(fd) }
        let streamed = try TraceReader(fileDescriptor: fd)
        let fromStream = TraceSamples.readAll(streamed)
        #expect(fromStream.0 == events)
        #expect(fromStream.1 == fromBytes.1)
        #expect(streamed.blockIndex?.count == 8)  // 500 events, 64 per block
    }

    @Test func headerRoundTrips() throws {
        let header = TraceHeader(
            producer: "luna 0.1", clock: "CLOCK_MONOTONIC", wallClockStartNanos: 1_764_000_000_123_456_789,
            timeUnitNanos: 1, metadata: ["argv": "luna run x.wasm", "host": "ci", "": "empty key"])
        let file = try TraceSamples.write([], header: header)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let reader = try TraceReader(bytes: file.bytes)
        #expect(reader.header == header)
        #expect(try reader.next() == nil)
        #expect(
            reader.stop
                == .complete(
                    TraceSummary(
                        eventCount: 0, blockCount: 0, rawBytes: 0,
                        fileBytes: UInt64(file.bytes.count), lastEndNanos: 0)))
    }

    @Test func payloadCaptureKeepsSizeAndDigest() throws {
        let big = [UInt8](repeating: 7, count: 1000)
        let small: [UInt8] = [1, 2, 3]
        let events = [
            TraceEvent(kind: .writeData, pid: 1, payload: .bytes(big)),
            TraceEvent(kind: .writeData, pid: 1, payload: .bytes(small)),
        ]
        let file = try TraceSamples.write(events, options: .init(payloadCapture: .digestAbove(100)))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let (read, _) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(read[0].payload == .digest(size: 1000, xxh64: XXH64.hash(big)))
        #expect(read[1].payload == .bytes(small))
        #expect(PayloadCapture.digest.apply(to: .bytes(small)) == .digest(size: 3, xxh64: XXH64.hash(small)))
    }

    @Test func coarseTimeUnitRoundsEveryStampDownKeepingOrder() throws {
        let events = [
            TraceEvent(kind: .send, pid: 1, start: 1_999, end: 3_001),
            TraceEvent(kind: .send, pid: 1, start: 4_000, end: 4_000),
            TraceEvent(kind: .send, pid: 2, start: 4_500, end: 4_700),
        ]
        let file = try TraceSamples.write(events, header: TraceHeader(timeUnitNanos: 1_000))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let (read, _) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(read.map(\.start) == [1_000, 4_000, 4_000])
        #expect(read.map(\.end) == [3_000, 4_000, 4_000])
    }

    @Test func defaultHeaderUsesTheDocumentedUnit() {
        #expect(TraceHeader().timeUnitNanos == 100)
        #expect(TraceHeader(timeUnitNanos: 0).timeUnitNanos == 1)
    }

    @Test func seekByFrameIndex() throws {
        let events = TraceSamples.pingPong(rounds: 100)  // 1000 events
        let file = try TraceSamples.write(events, options: .init(eventsPerBlock: 100))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let reader = try TraceReader(path: file.path)
        #expect(reader.blockIndex?.count == 10)
        try reader.seek(toBlock: 7)
        #expect(reader.eventsRead == 700)
        #expect(try reader.next() == events[700])
        try reader.seek(toEvent: 333)
        #expect(try reader.next() == events[333])
        try reader.seek(toBlock: 0)
        let (rest, stop) = TraceSamples.readAll(reader)
        #expect(rest == events)
        if case .complete = stop {} else { Issue.record("expected complete, got \(stop)") }
    }

    @Test func collectorKeepsOrderAcrossThreads() async {
        let collector = TraceCollector()
        await withTaskGroup(of: Void.self) { group in
            for p in 1...4 {
                group.addTask {
                    for i in 0..<1000 { collector.record(TraceEvent(kind: .send, pid: UInt64(p), start: UInt64(i))) }
                }
            }
        }
        let events = collector.events
        #expect(events.count == 4000)
        for p in 1...4 {
            #expect(events.filter { $0.pid == UInt64(p) }.map(\.start) == (0..<1000).map(UInt64.init))
        }
    }

    @Test func writerKeepsPerThreadOrderUnderConcurrency() async throws {
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try TraceWriter(path: path, header: TraceHeader(timeUnitNanos: 1), options: .init(eventsPerBlock: 256))
        await withTaskGroup(of: Void.self) { group in
            for p in 1...4 {
                group.addTask {
                    for i in 0..<5000 {
                        writer.record(TraceEvent(kind: .send, pid: UInt64(p), start: UInt64(i), message: UInt64(i + 1)))
                    }
                }
            }
        }
        #expect(writer.eventCount == 20_000)
        let summary = try writer.close()
        #expect(summary.eventCount == 20_000)
        let (events, stop) = TraceSamples.readAll(try TraceReader(path: path))
        #expect(events.count == 20_000)
        for p in 1...4 {
            #expect(events.filter { $0.pid == UInt64(p) }.map(\.start) == (0..<5000).map(UInt64.init))
        }
        if case .complete = stop {} else { Issue.record("expected complete, got \(stop)") }
    }

    @Test func oversizedFieldsAreCutNotFatal() throws {
        let huge = TraceEvent(
            kind: .receive, pid: 1, tags: Array(repeating: 5, count: TraceLayout.maxListCount + 10),
            payload: .bytes([UInt8](repeating: 1, count: TraceLayout.maxCapturedPayloadBytes + 1)),
            text: String(repeating: "é", count: TraceLayout.maxTextBytes))
        let file = try TraceSamples.write([huge])
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let (read, stop) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(read.count == 1)
        #expect(read.first?.tags.count == TraceLayout.maxListCount)
        #expect(read.first?.payload.size == UInt64(TraceLayout.maxCapturedPayloadBytes + 1))
        if case .digest = read.first?.payload {} else { Issue.record("payload over the limit kept as bytes") }
        #expect(read.first?.text.utf8.count ?? 0 <= TraceLayout.maxTextBytes)
        #expect(read.first?.text.hasPrefix("éé") == true)
        if case .complete = stop {} else { Issue.record("expected complete, got \(stop)") }
    }
}
