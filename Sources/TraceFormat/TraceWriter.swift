import Dispatch
import LunaSupport

/// Writes events into a trace file (see `docs/TRACE_FORMAT.md`).
///
/// `record` is cheap and safe from many threads: it appends the event to the current batch under
/// an uncontended lock, so events appear in the file in the order `record` was called. A full
/// batch is handed to a background queue that compresses and writes it as one block; batches
/// are written strictly in hand-off order.
///
/// `record` never waits for the file: callers hold runtime locks there. When more than
/// `maxPendingBlocks` blocks wait for the background queue, `backPressure` says so, and the
/// runtime makes each producing process wait at its next host call, holding no lock (see
/// `TraceBackPressure`). No event is ever dropped.
public final class TraceWriter: TraceSink {
    /// Writer settings.
    public struct Options: Sendable {
        /// Which payload bytes are kept (default: all).
        public var payloadCapture: PayloadCapture
        /// Events per block (a block is also cut at `TraceWriter.blockSoftLimitBytes` raw bytes).
        public var eventsPerBlock: Int
        /// zstd compression level (1…19). Level 1 is the default: on traces it compresses as
        /// well as level 3 or better at twice the speed (figures in docs/BENCHMARKS.md).
        public var compressionLevel: Int
        /// How many full blocks may wait for the background writer before producers are asked
        /// to wait (`backPressure`).
        public var maxPendingBlocks: Int
        /// Longest time (seconds) an event may wait in a partial block: a block whose first
        /// event is older is written as it is, so a killed recorder loses at most about this
        /// much. Busy runs fill blocks sooner and are not affected. `nil` (the default): only
        /// full blocks, so the file's layout depends on its events alone. The recording
        /// commands use `recordingMaxBlockAge`.
        public var maxBlockAge: Double?

        /// The `maxBlockAge` of `luna-trace record`, `run` and `test`: 50 ms.
        public static let recordingMaxBlockAge = 0.05

        /// Creates options; the defaults suit tracing a runtime.
        public init(
            payloadCapture: PayloadCapture = .full, eventsPerBlock: Int = 16_384,
            compressionLevel: Int = 1, maxPendingBlocks: Int = 4, maxBlockAge: Double? = nil
        ) {
            self.payloadCapture = payloadCapture
            self.eventsPerBlock = max(1, eventsPerBlock)
            self.compressionLevel = compressionLevel
            self.maxPendingBlocks = max(1, maxPendingBlocks)
            self.maxBlockAge = maxBlockAge.map { $0.isFinite ? max(0.001, $0) : 0.05 }
        }
    }

    /// A block is cut once its raw events reach this size, whatever `eventsPerBlock` says.
    public static let blockSoftLimitBytes = 4 << 20

    private struct Pending {
        var encoder: BlockEncoder
        var count: UInt64 = 0
        var closed = false
        /// Monotonic ns when the current block got its first event (with `maxBlockAge`).
        var blockStarted: UInt64 = 0
    }

    private let pending: Locked<Pending>
    private let output: BlockOutput
    private let queue = DispatchQueue(label: "luna.trace.writer")
    /// Blocks queued for the background writer; producers wait on it outside every lock.
    private let gauge: TraceBackPressure
    /// The backlog of blocks waiting for the background writer (never nil for a writer).
    public var backPressure: TraceBackPressure? { gauge }
    private let spare: BytesPool
    private let eventsPerBlock: Int
    private let capture: PayloadCapture
    /// `maxBlockAge` in ns (0 = off).
    private let maxAgeNanos: UInt64
    /// Writes partial blocks that reached `maxBlockAge`.
    private let ageTimer: TimerSource?
    /// The header written at the start of the file.
    public let header: TraceHeader

    /// Creates (or truncates) the file at `path` and writes the header.
    public convenience init(path: String, header: TraceHeader, options: Options = .init()) throws {
        let fd = try FileDescriptorIO.openForWriting(path)
        try self.init(fd: fd, owned: true, header: header, options: options)
    }

    /// Writes to an open descriptor (e.g. 1 for standard output). The descriptor is not closed.
    /// Offsets in the trace count from the descriptor's position at this call.
    public convenience init(fileDescriptor: Int32, header: TraceHeader, options: Options = .init()) throws {
        try self.init(fd: fileDescriptor, owned: false, header: header, options: options)
    }

    private init(fd: Int32, owned: Bool, header: TraceHeader, options: Options) throws {
        self.header = header
        eventsPerBlock = options.eventsPerBlock
        capture = options.payloadCapture
        let initialBytes = min(TraceWriter.blockSoftLimitBytes, options.eventsPerBlock * 16) + 4096
        pending = Locked(Pending(encoder: BlockEncoder(unit: header.timeUnitNanos, capacity: initialBytes)))
        gauge = TraceBackPressure(limit: options.maxPendingBlocks)
        spare = BytesPool(keep: options.maxPendingBlocks + 1)
        output = BlockOutput(fd: fd, owned: owned, header: header, options: options)
        maxAgeNanos = options.maxBlockAge.map { UInt64($0 * 1e9) } ?? 0
        ageTimer =
            maxAgeNanos > 0
            ? TimerSource(DispatchSource.makeTimerSource(queue: DispatchQueue(label: "luna.trace.writer.age"))) : nil
        do {
            try output.writeHeader()
        } catch {
            output.closeDescriptor()
            ageTimer?.source.resume()  // a dispatch source must not be released inactive
            ageTimer?.source.cancel()
            throw error
        }
        if let ageTimer { start(ageTimer.source) }
    }

    /// Checks the current block's age every half `maxBlockAge`.
    private func start(_ timer: DispatchSourceTimer) {
        let period = DispatchTimeInterval.nanoseconds(Int(max(maxAgeNanos / 2, 1_000_000)))
        timer.schedule(deadline: .now() + period, repeating: period, leeway: .milliseconds(5))
        timer.setEventHandler { [weak self] in self?.writeAgedBlock() }
        timer.resume()
    }

    /// Hands off the current block if its first event waited `maxBlockAge` or longer.
    private func writeAgedBlock() {
        let now = MonotonicClock.now()
        pending.withLock { p in
            guard !p.closed, p.encoder.eventCount > 0, now &- p.blockStarted >= maxAgeNanos else { return }
            handOff(&p)
        }
    }

    /// Notes when a block gets its first event (only when blocks have a maximum age).
    @inline(__always)
    private func noteFirstEvent(_ p: inout Pending) {
        if maxAgeNanos > 0 && p.encoder.eventCount == 1 { p.blockStarted = MonotonicClock.now() }
    }

    deinit {
        // Best effort: a writer dropped without close() still gets its events and summary out.
        _ = try? finish()
    }

    /// Number of events recorded so far.
    public var eventCount: UInt64 { pending.withLock { $0.count } }

    /// Records one event: encodes it into the current block under the lock (no allocation in
    /// the steady state); a full block goes to the background queue. Ignored after `close()`.
    public func record(_ event: TraceEvent) {
        pending.withLock { p in
            guard !p.closed else { return }
            p.encoder.encode(event, capture: capture)
            p.count &+= 1
            noteFirstEvent(&p)
            if p.encoder.eventCount >= eventsPerBlock || p.encoder.bodyBytes >= TraceWriter.blockSoftLimitBytes {
                handOff(&p)
            }
        }
    }

    /// Records one event given as plain fields and borrowed payload bytes: the fast path of
    /// the runtime's message calls (no `TraceEvent`, no payload copy but the one into the block).
    public func record(_ event: EventRecord, payload: UnsafeRawBufferPointer?) {
        pending.withLock { p in
            guard !p.closed else { return }
            p.encoder.encode(event, payload: payload, capture: capture)
            p.count &+= 1
            noteFirstEvent(&p)
            if p.encoder.eventCount >= eventsPerBlock || p.encoder.bodyBytes >= TraceWriter.blockSoftLimitBytes {
                handOff(&p)
            }
        }
    }

    /// Passes the current block to the background queue. Called with the lock held, so blocks
    /// reach the queue in recording order. Never waits: a backlog only raises `backPressure`.
    private func handOff(_ p: inout Pending) {
        guard p.encoder.eventCount > 0 else { return }
        let next = spare.take() ?? BlockBytes(capacity: p.encoder.storage.capacity)
        let block = p.encoder.take(firstEventIndex: p.count - UInt64(p.encoder.eventCount), next: next)
        gauge.blockQueued()
        let output = self.output, pressure = self.gauge, spare = self.spare
        queue.async {
            output.write(block)
            spare.give(block.storage)
            pressure.blockWritten()
        }
    }

    /// Writes every recorded event to the file (as complete blocks) before returning.
    /// Throws the first write error met so far.
    public func flush() throws {
        pending.withLock { p in handOff(&p) }
        queue.sync {}
        if let e = output.error { throw e }
    }

    /// Flushes, writes the frame index and the closing summary, and closes the file (when this
    /// writer opened it). Later calls return the same summary.
    @discardableResult
    public func close() throws -> TraceSummary { try finish() }

    private func finish() throws -> TraceSummary {
        ageTimer?.source.cancel()
        pending.withLock { p in
            handOff(&p)
            p.closed = true
        }
        let output = self.output
        return try queue.sync { () throws -> TraceSummary in try output.finish() }
    }
}

/// A dispatch timer shared between threads (`@unchecked Sendable`: dispatch sources are
/// thread-safe; the reference never changes).
private final class TimerSource: @unchecked Sendable {
    let source: any DispatchSourceTimer
    init(_ source: any DispatchSourceTimer) { self.source = source }
}
