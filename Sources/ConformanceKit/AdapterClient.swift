import Foundation
import LunaSupport
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A running adapter child process and the protocol client that talks to it.
///
/// Requests are buffered and written in order (`request`, then `flush`); a reader thread parses
/// responses as they come and keeps them until the caller collects them by id. A stderr reader
/// keeps the child's last stderr lines. `terminate()` always reaps the child.
///
/// Thread safety: the request/response methods are called from one thread (the replay engine);
/// the reader threads only touch the state guarded by `lock`. Hence `@unchecked Sendable`.
public final class AdapterClient: @unchecked Sendable {
    /// How to start and judge the adapter.
    public struct Options: Sendable {
        /// The command and its arguments (run through `/usr/bin/env`, so a bare name is looked
        /// up in PATH).
        public var command: [String]
        /// How long to wait for the `hello` answer, in seconds.
        public var handshakeTimeout: Double
        /// How many stderr lines to keep for reports.
        public var stderrLines: Int

        /// Creates options.
        public init(command: [String], handshakeTimeout: Double = 30, stderrLines: Int = 20) {
            self.command = command
            self.handshakeTimeout = handshakeTimeout
            self.stderrLines = stderrLines
        }
    }

    /// The options it was started with.
    public let options: Options
    /// The adapter's `hello` answer (set by `init`, which throws when there is none).
    // swift-format-ignore: NeverUseImplicitlyUnwrappedOptionals
    public private(set) var handshake: AdapterHandshake!

    private let process = Process()
    private let stdinFD: Int32
    private let stdoutHandle: FileHandle
    private let stderrHandle: FileHandle
    private var writeBuffer: [UInt8] = []
    private var nextID: Int64 = 1
    private var terminated = false

    // Guarded by `lock`.
    private let lock = ConditionLock()
    private var arrived: [Int64: (AdapterResponse, UInt64)] = [:]
    private var readerFailure: AdapterFailure?
    private var stdoutClosed = false
    private var stderrRing: [String] = []
    private var issuedUpTo: Int64 = 0
    private var waitingFor: Int64 = 0
    private var readersDone = 0
    private var ignored: Set<Int64> = []
    /// One bit per request id that has been answered (a second answer is a protocol error).
    private var answeredBits: [UInt64] = []
    private var lastAnswerAt: UInt64 = 0

    /// Starts the adapter and performs the handshake.
    public init(options: Options) throws(AdapterFailure) {
        self.options = options
        signal(SIGPIPE, SIG_IGN)  // a dead child must give EPIPE, not kill us
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = options.command
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        // Our own close-on-exec duplicate: the FileHandle closes its descriptor when it is
        // released, so closing that number ourselves would race with a descriptor of the same
        // number opened meanwhile by another thread (another adapter client).
        stdinFD = fcntl(inPipe.fileHandleForWriting.fileDescriptor, F_DUPFD_CLOEXEC, 0)
        stdoutHandle = outPipe.fileHandleForReading
        stderrHandle = errPipe.fileHandleForReading
        guard !options.command.isEmpty else {
            throw AdapterFailure(.launchFailed, "empty adapter command")
        }
        do {
            try process.run()
        } catch {
            throw AdapterFailure(.launchFailed, "cannot start \(options.command.joined(separator: " ")): \(error)")
        }
        // Foundation starts the child as the leader of its own process group: ending that group
        // ends whatever the adapter started too.
        AdapterGroups.register(process.processIdentifier)
        // Our copies of the child's ends must be closed so EOF is seen when the child exits.
        try? inPipe.fileHandleForReading.close()
        try? outPipe.fileHandleForWriting.close()
        try? errPipe.fileHandleForWriting.close()
        try? inPipe.fileHandleForWriting.close()  // stdinFD is the one we write to
        let flags = fcntl(stdinFD, F_GETFL)
        _ = fcntl(stdinFD, F_SETFL, flags | O_NONBLOCK)
        startReaders()
        do throws(AdapterFailure) {
            // "protocol" stays 1 for adapters that check it; "protocols" lists what we speak.
            let id = request("hello", "\"protocol\":1,\"protocols\":[1,2]")
            try flush()
            guard let (response, _) = try response(for: id, deadline: MonotonicClock.deadline(after: options.handshakeTimeout))
            else {
                throw failure(.noHandshake, "no answer to hello within \(options.handshakeTimeout) s")
            }
            guard case .result(let value) = response, let hs = AdapterHandshake(value) else {
                throw failure(.noHandshake, "hello answered with \(response.summary), expected a result with name and protocol")
            }
            guard Self.protocolVersions.contains(hs.protocolVersion) else {
                throw failure(.badVersion, "adapter speaks protocol \(hs.protocolVersion), luna-conform speaks 1 and 2")
            }
            handshake = hs
        } catch {
            var e = error
            if e.kind == .crashed || e.kind == .hung { e.kind = .noHandshake }
            terminate()
            e.stderrTail = stderrTail()
            throw e
        }
    }

    deinit { terminate() }

    /// The longest response line accepted, in bytes.
    public static let maxLineBytes = 16 << 20

    /// The protocol versions luna-conform speaks (docs/ADAPTER_PROTOCOL.md, section 3).
    public static let protocolVersions: ClosedRange<Int64> = 1...2

    /// The child's process id.
    public var childPID: Int32 { process.processIdentifier }

    /// The last stderr lines the adapter wrote.
    public func stderrTail() -> [String] {
        lock.lock(); defer { lock.unlock() }
        return stderrRing
    }

    /// A failure report with the current stderr tail.
    func failure(_ kind: AdapterFailure.Kind, _ message: String) -> AdapterFailure {
        AdapterFailure(kind, message, stderrTail: stderrTail())
    }

    // MARK: requests

    /// Queues a request; `fields` is the JSON text of the other members (without braces), e.g.
    /// `"process":2,"hex":"6869"`. Returns its id. Nothing is written before `flush`.
    @discardableResult
    public func request(_ op: String, _ fields: String) -> Int64 {
        let id = nextID
        nextID += 1
        var line = "{\"id\":\(id),\"op\":\"\(op)\""
        if !fields.isEmpty { line += "," + fields }
        line += "}\n"
        writeBuffer.append(contentsOf: line.utf8)
        return id
    }

    /// The id of the last request queued.
    public var lastRequestID: Int64 { nextID - 1 }

    /// Bytes queued but not yet written.
    public var bufferedBytes: Int { writeBuffer.count }

    /// Writes every queued request.
    public func flush() throws(AdapterFailure) {
        if writeBuffer.isEmpty { return }
        lock.lock()
        issuedUpTo = nextID - 1
        lock.unlock()
        var offset = 0
        let total = writeBuffer.count
        let deadline = MonotonicClock.deadline(after: max(options.handshakeTimeout, 5))
        while offset < total {
            let n = writeBuffer.withUnsafeBytes { raw in
                write(stdinFD, raw.baseAddress! + offset, total - offset)
            }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                if MonotonicClock.now() > deadline {
                    throw failure(.hung, "adapter stopped reading its stdin (\(total - offset) request bytes not accepted)")
                }
                var pfd = pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 100)
                continue
            }
            throw failure(.crashed, "adapter closed its stdin (\(String(cString: strerror(errno))))\(exitDescription())")
        }
        writeBuffer.removeAll(keepingCapacity: true)
    }

    /// Waits for the response to `id` until `deadline` (monotonic ns; nil = only what has
    /// arrived). Returns it with its arrival time, or nil when the deadline passed first.
    /// Throws when the adapter crashed or broke the protocol.
    public func response(for id: Int64, deadline: UInt64?) throws(AdapterFailure) -> (AdapterResponse, UInt64)? {
        lock.lock()
        while true {
            if let r = arrived.removeValue(forKey: id) {
                lock.unlock()
                return r
            }
            if let f = readerFailure {
                lock.unlock()
                var f2 = f
                f2.stderrTail = stderrTail()
                throw f2
            }
            if stdoutClosed {
                lock.unlock()
                throw failure(.crashed, "adapter closed its stdout with request \(id) unanswered\(exitDescription())")
            }
            guard let deadline else { lock.unlock(); return nil }
            let now = MonotonicClock.now()
            if now >= deadline { lock.unlock(); return nil }
            waitingFor = id
            lock.wait(untilMonotonicNs: deadline)
            waitingFor = 0
        }
    }

    /// Waits until the response to `id` has arrived or `deadline` passed, without collecting
    /// it; returns it, or nil at the deadline. Throws when the adapter crashed or broke the
    /// protocol.
    public func awaitArrival(of id: Int64, deadline: UInt64) throws(AdapterFailure) -> AdapterResponse? {
        lock.lock()
        while true {
            if let r = arrived[id] {
                lock.unlock()
                return r.0
            }
            if let f = readerFailure {
                lock.unlock()
                var f2 = f
                f2.stderrTail = stderrTail()
                throw f2
            }
            if stdoutClosed {
                lock.unlock()
                throw failure(.crashed, "adapter closed its stdout with request \(id) unanswered\(exitDescription())")
            }
            let now = MonotonicClock.now()
            if now >= deadline { lock.unlock(); return nil }
            waitingFor = id
            lock.wait(untilMonotonicNs: deadline)
            waitingFor = 0
        }
    }

    /// Throws the protocol failure the reader has met, if any. The reader handles lines in
    /// order, so after an answer has arrived every earlier line has been judged.
    public func checkReaderFailure() throws(AdapterFailure) {
        lock.lock()
        let f = readerFailure
        lock.unlock()
        if var f {
            f.stderrTail = stderrTail()
            throw f
        }
    }

    /// When the adapter last answered any request (monotonic ns; 0 = never): an adapter that
    /// keeps answering is working through its queue, not hung.
    public var lastAnswerTime: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return lastAnswerAt
    }

    /// The response to `id` if it has arrived, without collecting it.
    public func peek(_ id: Int64) -> AdapterResponse? {
        lock.lock()
        defer { lock.unlock() }
        return arrived[id]?.0
    }

    /// Forgets the response to `id`, now or when it comes: nobody will collect it.
    public func ignore(_ id: Int64) {
        lock.lock()
        if arrived.removeValue(forKey: id) == nil { ignored.insert(id) }
        lock.unlock()
    }

    // MARK: shutdown

    /// Closes stdin, gives the child a moment to exit, kills it if needed, and reaps it.
    /// Safe to call more than once.
    public func terminate() {
        if terminated { return }
        terminated = true
        close(stdinFD)
        let pid = process.processIdentifier
        let deadline = MonotonicClock.deadline(after: 0.5)
        while process.isRunning && MonotonicClock.now() < deadline { usleep(2_000) }
        // An adapter that ignores end of input, and anything it started, ends with its group.
        kill(-pid, SIGKILL)
        if process.isRunning {
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        AdapterGroups.unregister(pid)
        // Let the readers see EOF (bounded: a grandchild might hold the pipes open).
        let readersDeadline = MonotonicClock.deadline(after: 1)
        lock.lock()
        while readersDone < 2 && MonotonicClock.now() < readersDeadline {
            lock.wait(untilMonotonicNs: min(readersDeadline, MonotonicClock.deadline(after: 0.05)))
        }
        lock.unlock()
    }

    /// " (exit status N)" once the child has exited, else "".
    private func exitDescription() -> String {
        let deadline = MonotonicClock.deadline(after: 0.3)
        while process.isRunning && MonotonicClock.now() < deadline { usleep(2_000) }
        if process.isRunning { return "" }
        switch process.terminationReason {
        case .exit: return " (exit status \(process.terminationStatus))"
        case .uncaughtSignal: return " (killed by signal \(process.terminationStatus))"
        @unknown default: return ""
        }
    }

    // MARK: readers

    private func startReaders() {
        let out = stdoutHandle.fileDescriptor
        let err = stderrHandle.fileDescriptor
        let t1 = Thread { [self] in
            // A line over the limit is reported with its first 200 bytes; the rest is skipped, so
            // memory stays bounded whatever the adapter writes.
            LineReader.readLines(
                fd: out, runawayLimit: Self.maxLineBytes,
                runaway: { line in
                    self.setReaderFailure(
                        .overlongLine,
                        "stdout line longer than \(Self.maxLineBytes) bytes (no newline within them): \(Self.excerpt(line))")
                }
            ) { self.handleStdoutLine($0) }
            readerEnded(stdout: true)
        }
        let t2 = Thread { [self] in
            LineReader.readLines(fd: err, runawayLimit: 16 << 20) { self.handleStderrLine($0) }
            readerEnded(stdout: false)
        }
        t1.name = "adapter-stdout"
        t2.name = "adapter-stderr"
        t1.start()
        t2.start()
    }

    private func readerEnded(stdout: Bool) {
        lock.lock()
        if stdout { stdoutClosed = true }
        readersDone += 1
        lock.broadcast()
        lock.unlock()
    }

    private func handleStderrLine(_ line: UnsafeBufferPointer<UInt8>) {
        let text = String(decoding: line.prefix(500), as: UTF8.self)
        lock.lock()
        stderrRing.append(text)
        if stderrRing.count > options.stderrLines { stderrRing.removeFirst(stderrRing.count - options.stderrLines) }
        lock.unlock()
    }

    private func handleStdoutLine(_ line: UnsafeBufferPointer<UInt8>) {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { return }
        let now = MonotonicClock.now()
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(line)
        } catch {
            setReaderFailure(.garbage, "stdout line is not JSON (\(error)): \(Self.excerpt(line))")
            return
        }
        guard let id = parsed["id"]?.int, let response = AdapterResponse(parsed) else {
            setReaderFailure(
                .garbage, "stdout line is not a response (needs id and result/trap/ended/error): \(Self.excerpt(line))")
            return
        }
        lock.lock()
        if id < 1 || id > issuedUpTo {
            lock.unlock()
            setReaderFailure(.unknownID, "answered request id \(id), which was never sent: \(Self.excerpt(line))")
            return
        }
        let word = Int(id >> 6), bit = UInt64(1) << UInt64(id & 63)
        if word >= answeredBits.count { answeredBits.append(contentsOf: repeatElement(0, count: word + 1 - answeredBits.count)) }
        if answeredBits[word] & bit != 0 {
            lock.unlock()
            setReaderFailure(.duplicateAnswer, "answered request \(id) a second time: \(Self.excerpt(line))")
            return
        }
        answeredBits[word] |= bit
        lastAnswerAt = now
        if ignored.remove(id) != nil { lock.unlock(); return }
        arrived[id] = (response, now)
        if waitingFor != 0 { lock.signal() }
        lock.unlock()
    }

    private func setReaderFailure(_ kind: AdapterFailure.Kind, _ message: String) {
        lock.lock()
        if readerFailure == nil { readerFailure = AdapterFailure(kind, message) }
        lock.broadcast()
        lock.unlock()
    }

    private static func excerpt(_ line: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: line.prefix(200), as: UTF8.self)
        return line.count > 200 ? text + "…" : text
    }
}
