import Foundation
import TraceFormat

/// Builds consistent hand-made event sequences (the events LunaRuntime records, call by call),
/// so analysis can be tested without files or a runtime.
struct ScenarioBuilder {
    private(set) var events: [TraceEvent] = []
    /// Current trace time in nanoseconds.
    var now: UInt64 = 0
    private var nextMessage: MessageID = 1
    private var slots: [MessageID: Int64] = [:]
    private var scratch: [UInt64: MessageID] = [:]
    private var received: Set<MessageID> = []

    mutating func advance(ms: Double) { now += UInt64(ms * 1_000_000) }

    mutating func spawn(parent: UInt64, child: UInt64, entry: String) {
        events.append(
            TraceEvent(kind: .spawn, pid: parent, start: now, args: [Int64(child), 0, 0, 0], text: entry, result: .value(0)))
        events.append(TraceEvent(kind: .start, pid: child, start: now, args: [Int64(parent)], text: entry))
    }

    @discardableResult
    mutating func create(_ pid: UInt64, tag: Int64 = 0) -> MessageID {
        let id = nextMessage
        nextMessage += 1
        // As LunaRuntime records it: a replaced message that was received is not "dropped".
        if let old = scratch[pid], !received.contains(old) {
            events.append(
                TraceEvent(
                    kind: .messageDropped, pid: pid, start: now, args: [DropReason.replacedInScratch.rawValue], message: old))
        }
        events.append(TraceEvent(kind: .createData, pid: pid, start: now, args: [tag, 64], message: id))
        scratch[pid] = id
        return id
    }

    mutating func write(_ pid: UInt64, _ bytes: [UInt8]) {
        events.append(
            TraceEvent(
                kind: .writeData, pid: pid, start: now, args: [Int64(bytes.count)], payload: .bytes(bytes),
                result: .value(Int64(bytes.count))))
    }

    @discardableResult
    mutating func push(_ pid: UInt64, _ kind: EventKind, id: Int64) -> Int64 {
        let m = scratch[pid]!
        let slot = slots[m, default: 0]
        slots[m] = slot + 1
        events.append(TraceEvent(kind: kind, pid: pid, start: now, args: [id], result: .value(slot)))
        return slot
    }

    mutating func send(_ pid: UInt64, to target: UInt64) {
        let m = scratch.removeValue(forKey: pid)!
        events.append(TraceEvent(kind: .send, pid: pid, start: now, args: [Int64(target)], message: m, result: .value(0)))
    }

    /// A receive that returns `message` after waiting `waitMs`.
    mutating func receive(_ pid: UInt64, _ message: MessageID, tags: [Int64] = [], timeoutMs: Int64 = -1, waitMs: Double = 0) {
        let start = now
        advance(ms: waitMs)
        if let old = scratch[pid], !received.contains(old) {
            events.append(
                TraceEvent(
                    kind: .messageDropped, pid: pid, start: now, args: [DropReason.replacedInScratch.rawValue], message: old))
        }
        received.insert(message)
        events.append(
            TraceEvent(
                kind: .receive, pid: pid, start: start, end: now, args: [timeoutMs], tags: tags, message: message,
                result: .value(0)))
        scratch[pid] = message
    }

    /// A receive that times out after `timeoutMs`.
    mutating func receiveTimeout(_ pid: UInt64, tags: [Int64] = [], timeoutMs: Int64) {
        let start = now
        advance(ms: Double(timeoutMs))
        events.append(
            TraceEvent(kind: .receive, pid: pid, start: start, end: now, args: [timeoutMs], tags: tags, result: .value(9027)))
    }

    mutating func read(_ pid: UInt64, _ count: Int) {
        events.append(
            TraceEvent(
                kind: .readData, pid: pid, start: now, args: [Int64(count)],
                payload: .bytes(Array(repeating: 0x41, count: count)), result: .value(Int64(count))))
    }

    mutating func take(_ pid: UInt64, _ kind: EventKind, index: Int64, newID: Int64) {
        events.append(TraceEvent(kind: kind, pid: pid, start: now, args: [index], result: .value(newID)))
    }

    mutating func drop(_ message: MessageID, at pid: UInt64, _ reason: DropReason) {
        events.append(TraceEvent(kind: .messageDropped, pid: pid, start: now, args: [reason.rawValue], message: message))
    }

    mutating func resourceDropped(_ message: MessageID, at pid: UInt64, slot: Int64, kind: ResourceKind) {
        events.append(TraceEvent(kind: .resourceDropped, pid: pid, start: now, args: [slot, kind.rawValue], message: message))
    }

    mutating func exit(_ pid: UInt64, _ status: ExitCode, reason: String = "") {
        events.append(TraceEvent(kind: .exit, pid: pid, start: now, args: [status.rawValue], text: reason))
        scratch[pid] = nil
    }

    mutating func append(_ event: TraceEvent) { events.append(event) }
}

/// The postmortem scenario the tests share, with every problem `lost` must find planted in it.
///
/// - pid 1 `main` spawns 2 `worker` and 3 `logger`.
/// - m1 (tag 7, 12 B, a TCP stream in slot 0 and a module in slot 1) goes 1 → 2; worker takes
///   the stream as its id 0, never the module; m1 is later replaced in worker's scratch, so
///   the module is dropped untaken.
/// - worker's receive of tag 9 times out; m2 (tag 9) arrives 3 ms later: a near miss.
/// - worker creates m3 (replacing m1).
/// - m4 goes to pid 9, which never existed; logger ends, then m5 goes to it (receiver dead).
/// - m6 (tag 5) is queued at worker when worker fails: worker dies with m2 and m6 queued.
enum Postmortem {
    static func events() -> [TraceEvent] {
        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "main")
        s.advance(ms: 1)
        s.spawn(parent: 1, child: 2, entry: "worker")
        s.spawn(parent: 1, child: 3, entry: "logger")
        s.advance(ms: 1)
        let m1 = s.create(1, tag: 7)
        s.write(1, Array("hello, world".utf8))
        s.push(1, .pushTcpStream, id: 4)
        s.push(1, .pushModule, id: 0)
        s.send(1, to: 2)
        s.advance(ms: 0.5)
        s.receive(2, m1, tags: [7], waitMs: 2)
        s.read(2, 12)
        s.take(2, .takeTcpStream, index: 0, newID: 0)
        s.advance(ms: 1)
        s.receiveTimeout(2, tags: [9], timeoutMs: 10)
        s.advance(ms: 3)
        let m2 = s.create(1, tag: 9)
        s.send(1, to: 2)
        s.advance(ms: 1)
        // worker replaces m1 in its scratch: the module in slot 1 goes with it.
        s.resourceDropped(m1, at: 2, slot: 1, kind: .module)
        s.create(2, tag: 1)
        s.advance(ms: 1)
        let m4 = s.create(1, tag: 3)
        s.send(1, to: 9)
        s.drop(m4, at: 1, .receiverMissing)
        s.advance(ms: 1)
        s.exit(3, .normal)
        s.advance(ms: 1)
        let m5 = s.create(1, tag: 4)
        s.send(1, to: 3)
        s.drop(m5, at: 1, .receiverMissing)
        s.advance(ms: 1)
        let m6 = s.create(1, tag: 5)
        s.send(1, to: 2)
        s.advance(ms: 1)
        // As LunaRuntime records it: the mailbox is dropped before the exit is visible.
        s.drop(m2, at: 2, .leftInMailbox)
        s.drop(m6, at: 2, .leftInMailbox)
        s.exit(2, .failure, reason: "unreachable")
        s.advance(ms: 1)
        s.exit(1, .normal)
        return s.events
    }
}

extension ScenarioBuilder {
    /// Client 1 asks server 2 with skip-search (request tag 42, 100 ms timeout) and gets a
    /// reply, as format 1.0 recorded it: the call is one event, recorded when it returned, so
    /// the server's receive of the request comes first.
    static func formatOneZeroSkipSearch() -> (events: [TraceEvent], request: MessageID, reply: MessageID) {
        var s = ScenarioBuilder()
        s.spawn(parent: 0, child: 1, entry: "client")
        s.spawn(parent: 0, child: 2, entry: "server")
        let request = s.create(1, tag: 42)
        let callStart = s.now
        s.advance(ms: 1)
        s.receive(2, request, waitMs: 1)
        let reply = s.create(2, tag: 42)
        s.send(2, to: 1)
        s.advance(ms: 1)
        s.append(
            TraceEvent(
                kind: .sendReceiveSkipSearch, pid: 1, start: callStart, end: s.now,
                args: [2, 100, Int64(reply)], message: request, result: .value(0)))
        return (s.events, request, reply)
    }

    /// Writes `events` under a format 1.0 header to `url`.
    static func writeFormatOneZero(_ events: [TraceEvent], to url: URL) throws -> TraceSummary {
        let writer = try TraceWriter(
            path: url.path, header: TraceHeader(producer: "tests", timeUnitNanos: 1, formatMajor: 1, formatMinor: 0))
        for e in events { writer.record(e) }
        return try writer.close()
    }
}
