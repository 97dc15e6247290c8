import Foundation
import LunaSupport
import LunaTestSupport
import Testing

@testable import TraceFormat

@Suite struct WriterReaderBehaviourTests {
    @Test func streamsThroughAPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let events = TraceSamples.pingPong(rounds: 500)  // 5000 events, several blocks
        // The writer runs on its own OS thread, not a task: this test blocks a cooperative-pool
        // thread in read(2), and with 2 cores a writer task could wait forever for a pool thread.
        let written = Locked<Result<TraceSummary, any Error>?>(nil)
        let writerDone = DispatchSemaphore(value: 0)
        let writer = Thread {
            written.withLock {
                $0 = Result {
                    let w = try TraceWriter(
                        fileDescriptor: writeEnd, header: TraceHeader(timeUnitNanos: 1),
                        options: .init(eventsPerBlock: 700))
                    for e in events { w.record(e) }
                    return try w.close()
                }
            }
            close(writeEnd)
            writerDone.signal()
        }
        writer.start()
        let reader = try TraceReader(fileDescriptor: readEnd)
        #expect(reader.blockIndex == nil)
        #expect(throws: TraceFormatError.self) { try reader.seek(toBlock: 0) }
        var read: [TraceEvent] = []
        var e = TraceEvent(kind: .send, pid: 0)
        while try reader.next(into: &e) { read.append(e) }
        close(readEnd)
        writerDone.wait()
        let summary = try #require(written.withLock { $0 }).get()
        #expect(read == events)
        #expect(reader.stop == .complete(summary))
        #expect(reader.blockIndex?.count == 8)  // read from the stream's end
    }

    @Test func closeIsIdempotentAndLaterRecordsAreIgnored() throws {
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try TraceWriter(path: path, header: TraceHeader())
        w.record(TraceEvent(kind: .send, pid: 1))
        let first = try w.close()
        w.record(TraceEvent(kind: .send, pid: 1))
        #expect(try w.close() == first)
        #expect(first.eventCount == 1)
        #expect(w.eventCount == 1)
    }

    @Test func writeFailuresAreReported() {
        // /dev/full accepts the open and fails every write with ENOSPC.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        do {
            _ = try TraceWriter(path: "/dev/full", header: TraceHeader())
            Issue.record("writing the header to /dev/full succeeded")
        } catch let e as TraceFormatError {
            #expect(e.kind == .io)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func seekWithoutIndexIsNoIndex() throws {
        let events = TraceSamples.pingPong(rounds: 10)
        let file = try TraceSamples.write(events, close: false)  // bytes as of flush(), no summary
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let reader = try TraceReader(bytes: file.bytes)
        #expect(reader.blockIndex == nil)
        do {
            try reader.seek(toBlock: 0)
            Issue.record("seek without an index succeeded")
        } catch {
            #expect(error.kind == .noIndex)
        }
    }

    @Test func eventsSequenceStopsAtDamageAndExposesIt() throws {
        var bytes = DamageTests.sample.bytes
        let index = try #require(try TraceReader(bytes: bytes).blockIndex)
        bytes[Int(index[2].frameOffset) + 20] ^= 0x55  // inside block 2's compressed data
        let reader = try TraceReader(bytes: bytes)
        let events = reader.events()
        let read = Array(events)
        #expect(read == Array(DamageTests.sample.events.prefix(Int(index[2].firstEventIndex))))
        #expect(events.error?.offset == index[2].frameOffset)
        if case .damaged = events.stop {} else { Issue.record("expected damaged, got \(events.stop)") }
    }

    /// An event recorded before a hand-off to another thread precedes everything that thread
    /// records after it: the file order follows happens-before.
    @Test func fileOrderFollowsHappensBefore() throws {
        let path = TraceSamples.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try TraceWriter(path: path, header: TraceHeader(timeUnitNanos: 1), options: .init(eventsPerBlock: 100))
        let turns = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let rounds = 2_000
        let threads = (0..<2).map { side in
            Thread {
                for i in 0..<rounds {
                    turns[side].wait()
                    writer.record(
                        TraceEvent(kind: .send, pid: UInt64(side + 1), start: UInt64(i), message: UInt64(2 * i + side + 1)))
                    turns[1 - side].signal()
                }
            }
        }
        threads.forEach { $0.start() }
        turns[0].signal()
        let deadline = MonotonicClock.deadline(after: 120)
        while writer.eventCount < UInt64(2 * rounds) && MonotonicClock.now() < deadline { usleep(1_000) }
        try #require(writer.eventCount == UInt64(2 * rounds), "the writers stalled at \(writer.eventCount) events")
        try writer.close()
        let (events, _) = TraceSamples.readAll(try TraceReader(path: path))
        #expect(events.map(\.message) == (1...UInt64(2 * rounds)).map { $0 })
    }
}

@Suite("time-bounded durability")
struct WriterDurabilityTests {
    @Test("with maxBlockAge a lone event reaches the file without a flush or close")
    func agedBlockIsWritten() throws {
        let path = Scratch.path("luna-age")
        let writer = try TraceWriter(path: path, header: TraceHeader(), options: .init(maxBlockAge: 0.05))
        writer.record(TraceEvent(kind: .send, pid: 1, start: 10, args: [2], result: .value(0)))
        var seen: UInt64 = 0
        for _ in 0..<200 where seen == 0 {  // up to 10 s on a loaded machine; 50-100 ms expected
            Thread.sleep(forTimeInterval: 0.05)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let reader = try TraceReader(bytes: bytes)
            while try reader.next() != nil {}
            seen = reader.eventsRead
        }
        #expect(seen == 1)
        writer.record(TraceEvent(kind: .send, pid: 1, start: 20, args: [2], result: .value(0)))
        let summary = try writer.close()
        #expect(summary.eventCount == 2)
        #expect(summary.blockCount == 2)
    }

    @Test("without maxBlockAge nothing is written before a block fills")
    func noAgeNoWrite() throws {
        let path = Scratch.path("luna-age")
        let writer = try TraceWriter(path: path, header: TraceHeader())
        writer.record(TraceEvent(kind: .send, pid: 1, start: 10, args: [2], result: .value(0)))
        Thread.sleep(forTimeInterval: 0.2)
        let reader = try TraceReader(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        while try reader.next() != nil {}
        #expect(reader.eventsRead == 0)
        #expect(try writer.close().blockCount == 1)
    }
}
