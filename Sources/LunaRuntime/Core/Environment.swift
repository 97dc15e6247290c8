import LunaSupport
import Synchronization
import TraceFormat

/// A set of processes that can message each other: the process table, ids, links, exits,
/// and the trace sink every operation records into.
public final class Environment: @unchecked Sendable {
    // @unchecked Sendable: all mutable state (`live`, `nextPID`, `abnormalExits`, waiters,
    // links and flags of processes, the lazily created executor) is guarded by `lock`;
    // `messageIDs` is an atomic; `id`, `trace`, `clockOrigin` are immutable.

    /// The environment id (`lunatic::process::environment_id`).
    public let id: UInt64
    /// Where events go; nil = tracing off (a nil check per call, nothing else).
    public let trace: (any TraceSink)?
    /// `trace` when it is a `TraceWriter`, unretained (this environment holds it): hot calls
    /// record into it directly, without a witness call or reference counting.
    package let writer: Unmanaged<TraceWriter>?
    /// `trace` when it is a `FlightRecorder`, unretained, for the same direct path.
    package let flight: Unmanaged<FlightRecorder>?
    /// The monotonic clock reading that is time 0 of the trace.
    public let clockOrigin: UInt64
    /// The clock of event timestamps.
    package let clock: TraceClock
    /// Stack size of a guest (spawnThread) process's thread.
    public let threadStackSize: Int

    package let lock = ConditionLock()
    package var live: [ProcessID: ProcessContext] = [:]
    package var nextPID: ProcessID = 1
    package var abnormalExits: [ProcessID: ProcessExit] = [:]
    /// Ends published for processes that died parked, not yet released (see `takeParkedEnds`).
    package var parkedEnds: [ParkedEnd] = []
    package var exitWaiters: [ProcessID: [(UInt64, UnsafeContinuation<ProcessExit?, Never>)]] = [:]
    package var exitWaiterSerial: UInt64 = 0
    /// Threads blocked in `waitForExitBlocking`, per pid, and in `waitUntilAllExited`: an exit
    /// wakes them only when it is the one they wait for.
    package var blockedPIDWaiters: [ProcessID: Int] = [:]
    package var blockedAllWaiters = 0
    private let messageIDs = Atomic<UInt64>(0)
    private var nativeExecutor: NativeExecutor?

    /// Creates an environment; `trace` receives every event if given.
    public init(id: UInt64 = 1, trace: (any TraceSink)? = nil) {
        self.id = id
        self.trace = trace
        self.writer = (trace as? TraceWriter).map { Unmanaged.passUnretained($0) }
        self.flight = (trace as? FlightRecorder).map { Unmanaged.passUnretained($0) }
        self.clock = TraceClock()
        self.clockOrigin = clock.anchorMonotonicNanos
        self.threadStackSize = 8 << 20
    }

    /// Creates an environment with a chosen guest thread stack size.
    public init(id: UInt64 = 1, trace: (any TraceSink)? = nil, threadStackSize: Int) {
        self.id = id
        self.trace = trace
        self.writer = (trace as? TraceWriter).map { Unmanaged.passUnretained($0) }
        self.flight = (trace as? FlightRecorder).map { Unmanaged.passUnretained($0) }
        self.clock = TraceClock()
        self.clockOrigin = clock.anchorMonotonicNanos
        self.threadStackSize = max(threadStackSize, 64 << 10)
    }

    deinit { nativeExecutor?.shutdown() }

    /// Nanoseconds since the environment (trace) start.
    @inline(__always)
    public func now() -> UInt64 { clock.now() }

    /// A fresh trace-unique message id (only called while tracing).
    @inline(__always)
    package func newMessageID() -> MessageID {
        messageIDs.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// The executor running native processes (created on first use).
    package var executor: NativeExecutor {
        lock.lock()
        defer { lock.unlock() }
        if let e = nativeExecutor { return e }
        let e = NativeExecutor(name: "luna-env-\(id)")
        nativeExecutor = e
        return e
    }

    /// Records `event` if tracing.
    @inline(__always)
    package func record(_ event: @autoclosure () -> TraceEvent) {
        if let trace { trace.record(event()) }
    }

    // MARK: queries

    /// The live process `pid` (also while it is dying), if any.
    package func process(_ pid: ProcessID) -> ProcessContext? {
        lock.lock()
        defer { lock.unlock() }
        return live[pid]
    }

    /// Whether `pid` is running (spawned, not ended, not being killed).
    public func exists(_ pid: ProcessID) -> Bool {
        guard let p = process(pid) else { return false }
        return !p.mailbox.terminating.load(ordering: .relaxed)
    }

    /// How `pid` ended, or nil while it runs or if it never existed.
    public func exitStatus(of pid: ProcessID) -> ProcessExit? {
        lock.lock()
        defer { lock.unlock() }
        return exitStatusLocked(pid)
    }

    package func exitStatusLocked(_ pid: ProcessID) -> ProcessExit? {
        if pid == 0 || pid >= nextPID || live[pid] != nil { return nil }
        return abnormalExits[pid] ?? .normal
    }

    /// Number of processes that have not ended.
    public var liveCount: Int { lock.withLock { live.count } }

    /// Ids of processes that have not ended, ascending.
    public var liveProcesses: [ProcessID] { lock.withLock { live.keys.sorted() } }
}
