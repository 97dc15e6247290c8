import TraceFormat

/// One process's state and its lunatic operations. Used only by the process's own body
/// (native closure or guest thread), except for the mailbox, which has its own lock.
public final class ProcessContext: @unchecked Sendable {
    // Hot fields are `@exclusivity(unchecked)`: the discipline described here already
    // excludes overlapping access, and the dynamic checks cost a quarter of the throughput.
    // @unchecked Sendable: `scratch`, `resources` and `lastTarget` are touched only by the
    // process's own body (one task or one thread at a time) and, after the body ended, by
    // `Environment.finish` on the same context; `links` and `dieWhenLinkDies` only under the
    // environment's lock; the mailbox synchronizes itself.

    /// The process id.
    public let id: ProcessID
    /// The environment the process lives in.
    public let environment: Environment
    /// The entry name given at spawn.
    public let entry: String
    /// The spawning process, if any.
    public let parent: ProcessID?
    /// Whether the body runs on a thread of its own (guest) rather than the native executor.
    public let isThread: Bool

    package let mailbox = Mailbox()
    package let trace: (any TraceSink)?
    /// `trace` when it is a `TraceWriter`, unretained: hot calls record into it directly,
    /// without a witness call or reference counting. Safe: the environment holds the sink for
    /// as long as it lives, and this context holds the environment.
    package let writer: Unmanaged<TraceWriter>?
    /// `trace` when it is a `FlightRecorder`, unretained, as `writer`.
    package let flight: Unmanaged<FlightRecorder>?
    /// The sink's backlog gauge, when it writes in the background (see `waitForTraceWriter`).
    package let backPressure: TraceBackPressure?
    @exclusivity(unchecked) package var scratch: Message?
    @exclusivity(unchecked) package var resources = ResourceTables()
    /// The mailbox of the last process sent to (kept alive here), for sends without a table lookup.
    @exclusivity(unchecked) private var lastTargetMailbox: Mailbox?
    @exclusivity(unchecked) private var lastTargetID: ProcessID = 0
    /// Linked processes and the tag this side remembers for each (environment lock).
    @exclusivity(unchecked) package var links: [ProcessID: Int64] = [:]
    /// R-PROC-5 flag (environment lock); on by default.
    @exclusivity(unchecked) package var dieWhenLinkDies = true
    /// "no process" notices of `link` to a missing pid, handled at the next waiting call
    /// (owner only).
    @exclusivity(unchecked) package var deferredLinkDeaths: [DeferredLinkDeath] = []

    /// For a native process, the executor it runs on (to refuse blocking calls there).
    @exclusivity(unchecked) package var nativeExecutor: NativeExecutor?
    /// What the body leaves to be freed after its exit is visible (a guest's store: unmapping
    /// its memory and freeing its instance is nothing others wait for). Thread bodies only;
    /// set by the body, cleared by `spawnThread` after `finish`.
    @exclusivity(unchecked) package var releasedAfterExit: AnyObject?

    init(id: ProcessID, environment: Environment, entry: String, parent: ProcessID?, isThread: Bool) {
        self.id = id
        self.environment = environment
        self.entry = entry
        self.parent = parent
        self.isThread = isThread
        self.trace = environment.trace
        self.writer = environment.writer
        self.flight = environment.flight
        self.backPressure = environment.trace?.backPressure
        mailbox.sink = environment.trace
        mailbox.writer = environment.writer
        if environment.trace != nil { mailbox.clock = environment.clock }
    }

    /// Nanoseconds since the environment's trace start.
    @inline(__always)
    public func now() -> UInt64 { environment.now() }

    /// Whether the process has been killed or has died from a link (its next call throws
    /// `ProcessTerminated`).
    public var isTerminating: Bool { mailbox.terminating.load(ordering: .relaxed) }

    /// Throws `ProcessTerminated` once the process has been killed or died from a link.
    @inline(__always)
    package func checkAlive() throws {
        if mailbox.terminating.load(ordering: .relaxed) { throw ProcessTerminated() }
    }

    /// Refuses a blocking call on the native executor's thread, where it would stall every
    /// native process (and could wait forever for one of them): the process traps instead.
    @inline(__always)
    package func checkMayBlock(_ call: EventKind) throws {
        if let e = nativeExecutor, e.isCurrent {
            throw trap(call, [], "luna: \(call.name) blocking variant called from a native process (use the async one)")
        }
    }

    /// Waits while the trace sink's background writing is behind (`TraceBackPressure`),
    /// blocking the calling thread; a kill ends the wait. Thread processes pass here at the start
    /// of every host call and waiting call, where they hold no lock, so a slow disk stops only
    /// the processes that go on producing events, and never one holding a runtime lock.
    @inline(__always)
    public func waitForTraceWriter() {
        if let backPressure, backPressure.isBehind {
            let mb = mailbox
            backPressure.waitBlocking(unless: { mb.terminating.load(ordering: .relaxed) })
        }
    }

    /// The same for native processes, at each waiting call: suspends only the calling task
    /// (never the executor's thread), until the writer has caught up.
    @inline(__always)
    nonisolated(nonsending) public func waitForTraceWriter() async {
        if let backPressure, backPressure.isBehind { await backPressure.wait() }
    }

    /// Records any other traced call (process/networking/wasi namespaces).
    @inline(__always)
    public func record(_ event: TraceEvent) {
        if let trace { trace.record(event) }
    }

    /// Records an event given as plain fields plus borrowed payload bytes, if tracing: the
    /// allocation-free path of `TraceSink.record(_:payload:)`, with no reference counting.
    @inline(__always)
    public func record(_ event: @autoclosure () -> EventRecord, payload: UnsafeRawBufferPointer? = nil) {
        if let writer {
            writer._withUnsafeGuaranteedRef { $0.record(event(), payload: payload) }
        } else if let flight {
            flight._withUnsafeGuaranteedRef { $0.record(event(), payload: payload) }
        } else if let trace {
            trace.record(event(), payload: payload)
        }
    }

    /// Records a trap of a host call that failed before reaching the core (e.g. a guest pointer
    /// out of bounds); the caller then throws `LunaTrap`.
    public func recordTrap(_ kind: EventKind, args: EventArguments, reason: String) {
        if let trace {
            trace.record(TraceEvent(kind: kind, pid: id, start: now(), args: args, result: .trap(reason)))
        }
    }

    /// Records the trap of call `kind` and returns the error to throw.
    @inline(never)
    package func trap(
        _ kind: EventKind, _ args: EventArguments, _ reason: String,
        message: MessageID = 0, start: UInt64? = nil
    ) -> LunaTrap {
        if let trace {
            let t = now()
            trace.record(
                TraceEvent(
                    kind: kind, pid: id, start: start ?? t, end: t, args: args,
                    message: message, result: .trap(reason)))
        }
        return LunaTrap(reason: reason)
    }

    /// The mailbox of process `pid`, remembering the last one (pids are never reused, so a
    /// cached mailbox stays the right one; it says itself whether it still accepts messages).
    /// Unmanaged: valid while this process runs (the cache or the table holds it).
    @inline(__always)
    package func targetMailbox(_ pid: ProcessID) -> Unmanaged<Mailbox>? {
        if pid == lastTargetID, let mb = lastTargetMailbox { return Unmanaged.passUnretained(mb) }
        guard let t = pid == id ? self : environment.process(pid) else { return nil }
        lastTargetMailbox = t.mailbox
        lastTargetID = pid
        return Unmanaged.passUnretained(t.mailbox)
    }

    package func dropCaches() { lastTargetMailbox = nil; lastTargetID = 0 }

    // MARK: resources (per-process tables, R-RES-1)

    /// Inserts `resource` into the table of its kind; returns its id there.
    public func insert(_ resource: any Resource) -> UInt64 { resources.insert(resource) }

    /// The resource `id` of `kind`, if present.
    public func resource(_ kind: ResourceKind, id: UInt64) -> (any Resource)? { resources.get(kind, id) }

    /// Removes and returns resource `id` of `kind`.
    public func removeResource(_ kind: ResourceKind, id: UInt64) -> (any Resource)? {
        resources.remove(kind, id)
    }

    /// Ids present in the table of `kind`, ascending.
    public func resourceIDs(_ kind: ResourceKind) -> [UInt64] { resources.ids(kind) }
}

/// A link-death notice `link` gave for a missing process, waiting for the caller's next
/// waiting call; `die` is the die_when_link_dies flag when `link` was called.
package struct DeferredLinkDeath {
    let from: ProcessID
    let tag: Int64
    let die: Bool
}
