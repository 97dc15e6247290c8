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
/// name; a format 1.0 combined event is sent where its request began (see `ReplayPlan`).
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
    /// Skip-search calls sent at their send half, by the index of their return event.
    var openSkipSearch: [Int: Int64] = [:]
    /// When the latest answer to a blocking call of each process arrived: the adapter starts a
    /// process's later requests only then, so their budgets count from there.
    var busyUntil: [UInt64: UInt64] = [:]

    /// Every divergence found, in request order.
    var divergences: [Divergence] = []
    /// Calls the trace never saw return, not answered yet when their turn to be checked came:
    /// checked once the whole trace has been sent (see `settleNeverReturned`).
    var neverReturned: [PendingCall] = []
    /// The helper process holding each message a `send_after` timer will deliver.
    var timerHelpers: [MessageID: UInt64] = [:]

    init(client: AdapterClient, options: ReplayOptions) {
        self.client = client
        self.options = options
    }

    /// Replays `source`; throws when the adapter fails (crash, hang, garbage).
    func run(_ source: TraceSource, plan: ReplayPlan) throws(AdapterFailure) {
        self.plan = plan
        traceDeadline = MonotonicClock.deadline(after: options.traceTimeout)
        let reset = client.request("reset", "")
        requestCount += 1
        try client.flush()
        guard let (answer, _) = try client.response(for: reset, deadline: MonotonicClock.deadline(after: options.callTimeout + 5)) else {
            throw client.failure(.hung, "no answer to reset within \(options.callTimeout + 5) s")
        }
        if case .error(let text) = answer { throw client.failure(.rejectedRequest, "reset rejected: \(text)") }
        let events: AnyIterator<TraceEvent>
        do { events = try source.makeIterator() } catch {
            throw AdapterFailure(.launchFailed, "cannot read \(source.name): \(error)")
        }
        var index = 0
        while let event = events.next() {
            position = index
            if let early = plan.earlyCalls[index] {
                for (j, e) in early { try issue(j, e) }
            }
            if plan.issuedEarly.contains(index) {
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
    }

    func traceTimedOut() -> AdapterFailure {
        client.failure(.hung, "the trace did not finish within \(options.traceTimeout) s")
    }

    // MARK: sending

    /// Queues a request for the call at `index` and remembers how to check its answer.
    @discardableResult
    func send(_ op: String, _ fields: String, index: Int, event: TraceEvent, context: Context = .plain,
              blocking: Bool = false, budget: Double? = nil) throws(AdapterFailure) -> Int64
    {
        let id = client.request(op, fields)
        requestCount += 1
        let scratch = procs[event.pid]?.scratch ?? .empty
        pending.append(PendingCall(requestID: id, index: index, event: event, op: op, scratchBefore: scratch,
                                   context: context, budget: budget ?? options.callTimeout, blocking: blocking,
                                   issuedAt: position, sentAt: MonotonicClock.now()))
        if blocking {
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
        let ownDeadline = started &+ UInt64(call.budget * 1e9)
        let deadline: UInt64? = wait ? min(ownDeadline, traceDeadline) : nil
        if wait { try client.flush() }
        guard let (response, arrival) = try client.response(for: call.requestID, deadline: deadline) else {
            if !wait { return false }
            if MonotonicClock.now() >= traceDeadline && traceDeadline < ownDeadline { throw traceTimedOut() }
            head += 1
            try noAnswer(call)
            return true
        }
        head += 1
        if call.blocking { busyUntil[call.event.pid] = max(busyUntil[call.event.pid] ?? 0, arrival) }
        try check(call, response, elapsedNs: arrival > started ? arrival - started : 0)
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
        var adapterToken: String?

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
        case newResource(key: ResourceKey, identity: Int)
        case createData(MessageID)
        case push(identity: Int?)
        case take(index: Int64, expected: Int?, wrongKind: Bool, key: ResourceKey?)
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
    }
}
