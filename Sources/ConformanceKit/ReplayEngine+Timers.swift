import TraceFormat

/// `lunatic::timer::send_after`: the call takes the scratch message, and the timer later
/// delivers it as a `send` by the caller (recorded with text `send_after`). The adapter protocol
/// has no timers, so the replay hands the message to a helper process of its own at the call
/// (the caller sends it there) and has the helper pass it on when the trace's timer fired.
/// The helper is not in the trace; it only keeps the message out of the caller's scratch area.
extension ReplayEngine {
    /// Trace pids standing for helpers: far above any pid a runtime gives out.
    static func timerHelperPid(_ n: Int) -> UInt64 { UInt64.max - UInt64(n) }

    /// Whether `e` is a timer call or a timer's delivery.
    static func isTimerEvent(_ e: TraceEvent) -> Bool {
        (e.kind == .timerCall && e.text == "send_after") || (e.kind == .send && e.text == "send_after")
    }

    func issueTimer(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        if e.kind == .timerCall {
            try armTimer(index, e)
        } else {
            try fireTimer(index, e)
        }
    }

    /// `send_after` returned: move the scratch message to a new helper.
    private func armTimer(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        guard e.result.value != nil, e.message != 0 else { return }  // trapped: the exit says so
        if procs[e.pid] == nil { try spawnUnknown(e.pid, index: index, event: e) }
        guard let p = procs[e.pid], !p.stuck, !p.endedInTrace else { return }
        let helper = Self.timerHelperPid(timerHelpers.count)
        let spawn = TraceEvent(kind: .spawn, pid: 0, args: [Int64(bitPattern: helper), 0, 0, 0], result: .value(0))
        let id = try send("spawn", "\"parent\":0,\"link\":0", index: index, event: spawn, context: .spawn(child: helper))
        try settle(through: id)
        guard let h = procs[helper] else { return }
        timerHelpers[e.message] = helper
        let handOver = TraceEvent(
            kind: .send, pid: e.pid, start: e.start, end: e.end,
            args: [Int64(bitPattern: helper)], message: e.message, result: .value(0))
        try send(
            "send", "\"process\":\(p.adapterPid),\"to\":\(h.adapterPid)", index: index, event: handOver,
            context: .send(targetMissing: false))
        let taken = TraceEvent(
            kind: .receive, pid: helper, start: e.start, end: e.end, args: [0],
            message: e.message, result: .value(0))
        try send(
            "receive", "\"process\":\(h.adapterPid),\"tags\":[],\"timeout_ms\":-1", index: index, event: taken,
            blocking: true, budget: options.callTimeout)
        procs[e.pid]?.scratch = .empty
    }

    /// The timer fired: the helper sends the message where the trace's timer did.
    private func fireTimer(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        guard let helper = timerHelpers.removeValue(forKey: e.message), let h = procs[helper], !h.stuck else { return }
        let to = e.args.at(0) ?? 0
        let missing = procs[UInt64(bitPattern: to)].map { $0.endedInTrace } ?? true
        let delivery = TraceEvent(
            kind: .send, pid: helper, start: e.start, end: e.end, args: e.args,
            message: e.message, result: e.result)
        try send(
            "send", "\"process\":\(h.adapterPid),\"to\":\(target(to))", index: index, event: delivery,
            context: .send(targetMissing: missing))
        if let model = messages[e.message] {
            model.sender = e.pid
            model.sendIndex = index
            model.sentSlots = model.slots
        }
        procs[helper]?.scratch = .empty
    }
}
