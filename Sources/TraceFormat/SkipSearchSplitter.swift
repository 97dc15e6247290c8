/// Reads format 1.0 events in the shape of the current format, so that every consumer sees one
/// shape (docs/TRACE_FORMAT.md, section 8).
///
/// Format 1.0 recorded a `send_receive_skip_search` call as one event when the call returned
/// (args `pid`, `timeout`, `reply`; result 0 or 9027). Since 1.1 the call is a send half (kind
/// 16: args `pid`, `timeout`; result none), recorded when the request was queued, and a kind 18
/// return (args `pid`, `timeout`, `request`; `message` = the reply). The splitter turns each
/// combined event into those two events and moves the send half back to where causality puts
/// it: just before the first event that takes the request out of flight (its `receive`, a
/// skip-search return that got it as the reply, or its drop as "receiver missing" or "left in
/// mailbox"). 1.0 has no time for the queueing, so the send half's `end` is its `start`.
///
/// It works in one pass with a bounded look-behind: a delivery of a message that no event put
/// in flight is held, with everything after it, until the combined event that sent it arrives.
/// A hold still open after `maxHeld` events, or at the end of the file, is let go: its events
/// come out in file order, as 1.0 wrote them (a call that never returned — its process killed
/// while it waited — left no event, so its request has no send in a 1.0 file).
struct SkipSearchSplitter {
    /// Events held behind one hold at most; bounds memory for hostile or endless holds.
    static let maxHeld = 1 << 16

    private enum Slot {
        case event(TraceEvent)
        /// Where the send half of this message goes, once its combined event is read.
        case hold(MessageID)
        /// Already handed out or let go.
        case done
    }

    private var slots: [Slot] = []
    /// Index in `slots` of the next slot to hand out.
    private var head = 0
    /// Number of slots dropped from the front of `slots` (absolute slot number of `slots[0]`).
    private var base = 0
    /// Open holds: message → absolute slot number of its marker.
    private var holds: [MessageID: Int] = [:]
    /// Messages sent (or LinkDied notices queued) and not yet taken out of flight.
    private var inFlight: Set<MessageID> = []
    private var finished = false

    /// Whether an event is ready for `pop`.
    var hasReady: Bool {
        guard head < slots.count else { return false }
        if case .hold = slots[head], !finished, !overBound { return false }
        return true
    }

    /// Whether the hold at `head` keeps more than `maxHeld` events behind it.
    private var overBound: Bool { slots.count - head - 1 > Self.maxHeld }

    /// Takes the next stored event of the file.
    mutating func push(_ e: TraceEvent) {
        switch e.kind {
        case .send where e.result.trapReason == nil && e.message != 0:
            inFlight.insert(e.message)
        case .linkDied where e.args.at(2) == 0 && e.message != 0:
            inFlight.insert(e.message)
        case .receive where e.message != 0 && (e.result.value == 0 || e.result.value == 1):
            deliver(e.message)
        case .messageDropped where e.message != 0 && (e.args.at(0) == 2 || e.args.at(0) == 3):
            deliver(e.message)
        case .sendReceiveSkipSearchReturn where e.message != 0 && e.result.value == 0:
            deliver(e.message)  // a 1.1 event in a file whose header says 1.0
        case .sendReceiveSkipSearch where e.result.value != nil:
            split(e)
            return
        default:
            break
        }
        slots.append(.event(e))
    }

    /// No more stored events: every hold is let go.
    mutating func finish() { finished = true }

    /// The next event in the current format's shape, or nil when none is ready yet.
    mutating func pop() -> TraceEvent? {
        while head < slots.count {
            switch slots[head] {
            case .event(let e):
                slots[head] = .done
                head += 1
                compact()
                return e
            case .hold(let message):
                guard finished || overBound else { return nil }
                holds[message] = nil
                head += 1
            case .done:
                head += 1
            }
        }
        compact()
        return nil
    }

    /// A combined event: its send half where causality puts it, its return here.
    private mutating func split(_ e: TraceEvent) {
        let target = e.args.at(0) ?? 0
        let timeout = e.args.at(1) ?? -1
        let request = e.message
        let half = TraceEvent(
            kind: .sendReceiveSkipSearch, pid: e.pid, start: e.start, end: e.start, args: [target, timeout],
            tags: e.tags, message: request, payload: e.payload, text: e.text)
        if request != 0, let at = holds.removeValue(forKey: request) {
            slots[at - base] = .event(half)  // already delivered: not in flight any more
        } else {
            slots.append(.event(half))
            if request != 0 { inFlight.insert(request) }
        }
        let reply: MessageID = e.result.value == 0 ? MessageID(bitPattern: e.args.at(2) ?? 0) : 0
        if reply != 0 { deliver(reply) }
        slots.append(
            .event(
                TraceEvent(
                    kind: .sendReceiveSkipSearchReturn, pid: e.pid, start: e.start, end: e.end,
                    args: [target, timeout, Int64(bitPattern: request)], message: reply, result: e.result)))
    }

    /// `message` leaves flight here; if nothing sent it yet, its send is still to come.
    private mutating func deliver(_ message: MessageID) {
        if inFlight.remove(message) != nil || holds[message] != nil { return }
        holds[message] = base + slots.count
        slots.append(.hold(message))
    }

    /// Drops handed-out slots from the front once they are most of the array.
    private mutating func compact() {
        guard head >= 4096, head * 2 >= slots.count else { return }
        slots.removeFirst(head)
        base += head
        head = 0
    }
}
