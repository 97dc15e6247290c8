import TraceFormat

/// Follows messages and processes through a stream of events, in one pass and bounded memory.
///
/// It keeps state only for processes and for messages that are still live (being built,
/// queued, or held in a scratch area). A message that ends (dropped, or replaced in its
/// receiver's scratch area, or left behind by an exiting process) waits in a short settling
/// window, so that drop events the runtime records right after can still be attached to it,
/// and is then handed to `onLifeEnded`. `finish()` hands over every message still live.
///
/// Exclusivity checks are off for its storage (they were a tenth of the `stats` path): a
/// tracker is used from one thread, and no access overlaps another, since the closures that
/// change a life or a process record in place (`update`, `withProcess`) touch only what they
/// are given, and `onLifeEnded` is called after every access has ended.
package final class MessageTracker {
    /// Every process seen so far.
    @exclusivity(unchecked) package private(set) var processes = ProcessTable()
    /// Called once per message, when its life is over (or at `finish()`); nil = nobody asks
    /// (`stats`), and no life is put together to be handed over.
    @exclusivity(unchecked) package var onLifeEnded: ((MessageLife) -> Void)?

    /// Every followed message's life, in reusable slots (`freeSlots`); `slotIndex` finds a
    /// message's live and settling slots. A message is normally in one of the two; a hostile
    /// file that re-creates an id still settling has both, as the two maps this replaces did.
    /// A slot's state is in `states`, its history (only when `keepsHistory`) at the same index
    /// of `histories`: the per-event work moves plain values.
    @exclusivity(unchecked) private var states: [MessageState] = []
    @exclusivity(unchecked) private var histories: [MessageHistory] = []
    @exclusivity(unchecked) private var freeSlots: [Int32] = []
    @exclusivity(unchecked) private var slotIndex = MessageIDTable<Slots>()
    /// The last id looked up and its slots: consecutive events mostly concern one message.
    @exclusivity(unchecked) private var cachedID: MessageID = 0
    @exclusivity(unchecked) private var cachedSlots = Slots()
    @exclusivity(unchecked) private var liveCount = 0
    @exclusivity(unchecked) private var settlingCount = 0
    /// What `observe` does per event kind, indexed by raw code (a jump instead of comparing
    /// against each kind constant in turn).
    private let actions: [Action] = MessageTracker.actionTable
    /// The request tag of each process's skip-search call between its send half and its return.
    @exclusivity(unchecked) private var skipSearchRequestTags: [UInt64: Int64] = [:]
    @exclusivity(unchecked) private var settlingOrder: [MessageID] = []
    @exclusivity(unchecked) private var settlingHead = 0
    private let settleWindow: Int
    /// Whether lives keep their full history (hops, pushes, takes, traps, dropped resources).
    private let keepsHistory: Bool
    /// The time of the latest event observed.
    @exclusivity(unchecked) package private(set) var now: UInt64 = 0
    /// Whether the trace begins in the middle of a run: a flight recorder's window after
    /// dropped events (`TraceWindow.isPartial`). A process the trace does not show being
    /// spawned may then have existed before its first event, so a send to it counts as a send
    /// to a running process, not to no one.
    @exclusivity(unchecked) package var beginsMidRun = false

    /// A tracker; `settleWindow` is how many ended messages wait for late drop events.
    ///
    /// With `keepsHistory` false (what `stats` needs) it keeps per message only what decides
    /// where messages are and how deep mailboxes get: the lives it hands over carry no hops,
    /// pushes, takes, traps or dropped resources, process records no `queuedTags`, and it does
    /// much less work per event.
    package init(settleWindow: Int = 1024, keepsHistory: Bool = true, onLifeEnded: ((MessageLife) -> Void)? = nil) {
        self.keepsHistory = keepsHistory
        self.settleWindow = max(1, settleWindow)
        self.onLifeEnded = onLifeEnded
    }

    /// Number of messages currently followed (live or settling): the tracker's memory.
    package var trackedMessages: Int { liveCount + settlingCount }

    /// The process record for `pid`, if it has been seen.
    package func process(_ pid: ProcessID) -> ProcessRecord? { processes[pid] }

    /// Whether `pid` had been seen and had not ended at the current point of the trace.
    package func isRunning(_ pid: ProcessID) -> Bool {
        let i = processes.slot(of: pid)
        return i >= 0 && processes.records.withUnsafeBufferPointer { $0[i].exit == nil }
    }

    /// What is known so far about a message still followed.
    package func life(_ message: MessageID) -> MessageLife? {
        let i = currentSlot(message)
        return i >= 0 ? MessageLife(state: states[Int(i)], history: keepsHistory ? histories[Int(i)] : MessageHistory()) : nil
    }

    /// The tag of a message still followed, if known.
    @inline(__always)
    package func tag(of message: MessageID) -> Int64? {
        let i = currentSlot(message)
        return i >= 0 ? states[Int(i)].tag : nil
    }

    // MARK: Observing

    /// Takes the next event (in trace order) and says which message it concerns, if any.
    @discardableResult
    package func observe(_ e: TraceEvent) -> MessageAttribution? {
        if e.start > now { now = e.start }
        if e.pid != 0 { touchProcess(e.pid, at: e.start) }
        let raw = Int(e.kind.rawValue)
        switch raw < actions.count ? actions[raw] : .other {
        case .createData:
            retireScratch(of: e.pid)
            guard e.message != 0 else { return nil }
            var life = MessageState(id: e.message)
            life.tag = e.args.at(0) ?? 0
            life.capacity = e.args.at(1) ?? 0
            life.creator = e.pid
            life.createdAt = e.start
            life.location = .scratch(e.pid)
            setLive(
                e.message, life,
                {
                    var history = MessageHistory()
                    if let trap = e.result.trapReason { history.traps.append((e.start, e.pid, e.kind, trap)) }
                    return history
                }())
            setScratch(of: e.pid, e.message)
            return attribution(e.message)

        case .dataCall(let call):
            let id = e.message != 0 ? e.message : scratch(of: e.pid)
            guard id != 0 else { return nil }
            update(id) { life in Self.applyDataCall(e, call, to: &life) }
            if keepsHistory { updateHistory(id) { history in Self.applyDataCall(e, call, to: &history) } }
            return attribution(id)

        case .send:
            return observeSend(e, reachedAt: e.start, skipSearch: false)

        case .skipSearchSend:
            // The send half: the request reached the receiver's mailbox at `end`.
            return observeSend(e, reachedAt: e.end, skipSearch: true)

        case .skipSearchReturn:
            let requestTag = skipSearchRequestTags.removeValue(forKey: e.pid) ?? 0
            guard e.result.value == 0, e.message != 0 else {
                // Timed out: the call concerns its request (whose tag was what it waited for).
                let request = MessageID(bitPattern: e.args.at(2) ?? 0)
                return request != 0 ? MessageAttribution(message: request, tag: requestTag) : nil
            }
            deliver(
                e.message, to: e.pid, call: .sendReceiveSkipSearch, calledAt: e.start, receivedAt: e.end,
                tagSet: keepsHistory && requestTag != 0 ? [requestTag] : [])
            return attribution(e.message)

        case .receive:
            guard e.message != 0, let r = e.result.value, r == 0 || r == 1 else { return nil }
            deliver(e.message, to: e.pid, call: e.kind, calledAt: e.start, receivedAt: e.end, tagSet: keepsHistory ? e.tags : [])
            return attribution(e.message)

        case .linkDied:
            guard e.args.at(2) == 0, e.message != 0 else { return nil }
            var life = MessageState(id: e.message)
            life.isLinkDied = true
            life.tag = e.args.at(1) ?? 0
            let dead = UInt64(bitPattern: e.args.at(0) ?? 0)
            life.creator = dead
            life.createdAt = e.start
            setLive(e.message, life, MessageHistory())
            enqueue(
                e.message, in: e.pid,
                hop: MessageHop(
                    send: MessageSend(
                        from: dead, to: e.pid, at: e.start, call: .linkDied, receiverWasRunning: true)))
            return attribution(e.message)

        case .messageDropped:
            guard e.message != 0 else { return nil }
            let id = e.message
            let reason = e.args.at(0) ?? 0
            let slot = currentSlot(id)
            if slot >= 0, case .mailbox(let holder) = states[Int(slot)].location {
                decrementMailbox(of: holder, tag: states[Int(slot)].tag)
            }
            if reason == DropReason.leftInMailbox.rawValue { withProcess(e.pid) { $0.droppedFromMailbox += 1 } }
            if scratch(of: e.pid) == id { setScratch(of: e.pid, 0) }
            update(id) { life in
                life.drop = MessageDrop(reasonCode: reason, pid: e.pid, at: e.start)
                life.location = .gone
            }
            settle(id)
            return attribution(id)

        case .resourceDropped:
            guard e.message != 0 else { return nil }
            let slot = Int(slotForUpdate(e.message))
            if keepsHistory { histories[slot].resourcesDropped.append((e.args.at(0) ?? -1, e.args.at(1) ?? 0)) }
            return attribution(e.message)

        case .spawn:
            let child = UInt64(bitPattern: e.args.at(0) ?? 0)
            if child != 0 {
                touchProcess(child, at: e.start)
                withProcess(child) { child in
                    child.parent = e.pid
                    if !e.text.isEmpty { child.entry = e.text }
                }
            }
            return nil

        case .start:
            withProcess(e.pid) { p in
                if !e.text.isEmpty { p.entry = e.text }
                if let parent = e.args.at(0), p.parent == nil { p.parent = UInt64(bitPattern: parent) }
            }
            return nil

        case .exit:
            let i = processes.slot(of: e.pid)
            guard e.pid != 0, i >= 0, processes[slot: i].exit == nil else { return nil }
            let depth = processes[slot: i].mailboxDepth
            processes[slot: i].exit = ProcessEnd(status: e.args.at(0) ?? 0, reason: e.text, at: e.start, mailboxDepth: depth)
            processes[slot: i].queuedTags = [:]
            retireScratch(of: e.pid)
            return nil

        case .other:
            return nil
        }
    }

    /// A `send` or the send half of a skip-search (`reachedAt`: when the message reached the
    /// receiver's mailbox). A send that trapped (empty scratch area, or refused before sending)
    /// sent nothing; the message keeps the trap in its history.
    private func observeSend(_ e: TraceEvent, reachedAt time: UInt64, skipSearch: Bool) -> MessageAttribution? {
        let id = e.message != 0 ? e.message : scratch(of: e.pid)
        guard id != 0 else { return nil }
        if let trap = e.result.trapReason {
            let slot = Int(slotForUpdate(id))
            if keepsHistory { histories[slot].traps.append((e.start, e.pid, e.kind, trap)) }
            return attribution(id)
        }
        if skipSearch { skipSearchRequestTags[e.pid] = tag(of: id) ?? 0 }
        send(id, from: e.pid, to: UInt64(bitPattern: e.args.at(0) ?? 0), at: time, call: e.kind)
        return attribution(id)
    }

    /// Hands every message still followed to `onLifeEnded`: first the settling ones, in the
    /// order they ended, then the live ones by id.
    package func finish() {
        while settlingHead < settlingOrder.count { evictOldestSettled() }
        let liveIDs = slotIndex.ids.filter { (slotIndex[$0]?.live ?? -1) >= 0 }.sorted()
        for id in liveIDs {
            var slots = self.slots(id)
            guard slots.live >= 0 else { continue }
            let i = slots.live
            slots.live = -1
            setSlots(id, slots)
            liveCount -= 1
            releaseSlot(i)
        }
    }

    // MARK: Transitions

    private func touchProcess(_ pid: ProcessID, at time: UInt64) {
        if processes.slot(of: pid) < 0 { processes.insert(ProcessRecord(pid: pid, firstSeen: time)) }
    }

    /// The message in `pid`'s scratch area (0 = none, or `pid` not seen).
    @inline(__always)
    private func scratch(of pid: ProcessID) -> MessageID {
        let i = processes.slot(of: pid)
        return i >= 0 ? processes[slot: i].scratch : 0
    }

    @inline(__always)
    private func setScratch(of pid: ProcessID, _ id: MessageID) {
        let i = processes.slot(of: pid)
        if i >= 0 { processes[slot: i].scratch = id }
    }

    /// Changes `pid`'s record in place, if it has been seen.
    @inline(__always)
    private func withProcess(_ pid: ProcessID, _ change: (inout ProcessRecord) -> Void) {
        let i = processes.slot(of: pid)
        if i >= 0 { change(&processes[slot: i]) }
    }

    @inline(__always)
    private func attribution(_ id: MessageID) -> MessageAttribution {
        MessageAttribution(message: id, tag: tag(of: id) ?? 0)
    }

    /// Applies `change` to the message, creating a placeholder if its start is not in the trace.
    @inline(__always)
    private func update(_ id: MessageID, _ change: (inout MessageState) -> Void) {
        change(&states[Int(slotForUpdate(id))])
    }

    /// Applies `change` to the message's history (only when `keepsHistory`), creating a
    /// placeholder as `update` does.
    private func updateHistory(_ id: MessageID, _ change: (inout MessageHistory) -> Void) {
        change(&histories[Int(slotForUpdate(id))])
    }

    /// The slot `update` changes: the settling life, else the live one, made if neither exists.
    @inline(__always)
    private func slotForUpdate(_ id: MessageID) -> Int32 {
        var slots = self.slots(id)
        if slots.settling < 0 && slots.live < 0 {
            slots.live = allocateSlot(MessageState(id: id), MessageHistory())
            liveCount += 1
            setSlots(id, slots)
        }
        return slots.settling >= 0 ? slots.settling : slots.live
    }

    /// The history half of a message call: traps, pushes and takes.
    private static func applyDataCall(_ e: TraceEvent, _ call: DataCall, to history: inout MessageHistory) {
        if let trap = e.result.trapReason { history.traps.append((e.start, e.pid, e.kind, trap)) }
        switch call {
        case .push:
            history.pushes.append(
                ResourcePush(
                    pid: e.pid, at: e.start, kind: resourceKind(of: e.kind),
                    resourceID: e.args.at(0) ?? -1, slot: e.result.value))
        case .take:
            history.takes.append(
                ResourceTake(
                    pid: e.pid, at: e.start, kind: resourceKind(of: e.kind), slot: e.args.at(0) ?? -1,
                    newID: e.result.value, trap: e.result.trapReason))
        case .write, .read, .other:
            break
        }
    }

    /// The state half of a message call: bytes and calls counted.
    private static func applyDataCall(_ e: TraceEvent, _ call: DataCall, to life: inout MessageState) {
        switch call {
        case .write:
            if e.result.trapReason == nil {
                life.bytesWritten += e.result.value.map { UInt64(max(0, $0)) } ?? e.payload.size
                life.writeCalls += 1
            }
        case .read:
            if e.result.trapReason == nil {
                life.bytesRead += e.result.value.map { UInt64(max(0, $0)) } ?? e.payload.size
                life.readCalls += 1
            }
        case .push, .take, .other:
            break
        }
    }

    /// The resource kind a `push_*`/`take_*` call moves.
    package static func resourceKind(of call: EventKind) -> ResourceKind {
        switch call {
        case .pushTcpStream, .takeTcpStream: return .tcpStream
        case .pushTlsStream, .takeTlsStream: return .tlsStream
        case .pushUdpSocket, .takeUdpSocket: return .udpSocket
        default: return .module
        }
    }

    private func send(_ id: MessageID, from pid: ProcessID, to target: ProcessID, at time: UInt64, call: EventKind) {
        if scratch(of: pid) == id { setScratch(of: pid, 0) }
        let slot = currentSlot(id)
        let dropped = slot >= 0 && states[Int(slot)].drop != nil
        let running = wasRunning(target, at: time) || (slot >= 0 && states[Int(slot)].drop?.reason == .leftInMailbox)
        let hop = MessageHop(send: MessageSend(from: pid, to: target, at: time, call: call, receiverWasRunning: running))
        if isRunning(target) && !dropped {
            enqueue(id, in: target, hop: hop)
        } else {
            update(id) { life in
                if life.drop == nil { life.location = running ? .mailbox(target) : .nowhere(target) }
            }
            if keepsHistory { updateHistory(id) { $0.hops.append(hop) } }
        }
    }

    /// Whether `pid` had started and not yet ended at `time` (in a trace that begins mid-run,
    /// a process not spawned in it counts as started before it).
    private func wasRunning(_ pid: ProcessID, at time: UInt64) -> Bool {
        let i = processes.slot(of: pid)
        guard i >= 0 else { return beginsMidRun }
        return processes.records.withUnsafeBufferPointer { records in
            let started = records[i].firstSeen <= time || (beginsMidRun && records[i].parent == nil)
            guard started else { return false }
            if let end = records[i].exit?.at { return end >= time }
            return true
        }
    }

    private func decrementMailbox(of pid: ProcessID, tag: Int64) {
        let history = keepsHistory
        withProcess(pid) { p in
            if p.mailboxDepth > 0 { p.mailboxDepth -= 1 }
            if history, let n = p.queuedTags[tag] { p.queuedTags[tag] = n > 1 ? n - 1 : nil }
        }
    }

    private func enqueue(_ id: MessageID, in pid: ProcessID, hop: MessageHop) {
        let history = keepsHistory
        update(id) { $0.location = .mailbox(pid) }
        if history { updateHistory(id) { $0.hops.append(hop) } }
        let tag = tag(of: id) ?? 0
        withProcess(pid) { p in
            p.mailboxDepth += 1
            p.maxMailboxDepth = max(p.maxMailboxDepth, p.mailboxDepth)
            if history { p.queuedTags[tag, default: 0] += 1 }
        }
    }

    private func deliver(
        _ id: MessageID, to pid: ProcessID, call: EventKind, calledAt: UInt64, receivedAt: UInt64,
        tagSet: [Int64]
    ) {
        retireScratch(of: pid)
        let slot = currentSlot(id)
        if slot >= 0, case .mailbox(let holder) = states[Int(slot)].location {
            decrementMailbox(of: holder, tag: states[Int(slot)].tag)
        }
        update(id) { $0.location = .scratch(pid) }
        if keepsHistory {
            let delivery = MessageDelivery(receiver: pid, calledAt: calledAt, receivedAt: receivedAt, tagSet: tagSet, call: call)
            updateHistory(id) { history in
                if let last = history.hops.indices.last, history.hops[last].delivery == nil {
                    history.hops[last].delivery = delivery
                } else {
                    history.hops.append(MessageHop(send: nil, delivery: delivery))
                }
            }
        }
        setScratch(of: pid, id)
    }

    /// The message in `pid`'s scratch area is being replaced or abandoned: its life is over.
    private func retireScratch(of pid: ProcessID) {
        let id = scratch(of: pid)
        guard id != 0 else { return }
        setScratch(of: pid, 0)
        let slot = slots(id).live
        if slot >= 0 {
            if case .scratch = states[Int(slot)].location { states[Int(slot)].location = .gone }
            settle(id)
        }
    }

    private func settle(_ id: MessageID) {
        var slots = self.slots(id)
        guard slots.live >= 0 else { return }
        if slots.settling >= 0 {
            releaseSlot(slots.settling, handOver: false)  // replaced, as the map entry it stands for was
        } else {
            settlingCount += 1
        }
        slots.settling = slots.live
        slots.live = -1
        liveCount -= 1
        setSlots(id, slots)
        settlingOrder.append(id)
        if settlingCount > settleWindow { evictOldestSettled() }
    }

    private func evictOldestSettled() {
        while settlingHead < settlingOrder.count {
            let id = settlingOrder[settlingHead]
            settlingHead += 1
            var slots = self.slots(id)
            if slots.settling >= 0 {
                let i = slots.settling
                slots.settling = -1
                setSlots(id, slots)
                settlingCount -= 1
                releaseSlot(i)
                break
            }
        }
        if settlingHead > 4096 && settlingHead * 2 > settlingOrder.count {
            settlingOrder.removeFirst(settlingHead)
            settlingHead = 0
        }
    }
    // MARK: Message storage

    /// A message's slots in `lives` (-1 = none).
    private struct Slots {
        var live: Int32 = -1
        var settling: Int32 = -1
    }

    @inline(__always)
    private func slots(_ id: MessageID) -> Slots {
        if id == cachedID { return cachedSlots }
        let found = slotIndex[id] ?? Slots()
        cachedID = id
        cachedSlots = found
        return found
    }

    private func setSlots(_ id: MessageID, _ slots: Slots) {
        if slots.live < 0 && slots.settling < 0 { slotIndex[id] = nil } else { slotIndex[id] = slots }
        cachedID = id
        cachedSlots = slots
    }

    /// The slot of what `life(_:)` shows: the live life, else the settling one; -1 = none.
    @inline(__always)
    private func currentSlot(_ id: MessageID) -> Int32 {
        let s = slots(id)
        return s.live >= 0 ? s.live : s.settling
    }

    /// Makes `life` (with `history`, evaluated only when kept) the live life of `id`, replacing
    /// any live one.
    private func setLive(_ id: MessageID, _ life: MessageState, _ history: @autoclosure () -> MessageHistory) {
        var slots = self.slots(id)
        if slots.live >= 0 {
            states[Int(slots.live)] = life
            if keepsHistory { histories[Int(slots.live)] = history() }
        } else {
            slots.live = allocateSlot(life, history())
            liveCount += 1
            setSlots(id, slots)
        }
    }

    private func allocateSlot(_ life: MessageState, _ history: @autoclosure () -> MessageHistory) -> Int32 {
        if let i = freeSlots.popLast() {
            states[Int(i)] = life
            if keepsHistory { histories[Int(i)] = history() }
            return i
        }
        states.append(life)
        if keepsHistory { histories.append(history()) }
        return Int32(states.count - 1)
    }

    /// Empties slot `i` for reuse and, unless `handOver` is false, hands the life it held to
    /// `onLifeEnded`.
    private func releaseSlot(_ i: Int32, handOver: Bool = true) {
        freeSlots.append(i)
        var history = MessageHistory()
        if keepsHistory { swap(&history, &histories[Int(i)]) }  // a move: no reference counting
        if handOver, let onLifeEnded { onLifeEnded(MessageLife(state: states[Int(i)], history: history)) }
    }

    // MARK: Dispatch

    /// The message calls that change a message in place.
    private enum DataCall { case write, read, push, take, other }

    /// What `observe` does with an event kind.
    private enum Action {
        case createData, dataCall(DataCall), send, skipSearchSend, skipSearchReturn, receive
        case linkDied, messageDropped, resourceDropped, spawn, start, exit, other
    }

    private static let actionTable: [Action] = {
        let known: [(EventKind, Action)] = [
            (.createData, .createData),
            (.writeData, .dataCall(.write)), (.readData, .dataCall(.read)),
            (.seekData, .dataCall(.other)), (.getTag, .dataCall(.other)), (.dataSize, .dataCall(.other)),
            (.pushModule, .dataCall(.push)), (.pushTcpStream, .dataCall(.push)),
            (.pushTlsStream, .dataCall(.push)), (.pushUdpSocket, .dataCall(.push)),
            (.takeModule, .dataCall(.take)), (.takeTcpStream, .dataCall(.take)),
            (.takeTlsStream, .dataCall(.take)), (.takeUdpSocket, .dataCall(.take)),
            (.send, .send), (.sendReceiveSkipSearch, .skipSearchSend),
            (.sendReceiveSkipSearchReturn, .skipSearchReturn), (.receive, .receive),
            (.linkDied, .linkDied), (.messageDropped, .messageDropped), (.resourceDropped, .resourceDropped),
            (.spawn, .spawn), (.start, .start), (.exit, .exit),
        ]
        var table = [Action](repeating: .other, count: Int(known.map(\.0.rawValue).max()!) + 1)
        for (kind, action) in known { table[Int(kind.rawValue)] = action }
        return table
    }()
}
