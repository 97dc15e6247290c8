import ConformanceKit
import Foundation
import LunaRuntime
import LunaSupport
import TraceFormat

/// What the dispatcher waits for: requests from the reading thread, the ends of blocking calls
/// from process bodies, and the end of input. `@unchecked Sendable`: every field is guarded by
/// `cond`.
final class Inbox: @unchecked Sendable {
    /// What woke the dispatcher.
    enum Event {
        case request(BuiltinAdapter.Request)
        /// A body has posted the end of its blocking call.
        case completion
        /// The deadline passed.
        case deadline
        case endOfInput
    }

    private let cond = ConditionLock()
    private var requests: [BuiltinAdapter.Request] = []
    private var head = 0
    private var completions: [ObjectIdentifier: (process: AdapterProcess, completion: AdapterProcess.Completion)] = [:]
    private var inputEnded = false

    /// Queues a request read from stdin (reading thread).
    func put(_ r: BuiltinAdapter.Request) {
        cond.lock()
        requests.append(r)
        cond.signal()
        cond.unlock()
    }

    /// Marks the end of stdin (reading thread).
    func endInput() {
        cond.lock()
        inputEnded = true
        cond.signal()
        cond.unlock()
    }

    /// Hands the end of `p`'s blocking call to the dispatcher (its body).
    func post(_ c: AdapterProcess.Completion, for p: AdapterProcess) {
        cond.lock()
        completions[ObjectIdentifier(p)] = (p, c)
        cond.broadcast()
        cond.unlock()
    }

    /// Whether `p`'s body has posted the end of its blocking call.
    func hasCompletion(_ p: AdapterProcess) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        return completions[ObjectIdentifier(p)] != nil
    }

    /// The processes whose bodies have posted the end of their blocking call, lowest pid first.
    func completedProcesses() -> [AdapterProcess] {
        cond.lock()
        defer { cond.unlock() }
        return completions.values.map(\.process).sorted { $0.pid < $1.pid }
    }

    /// Takes the end of `p`'s blocking call, waiting for its body to post it at most `timeout`
    /// seconds (nil when it did not).
    func takeCompletion(of p: AdapterProcess, timeout: Double) -> AdapterProcess.Completion? {
        let deadline = MonotonicClock.deadline(after: timeout)
        cond.lock()
        defer { cond.unlock() }
        while true {
            if let c = completions.removeValue(forKey: ObjectIdentifier(p)) { return c.completion }
            if MonotonicClock.now() >= deadline { return nil }
            cond.wait(untilMonotonicNs: deadline)
        }
    }

    /// Forgets posted completions (after a reset, whose processes are all gone).
    func dropCompletions() {
        cond.lock()
        completions = [:]
        cond.unlock()
    }

    /// The next thing to do: a posted completion first, then the oldest request, then the end
    /// of input. Calls `beforeBlocking` (outside the lock) when it has to wait, at most until
    /// `deadline` (monotonic nanoseconds, `MonotonicClock`).
    func next(until deadline: UInt64?, beforeBlocking: () -> Void) -> Event {
        var flushed = false
        cond.lock()
        while true {
            if !completions.isEmpty { cond.unlock(); return .completion }
            if head < requests.count {
                let r = requests[head]
                head += 1
                if head > 1024 && head * 2 > requests.count {
                    requests.removeFirst(head)
                    head = 0
                }
                cond.unlock()
                return .request(r)
            }
            if inputEnded { cond.unlock(); return .endOfInput }
            if !flushed {
                cond.unlock()
                beforeBlocking()
                flushed = true
                cond.lock()
                continue
            }
            if let deadline, MonotonicClock.now() >= deadline { cond.unlock(); return .deadline }
            cond.wait(untilMonotonicNs: deadline)
        }
    }
}

/// A request the adapter cannot perform.
struct AdapterRequestError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Makes the runtime number messages (their ids become message tokens) and keeps nothing.
final class MessageIDSink: TraceSink {
    func record(_ event: TraceEvent) {}
}

/// A resource created by `new_resource`, named by its token.
final class AdapterResource: Resource {
    let resourceKind: ResourceKind
    let token: String
    init(kind: ResourceKind, token: String) {
        self.resourceKind = kind
        self.token = token
    }
}

/// Unique resource tokens. `@unchecked Sendable`: the counter is guarded by `lock`.
final class TokenCounter: @unchecked Sendable {
    private let lock = ConditionLock()
    private var next = 0
    func make(_ prefix: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        next += 1
        return "\(prefix)\(next)"
    }
}

/// Buffered, locked stdout. `@unchecked Sendable`: every access holds `lock`.
final class ResponseWriter: @unchecked Sendable {
    private let lock = ConditionLock()
    private var buffer: [UInt8] = []
    private let fd: Int32

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    func result(_ id: Int64, _ json: String, flush: Bool = false) {
        line("{\"id\":\(id),\"result\":\(json)}", flush: flush)
    }

    func error(_ id: Int64, _ text: String, flush: Bool = false) {
        var s = ""
        JSONValue.writeString(text, to: &s)
        line("{\"id\":\(id),\"error\":\(s)}", flush: flush)
    }

    func ended(_ id: Int64, _ status: String, flush: Bool = false) {
        line("{\"id\":\(id),\"ended\":\"\(status)\"}", flush: flush)
    }

    func line(_ text: String, flush doFlush: Bool) {
        lock.lock()
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if doFlush || buffer.count > 1 << 16 { writeAll() }
        lock.unlock()
    }

    func flush() {
        lock.lock()
        writeAll()
        lock.unlock()
    }

    private func writeAll() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
