import Dispatch
import LunaSupport

/// Writes events into a trace file (see `docs/TRACE_FORMAT.md`).
///
/// `record` is cheap and safe from many threads: it copies the event, not yet encoded, into the
/// current batch under an uncontended lock (`StagedEvents`), so events appear in the file in the
/// order `record` was called. A full batch is handed to a background queue that encodes it into
/// blocks (`BlockAssembler`: the block format's per-block state lives there), compresses and
/// writes them; batches are handled strictly in hand-off order, and the blocks are those of a
/// writer encoding each event as it comes.
///
/// `record` never waits for the file: callers hold runtime locks there. When more than
/// `maxPendingBlocks` batches (each about a block's events) wait for the background queue,
/// `backPressure` says so, and the runtime makes each producing process wait at its next host
/// call, holding no lock (see `TraceBackPressure`). No event is ever dropped.
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
        /// How many full batches (each about a block's events) may wait for the background
        /// writer before producers are asked to wait (`backPressure`).
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
            payloadCapture: PayloadCapture = .full, eventsPerBlock: Int = 32_768,
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
        var staged: StagedEvents
        var count: UInt64 = 0
        var closed = false
        /// Monotonic ns when the current batch got its first event (with `maxBlockAge`).
        var stagedSince: UInt64 = 0
    }

    private let pending: Locked<Pending>
    private let assembler: BlockAssembler
    private let queue = DispatchQueue(label: "luna.trace.writer")
    /// Batches queued for the background writer (each about a block's events); producers wait
    /// on it outside every lock.
    private let gauge: TraceBackPressure
    /// The backlog of batches waiting for the background writer (never nil for a writer).
    public var backPressure: TraceBackPressure? { gauge }
    /// Emptied staging buffers for reuse.
    private let spare: BytesPool
    /// The first size of a staging buffer (it grows for large payloads).
    private let stagingBytes: Int
    private let eventsPerBlock: Int
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
        let blockBytes = min(TraceWriter.blockSoftLimitBytes, options.eventsPerBlock * 16) + 4096
        stagingBytes = min(TraceWriter.blockSoftLimitBytes, options.eventsPerBlock * StagedEvents.fixedBytes) + 4096
        pending = Locked(Pending(staged: StagedEvents(storage: BlockBytes(capacity: stagingBytes))))
        gauge = TraceBackPressure(limit: options.maxPendingBlocks)
        spare = BytesPool(keep: options.maxPendingBlocks + 1)
        let output = BlockOutput(fd: fd, owned: owned, header: header, options: options)
        assembler = BlockAssembler(
            output: output, unit: header.timeUnitNanos, timesInColumn: header.timesInColumn, blockBytes: blockBytes,
            capture: options.payloadCapture,
            eventsPerBlock: options.eventsPerBlock)
        maxAgeNanos = options.maxBlockAge.map { UInt64($0 * 1e9) } ?? 0
        ageTimer =
            maxAgeNanos > 0
            ? TimerSource(DispatchSource.makeTimerSource(queue: DispatchQueue(label: "luna.trace.writer.age"))) : nil
        do {
            try assembler.output.writeHeader()
        } catch {
            assembler.output.closeDescriptor()
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

    /// Ends the current block if its oldest event (staged here, or in the background writer's
    /// unwritten block) waited `maxBlockAge` or longer.
    private func writeAgedBlock() {
        let now = MonotonicClock.now()
        pending.withLock { p in
            guard !p.closed else { return }
            var oldest = assembler.partialSince.load(ordering: .relaxed)
            if p.staged.eventCount > 0 && (oldest == 0 || p.stagedSince < oldest) { oldest = p.stagedSince }
            guard oldest != 0, now &- oldest >= maxAgeNanos else { return }
            handOff(&p, cut: true)
        }
    }

    /// Notes when a batch gets its first event (only when blocks have a maximum age).
    @inline(__always)
    private func noteFirstEvent(_ p: inout Pending) {
        if maxAgeNanos > 0 && p.staged.eventCount == 1 { p.stagedSince = MonotonicClock.now() }
    }

    deinit {
        // Best effort: a writer dropped without close() still gets its events and summary out.
        _ = try? finish()
    }

    /// Number of events recorded so far.
    public var eventCount: UInt64 { pending.withLock { $0.count } }

    /// Records one event: keeps it in the current batch under the lock; a full batch goes to the
    /// background queue. Ignored after `close()`.
    public func record(_ event: TraceEvent) {
        pending.withLock { p in
            guard !p.closed else { return }
            p.staged.append(event)
            p.count &+= 1
            noteFirstEvent(&p)
            if p.staged.eventCount >= eventsPerBlock || p.staged.bytes >= TraceWriter.blockSoftLimitBytes {
                handOff(&p, cut: false)
            }
        }
    }

    /// Records one event given as plain fields and borrowed payload bytes: the fast path of
    /// the runtime's message calls (no `TraceEvent`; the record and payload are copied into the
    /// batch as they are, and encoded on the background queue).
    public func record(_ event: EventRecord, payload: UnsafeRawBufferPointer?) {
        pending.withLock { p in
            guard !p.closed else { return }
            p.staged.append(event, payload: payload)
            p.count &+= 1
            noteFirstEvent(&p)
            if p.staged.eventCount >= eventsPerBlock || p.staged.bytes >= TraceWriter.blockSoftLimitBytes {
                handOff(&p, cut: false)
            }
        }
    }

    /// Passes the current batch to the background queue (`cut`: and ends the block after it).
    /// Called with the lock held, so batches reach the queue in recording order. Never waits: a
    /// backlog only raises `backPressure`.
    private func handOff(_ p: inout Pending, cut: Bool) {
        let assembler = self.assembler
        guard p.staged.eventCount > 0 else {
            if cut { queue.async { assembler.cut() } }
            return
        }
        let next = spare.take() ?? BlockBytes(capacity: stagingBytes)
        let batch = p.staged.take(next: next, since: p.stagedSince, cut: cut)
        gauge.blockQueued()
        let pressure = self.gauge, spare = self.spare
        queue.async {
            assembler.add(batch)
            spare.give(batch.storage)
            pressure.blockWritten()
        }
    }

    /// Writes every recorded event to the file (as complete blocks) before returning.
    /// Throws the first write error met so far.
    public func flush() throws {
        pending.withLock { p in handOff(&p, cut: true) }
        queue.sync {}
        if let e = assembler.output.error { throw e }
    }

    /// Flushes, writes the frame index and the closing summary, and closes the file (when this
    /// writer opened it). Later calls return the same summary.
    @discardableResult
    public func close() throws -> TraceSummary { try finish() }

    private func finish() throws -> TraceSummary {
        ageTimer?.source.cancel()
        pending.withLock { p in
            handOff(&p, cut: true)
            p.closed = true
        }
        let output = assembler.output
        return try queue.sync { () throws -> TraceSummary in try output.finish() }
    }
}

/// A dispatch timer shared between threads (`@unchecked Sendable`: dispatch sources are
/// thread-safe; the reference never changes).
private final class TimerSource: @unchecked Sendable {
    let source: any DispatchSourceTimer
    init(_ source: any DispatchSourceTimer) { self.source = source }
}
