import Foundation
import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// A trace writer that cannot write (its file is a pipe nobody reads) must stop only the process
/// that goes on producing events, and only where that process holds no lock; and once the file
/// drains, the trace must hold every event (nothing is dropped to keep going).
@Suite struct TraceBackPressureTests {
    @Test func aStalledWriterStopsOnlyTheProducerOutsideEveryLockAndLosesNothing() async throws {
        try await offPool { try Self.stalledWriter() }
    }

    private static func stalledWriter() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // The smallest pipe buffer (one page, F_SETPIPE_SZ = 1031): the header fits, and the
        // writer's first block (tens of KiB of incompressible payload) blocks in write(2) until
        // the pipe is read, so the writer stays behind from then on.
        try #require(fcntl(writeEnd, 1031, 4096) >= 0)
        // The pipe is read only once `drain` is signalled.
        let drain = DispatchSemaphore(value: 0)
        let drained = DispatchSemaphore(value: 0)
        let bytes = Box<[UInt8]>([])
        Thread {
            drain.wait()
            var all: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                all.append(contentsOf: chunk[0..<n])
            }
            close(readEnd)
            bytes.value = all
            drained.signal()
        }.start()
        var draining = false
        defer { if !draining { drain.signal(); close(writeEnd) } }

        let writer = try TraceWriter(
            fileDescriptor: writeEnd, header: TraceHeader(producer: "back-pressure test"),
            options: .init(eventsPerBlock: 32, maxPendingBlocks: 1))
        let pressure = try #require(writer.backPressure)
        let env = Environment(trace: writer)

        // A thread process already waiting in receive before the writer stalls.
        let receivedTag = Box<Int64>(0)
        let receiver = env.spawnThread(entry: "receiver") { p in
            _ = try p.receiveBlocking(tags: [], timeoutMs: .max)
            receivedTag.value = try p.getTag()
        }
        try #require(waitUntil { isWaitingInReceive(env, receiver) }, "the receiver never waited")

        // The producer records 4 KiB of incompressible payload per round until the writer is
        // behind; then it waits at its next waiting call.
        let rounds = Box(0)
        let producer = env.spawnThread(entry: "producer") { p in
            var payload = [UInt8](repeating: 0, count: 4096)
            var x: UInt64 = 0x9E37_79B9_7F4A_7C15
            while true {
                for i in payload.indices {
                    x ^= x << 13; x ^= x >> 7; x ^= x << 17
                    payload[i] = UInt8(truncatingIfNeeded: x)
                }
                p.createData(tag: 1, capacity: 4096)
                _ = try p.writeData(payload)
                try p.send(to: p.id)
                _ = try p.receiveBlocking(tags: [1], timeoutMs: .max)
                rounds.update { $0 += 1 }
            }
        }
        try #require(waitUntil { pressure.waitingProducers > 0 }, "the producer never waited for the writer")
        let roundsWhenStalled = rounds.value

        // While the producer waits: another process is spawned, sends into the producer's
        // mailbox (its lock is free) and into the receiver's, whose receive returns.
        let other = env.spawn(entry: "other") { p in
            p.createData(tag: 8, capacity: 0)
            try p.send(to: producer)
            p.createData(tag: 7, capacity: 0)
            try p.send(to: receiver)
        }
        #expect(env.waitForExitBlocking(of: other, timeout: 120) == .normal)
        #expect(env.waitForExitBlocking(of: receiver, timeout: 120) == .normal)
        #expect(receivedTag.value == 7)
        // The host takes the environment's lock and the producer's mailbox lock, and kills the
        // producer, whose wait for the writer ends with the kill.
        #expect(env.exists(producer))
        let mailbox = try #require(env.process(producer)?.mailbox)
        mailbox.lock.lock()
        let queued = mailbox.queue.count
        mailbox.lock.unlock()
        #expect(queued == 2)  // its own last message and that of `other`
        env.kill(producer)
        #expect(env.waitForExitBlocking(of: producer, timeout: 120) == .killed)
        // All of that happened while the writer was still stalled, and the producer did no
        // further round.
        #expect(pressure.isBehind)
        #expect(rounds.value == roundsWhenStalled)

        draining = true
        drain.signal()
        let summary = try writer.close()
        close(writeEnd)
        drained.wait()

        let reader = try TraceReader(bytes: bytes.value)
        var events: [TraceEvent] = []
        while let e = try reader.next() { events.append(e) }
        #expect(reader.stop == .complete(summary))
        #expect(UInt64(events.count) == writer.eventCount)
        #expect(events.contains { $0.kind == .send && $0.pid == other && $0.args.first == Int64(producer) })
        #expect(events.contains { $0.kind == .receive && $0.pid == receiver })
        #expect(events.contains { $0.kind == .kill && $0.args.first == Int64(producer) })
        #expect(events.last { $0.pid == producer }?.kind == .exit)
    }

    /// Whether `pid` is blocked in `receive` (read under its mailbox lock).
    private static func isWaitingInReceive(_ env: Environment, _ pid: ProcessID) -> Bool {
        guard let mb = env.process(pid)?.mailbox else { return false }
        mb.lock.lock()
        defer { mb.lock.unlock() }
        if case .receive = mb.wait { return true }
        return false
    }

    /// Polls `condition` until it holds or a loose bound (minutes, for a loaded machine) passes.
    private static func waitUntil(_ condition: () -> Bool) -> Bool {
        let deadline = MonotonicClock.deadline(after: 180)
        while !condition() {
            if MonotonicClock.now() > deadline { return false }
            usleep(1_000)
        }
        return true
    }
}
