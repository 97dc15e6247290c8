import Foundation
import LunaSupport
import TraceFormat

/// Limits of one replay.
public struct ReplayOptions: Sendable {
    /// Seconds a call may take beyond its own timeout before it counts as not returning.
    public var callTimeout: Double
    /// Seconds the whole trace may take.
    public var traceTimeout: Double

    /// Creates options.
    public init(callTimeout: Double = 2, traceTimeout: Double = 120) {
        self.callTimeout = callTimeout
        self.traceTimeout = traceTimeout
    }
}

/// Drives an adapter through one trace's calls and collects the divergences.
///
/// Order: events are sent in recorded order, which is causal (the runtime records a send before
/// the receive that takes it, and a timed-out receive before any later send to that process);
/// the adapter starts requests in the order it reads them (protocol section 2.1). Requests are
/// pipelined; the engine waits only for answers it needs to go on: new pids and resource ids,
/// and receives that timed out in the trace (so nothing that could reach that process is sent
/// before the timeout has elapsed). A `send_receive_skip_search` is sent at its send half (the
/// event that queued its request) and judged against its return event, whose index reports
/// name (a format 1.0 file's combined events reach the engine split, by `TraceReader`).
/// Answers are checked strictly in request order, so reports do not depend on the order in
/// which a correct adapter answers.
final class ReplayEngine {
    let client: AdapterClient
    let options: ReplayOptions
    var plan = ReplayPlan(AnyIterator { nil })
    var traceDeadline: UInt64 = 0

    // What the trace says, as replayed so far.
    var procs: [UInt64: ProcState] = [:]
    var messages: [MessageID: MessageModel] = [:]
    var resources: [ResourceIdentity] = []
    var resourceMap: [ResourceKey: ResourceEntry] = [:]
    var tokenToMessage: [String: MessageID] = [:]
    var deliveredTokens: [String: Int] = [:]

    // Requests in flight, checked in order.
    var pending: [PendingCall] = []
    var head = 0
    var requestCount = 0
    /// Index of the event being replayed: where requests sent now are issued.
    var position = 0
    /// The kind and pid of the event at `position` (named when the trace runs out of time).
    var positionCall: (kind: EventKind, pid: UInt64)?
    /// Skip-search calls sent at their send half, by the index of their return event.
    var openSkipSearch: [Int: Int64] = [:]
    /// When the latest answer to a blocking call of each process arrived: the adapter starts a
    /// process's later requests only then, so their budgets count from there.
    var busyUntil: [UInt64: UInt64] = [:]
    /// The latest blocking request of each process.
    var lastBlocking: [UInt64: Int64] = [:]
    /// Messages on their way to each process (by recorded pid) whose sends wait in the adapter
    /// behind a waiting call of their sender: the sender and the request whose answer shows
    /// the message has arrived.
    var queuedDeliveries: [UInt64: [(sender: UInt64, gate: Int64)]] = [:]
    /// Ends (kills, failures) waiting in the adapter behind a waiting call of their caller: for
    /// each process they reach (by recorded pid), the request whose answer lets them happen.
    var queuedEnds: [UInt64: (gate: Int64, caller: UInt64)] = [:]
    /// Skip-search calls waiting in the adapter behind a waiting call of their own process: the
    /// request whose answer lets the call begin, by recorded pid.
    var queuedSkipSearch: [UInt64: Int64] = [:]

    /// Every divergence found, in request order.
    var divergences: [Divergence] = []
    /// Calls the trace never saw return, not answered yet when their turn to be checked came:
    /// checked once the whole trace has been sent (see `settleNeverReturned`).
    var neverReturned: [PendingCall] = []
    /// The helper process holding each message a `send_after` timer will deliver.
    var timerHelpers: [MessageID: UInt64] = [:]

    // Resource tables rebuilt in the adapter (R-RES-1): insertions made so far per recorded
    // process and kind, and tables whose recorded ids cannot be followed.
    var tableCount: [TableKey: Int64] = [:]
    var untrackedTables: Set<TableKey> = []
    /// Resource ids a process has pushed (a later push of the same id tells moves from copies).
    var pushedKeys: Set<ResourceKey> = []
    /// Links made by `spawn` (parent, child) and by `link` calls, by recorded pids.
    var spawnLinks: Set<PidPair> = []
    var callLinks: Set<PidPair> = []
    /// Bytes of message content the replay may still generate or keep (bounds memory by the
    /// trace, not by the lengths it records).
    var contentBudget = ReplayEngine.contentLimit
    /// Why the trace cannot be replayed, when that was found (it then stops early).
    var unreplayable: String?
    /// Divergences (by position in `divergences`) where a later message of the same sender came
    /// first; decided at the end as a reorder or a loss (whether the overtaken one came later).
    var overtaken: [(position: Int, expected: MessageID)] = []
    /// Waits that timed out in the trace and may still be running in the adapter, by recorded
    /// pid, in request order: requests that could end them are held back until they have
    /// answered.
    var openWaits: [UInt64: [OpenWait]] = [:]
    /// When each request awaited out of order (`awaitAnswer`) is overdue, fixed at its first wait.
    var awaitDeadlines: [Int64: UInt64] = [:]
    /// Processes that linked to a missing pid and have not made a waiting call since: the
    /// "no process" notice may take effect at any call up to that one (R-PROC-3).
    var noticePending: Set<UInt64> = []
    /// Receives issued at the "no process" notice they let in (see `ReplayPlan.noticeReceives`),
    /// by index: at their own index only their position is checked.
    var issuedAtNotice: Set<Int> = []
    /// For each process that ended by itself in the trace (returned, failed, trapped), the
    /// request that ends it in the adapter: until it has answered, the adapter's process may
    /// still be alive (the request can be queued behind a waiting call of its own).
    var endRequest: [UInt64: Int64] = [:]
    /// Processes whose death the trace has decided (killed, or brought down by a link) but
    /// whose end it has not recorded yet: for the others they are gone already.
    var dyingInTrace: Set<UInt64> = []
    /// Processes that died of a "no process" notice, with the probe request in which they die
    /// in the adapter (see `probeAtDyingNotice`).
    var noticeProbes: [UInt64: Int64] = [:]
    /// Links made to a missing pid (caller, target).
    var missingLinks: Set<PidPair> = []
    /// Positions in `divergences` of calls that got no answer at all.
    var unansweredPositions: [Int] = []
    /// Positions in `divergences` that a busy machine can cause: a timeout judged late, and a
    /// finite wait that timed out where the trace has it return a message (the message may
    /// have been on its way). The runner reports them only when every replay repeats them.
    var timingDivergences: [Int] = []
    /// When the latest answer to a non-blocking request arrived (checked in request order): a
    /// later request cannot have started in the adapter before it.
    var lastNonblockingArrival: UInt64 = 0
    /// Recent answers to non-blocking requests: when each arrived and how long it took.
    var recentLags: [(arrival: UInt64, lag: UInt64)] = []

    init(client: AdapterClient, options: ReplayOptions) {
        self.client = client
        self.options = options
    }

    /// Replays `source`; throws when the adapter fails (crash, hang, garbage).
    func run(_ source: TraceSource, plan: ReplayPlan) throws(AdapterFailure) {
        self.plan = plan
        let watched = [client.childPID]
        SchedulingDelayMonitor.shared.acquire(watching: watched)
        defer { SchedulingDelayMonitor.shared.release(watching: watched) }
        traceDeadline = MonotonicClock.deadline(after: options.traceTimeout)
        let reset = client.request("reset", "")
        requestCount += 1
        try client.flush()
        guard let (answer, _) = try client.response(for: reset, deadline: MonotonicClock.deadline(after: options.callTimeout + 5))
        else {
            throw client.failure(.hung, "no answer to reset within \(options.callTimeout + 5) s")
        }
        if case .error(let text) = answer { throw client.failure(.rejectedRequest, "reset rejected: \(text)") }
        let events: AnyIterator<TraceEvent>
        do { events = try source.makeIterator() } catch {
            throw AdapterFailure(.launchFailed, "cannot read \(source.name): \(error)")
        }
        var index = 0
        while let event = events.next() {
            if unreplayable != nil { break }
            position = index
            positionCall = (event.kind, event.pid)
            if let early = plan.earlyCalls[index] {
                for (j, e) in early { try issue(j, e) }
            }
            if plan.issuedEarly.contains(index) || issuedAtNotice.remove(index) != nil {
                try atRecordedPosition(index, event)
            } else {
                try issue(index, event)
            }
            index += 1
            if index & 255 == 0 {
                if client.bufferedBytes > 16_384 { try client.flush() }
                try settleArrived()
                if MonotonicClock.now() > traceDeadline { throw traceTimedOut() }
            }
        }
        try client.flush()
        while head < pending.count { try settleHead(wait: true) }
        try settleNeverReturned()
        settleOvertaken()
        try endOfTrace()
    }

    /// Ends the trace with a `reset` round trip: every line the adapter wrote before answering
    /// it belongs to this trace (a stray or duplicate answer is charged here, not to the next
    /// trace), and an adapter that no longer answers at all is reported as hung here (its
    /// unanswered waiting calls are not divergences then) and is not reused.
    func endOfTrace() throws(AdapterFailure) {
        let id = client.request("reset", "")
        requestCount += 1
        try client.flush()
        let budget = options.callTimeout + 5
        guard let (answer, _) = try client.response(for: id, deadline: MonotonicClock.deadline(after: budget)) else {
            let dropped = Set(unansweredPositions)
            divergences = divergences.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
            throw client.failure(
                .hung,
                "no answer to the reset that ends the trace within \(budget) s"
                    + (unansweredPositions.isEmpty
                        ? "" : " (the \(unansweredPositions.count) call(s) left waiting are not judged)"))
        }
        try client.checkReaderFailure()  // a stray line written before this answer
        if case .error(let text) = answer { throw client.failure(.rejectedRequest, "reset rejected: \(text)") }
    }

    /// The trace ran out of time: names the event the replay had reached and the oldest
    /// requests still unanswered (what it was waiting for).
    func traceTimedOut() -> AdapterFailure {
        var text = "the trace did not finish within \(options.traceTimeout) s"
        if let e = positionCall { text += "; replay stopped at event #\(position) (\(e.kind.name), pid \(e.pid))" }
        let now = MonotonicClock.now()
        let waiting = pending[head...].filter { client.peek($0.requestID) == nil }
        if !waiting.isEmpty {
            let shown = waiting.prefix(3).map { call in
                "\(describe(call)), sent \(String(format: "%.1f", Double(now &- call.sentAt) / 1e9)) s before"
            }
            text += "; unanswered: " + shown.joined(separator: "; ")
            if waiting.count > 3 { text += "; and \(waiting.count - 3) more" }
        }
        return client.failure(.hung, text)
    }

    /// A request as reports name it: its id, operation and the trace event it stands for.
    func describe(_ call: PendingCall) -> String {
        if case .unjudged = call.context {
            return "request \(call.requestID) (\(call.op), a probe luna-conform adds for pid \(call.event.pid) at event "
                + "#\(call.index) \(call.event.kind.name), not judged)"
        }
        return "request \(call.requestID) (\(call.op) for event #\(call.index) \(call.event.kind.name), pid \(call.event.pid))"
    }

    // MARK: sending

    /// Queues a request for the call at `index` and remembers how to check its answer.
    @discardableResult
    func send(
        _ op: String, _ fields: String, index: Int, event: TraceEvent, context: Context = .plain,
        blocking: Bool = false, budget: Double? = nil
    ) throws(AdapterFailure) -> Int64 {
        let id = client.request(op, fields)
        requestCount += 1
        let scratch = procs[event.pid]?.scratch ?? .empty
        // A large request (megabytes of hex) takes a slow adapter longer to read and parse.
        let sizeAllowance = Self.sizeAllowance(bytes: fields.utf8.count)
        pending.append(
            PendingCall(
                requestID: id, index: index, event: event, op: op, scratchBefore: scratch,
                context: context, budget: (budget ?? options.callTimeout) + sizeAllowance, blocking: blocking,
                issuedAt: position, sentAt: MonotonicClock.now()))
        if noticePending.contains(event.pid) { pending[pending.count - 1].noticePending = true }
        if blocking {
            lastBlocking[event.pid] = id
            pending[pending.count - 1].writeStart = MonotonicClock.now()
            try client.flush()
            pending[pending.count - 1].sentAt = MonotonicClock.now()
        }
        return id
    }

    // MARK: settling answers in order

    /// Checks answers that have already arrived, in order, without waiting.
    func settleArrived() throws(AdapterFailure) {
        while head < pending.count, try settleHead(wait: false) {}
        if head > 4096 {
            pending.removeFirst(head)
            head = 0
        }
    }

    /// Waits for and checks every answer up to request `id`.
    func settle(through id: Int64) throws(AdapterFailure) {
        try client.flush()
        while head < pending.count, pending[head].requestID <= id { try settleHead(wait: true) }
    }

    /// Checks the oldest unchecked answer; returns false when `wait` is false and it has not come.
    @discardableResult
    func settleHead(wait: Bool) throws(AdapterFailure) -> Bool {
        let call = pending[head]
        if procs[call.event.pid]?.stuck == true {
            client.ignore(call.requestID)
            head += 1
            return true
        }
        if call.context.neverReturns, client.peek(call.requestID) == nil {
            // Its process ends later in the trace: checking it now would wait for nothing.
            neverReturned.append(call)
            head += 1
            return true
        }
        // A request queued behind a blocking call of its process starts when that call returns.
        let started = max(call.sentAt, busyUntil[call.event.pid] ?? 0)
        var ownDeadline = MonotonicClock.adding(call.budget, to: started)
        if wait { try client.flush() }
        var answer = try client.response(for: call.requestID, deadline: wait ? min(ownDeadline, traceDeadline) : nil)
        // A call that cannot block is only overdue once the adapter has stopped answering for
        // its whole budget: requests are pipelined, so on a loaded machine an adapter may still
        // be working through earlier ones when a call's budget, counted from its send, runs
        // out. Each answer to anything restarts the budget (bounded by the trace's deadline).
        while wait && answer == nil && !call.blocking {
            let progress = MonotonicClock.adding(call.budget, to: client.lastAnswerTime)
            guard progress > ownDeadline, MonotonicClock.now() < traceDeadline else { break }
            ownDeadline = progress
            answer = try client.response(for: call.requestID, deadline: min(ownDeadline, traceDeadline))
        }
        guard let (response, arrival) = answer else {
            if !wait { return false }
            if MonotonicClock.now() >= traceDeadline && traceDeadline < ownDeadline { throw traceTimedOut() }
            head += 1
            try noAnswer(call)
            return true
        }
        head += 1
        if call.blocking {
            busyUntil[call.event.pid] = max(busyUntil[call.event.pid] ?? 0, arrival)
        } else {
            noteLag(arrival: arrival, lag: arrival > started ? arrival - started : 0)
        }
        // Early timeouts are judged on the longest the call can have taken in the adapter (from
        // the start of the request's write: it cannot have started sooner), late ones on the
        // shortest (from `started`): seeing an earlier answer late on a crowded machine, or
        // taking the time late after writing, raises neither alarm.
        let written = call.blocking ? call.writeStart : call.sentAt
        let longest = arrival > written ? arrival - written : 0
        try check(call, response, elapsedNs: longest, arrival: arrival, started: started)
        return true
    }
}

extension ReplayEngine {
    /// The scratch area of a process as the trace has it.
    enum Scratch: Equatable {
        case empty
        case data(MessageID)
        case linkDied(MessageID)

        var message: MessageID? {
            switch self {
            case .empty: return nil
            case .data(let m), .linkDied(let m): return m
            }
        }
    }

    /// A recorded process during replay.
    struct ProcState {
        var adapterPid: Int64
        var scratch: Scratch = .empty
        /// A call of it got no answer (or it ended in the adapter): its later calls are not sent.
        var stuck = false
        var endedInTrace = false
        var trappedInCall = false
        var failRequested = false
        /// Event index of its first divergence.
        var firstDivergence: Int?
    }

    /// A message as the trace describes it, with the bytes the replay wrote into it.
    final class MessageModel {
        let id: MessageID
        var isLinkDied: Bool
        var tag: Int64
        var content: [UInt8] = []
        var slots: [Int?] = []
        /// The slots as they were when the message was sent (what a receiver must see).
        var sentSlots: [Int?] = []
        var sender: UInt64 = 0
        var sendIndex = -1
        /// A request whose answer shows the message has reached its receiver in the adapter,
        /// when its send was queued behind a waiting call of the sender (0: delivered when sent).
        var deliveredBy: Int64 = 0
        var adapterToken: String?
        /// For a LinkDied message: the process whose end it reports.
        var deadPid: UInt64 = 0

        init(id: MessageID, tag: Int64, isLinkDied: Bool) {
            self.id = id
            self.tag = tag
            self.isLinkDied = isLinkDied
        }
    }

    /// One resource object, followed through messages by its adapter token.
    struct ResourceIdentity {
        var kind: String
        var token: String?
    }

    /// One process's table of one resource kind, in the trace.
    struct TableKey: Hashable {
        var pid: UInt64
        var kind: String
    }

    /// Two recorded pids, in a given order.
    struct PidPair: Hashable {
        var a: UInt64
        var b: UInt64
    }

    /// A resource id in one process's table, in the trace.
    struct ResourceKey: Hashable {
        var pid: UInt64
        var kind: String
        var id: Int64
    }

    /// Where a recorded resource id points in the adapter.
    struct ResourceEntry {
        var identity: Int?
        /// The adapter's id, or the request whose answer will give it.
        var adapterID: Int64?
        var pendingRequest: Int64?
    }

    /// What a check needs to know about the call besides the event.
    enum Context {
        case plain
        case spawn(child: UInt64)
        /// `expectedID`: the id R-RES-1 gives it (nil when the table cannot be followed).
        case newResource(key: ResourceKey, identity: Int, expectedID: Int64?)
        case createData(MessageID)
        case push(identity: Int?, pushedBefore: Bool)
        case take(index: Int64, expected: Int?, wrongKind: Bool, key: ResourceKey?, expectedID: Int64?)
        case receive(expected: MessageID, tags: [Int64], timeoutMs: Int64, skipSearch: Bool)
        /// A skip-search call the trace never saw return (its process ended while it waited).
        case unfinishedSkipSearch
        /// A receive the trace never saw return (its process ended while it waited, R-PROC-8).
        case neverReturned

        /// Whether the trace's call never returned.
        var neverReturns: Bool {
            switch self {
            case .unfinishedSkipSearch, .neverReturned: return true
            default: return false
            }
        }
        case readData(expected: [UInt8]?)
        case send(targetMissing: Bool)
        case waitExit(expected: String)
        /// A request standing in for a call the adapter's protocol cannot express: not judged.
        case unjudged
    }

    /// A wait that timed out in the trace, in flight.
    struct OpenWait {
        var requestID: Int64
        /// The tags that end it: nil for any message.
        var tags: [Int64]?
        /// When it must have answered by.
        var deadline: UInt64
        /// The event at which the trace has it time out.
        var returnIndex: Int

        /// Whether a message with `tag` would end it.
        func takes(_ tag: Int64) -> Bool {
            guard let tags, !tags.isEmpty else { return true }
            return tag != 0 && tags.contains(tag)
        }
    }

    /// A request in flight.
    struct PendingCall {
        let requestID: Int64
        let index: Int
        let event: TraceEvent
        let op: String
        let scratchBefore: Scratch
        let context: Context
        let budget: Double
        let blocking: Bool
        /// Index of the event at which the request was sent (before `index` for a skip-search
        /// call, judged at its return event).
        let issuedAt: Int
        var sentAt: UInt64
        /// When the write of the request began (a blocking request is written at once): the
        /// adapter cannot have started it sooner, however long the writer was held up before
        /// taking `sentAt`.
        var writeStart: UInt64 = 0
        /// A "no process" link notice could take effect during this call (R-PROC-3).
        var noticePending = false
    }
}
