import TraceFormat

/// Causal replay of waits that timed out: such a wait holds back only the requests that could
/// end it before its timeout (a message it would take, a kill, a link death), not the whole
/// replay; and answers the replay needs to go on (new pids, resource ids) are awaited one by
/// one, not in request order behind every earlier wait. So concurrent waits overlap as they did
/// when recorded, and replay time follows the recorded time rather than the sum of timeouts.
extension ReplayEngine {
    /// Registers a wait of `pid` that timed out in the trace (request `id`, ending on a message
    /// with one of `tags`, or on any message when nil).
    func openWait(_ pid: UInt64, request id: Int64, tags: [Int64]?, budget: Double) {
        openWaits[pid] = OpenWait(requestID: id, tags: tags, deadline: MonotonicClock.deadline(after: budget))
    }

    /// Waits until the open wait of `pid` (if any) has answered, or its budget ran out (it is
    /// then judged as not returning, in order).
    func holdFor(_ pid: UInt64) throws(AdapterFailure) {
        guard let w = openWaits.removeValue(forKey: pid) else { return }
        try client.flush()
        if try client.awaitArrival(of: w.requestID, deadline: min(w.deadline, traceDeadline)) == nil,
            MonotonicClock.now() >= traceDeadline
        {
            throw traceTimedOut()
        }
    }

    /// Holds back the request of event `e` (process state `p`) until every open wait it could
    /// end has answered: a message to a waiting process that its tags take, a kill of it, or
    /// anything that ends a process while waiting processes have links (a link death reaches them).
    func holdBack(_ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        if openWaits.isEmpty { return }
        let endsProcess: Bool
        switch e.kind {
        case .send, .sendReceiveSkipSearch:
            let to = UInt64(bitPattern: e.args.at(0) ?? 0)
            if let w = openWaits[to], let m = p.scratch.message, let model = messages[m] {
                if w.tags == nil || w.tags!.isEmpty || (model.tag != 0 && w.tags!.contains(model.tag)) { try holdFor(to) }
            }
            endsProcess = e.result.trapReason != nil
        case .kill:
            try holdFor(UInt64(bitPattern: e.args.at(0) ?? 0))
            endsProcess = true
        case .trap:
            endsProcess = true
        case .exit:
            endsProcess = (e.args.at(0) ?? 0) == ExitCode.failure.rawValue
        default:
            endsProcess = e.result.trapReason != nil
        }
        guard endsProcess else { return }
        let linked = spawnLinks.union(callLinks)
        for pid in Array(openWaits.keys) where linked.contains(where: { $0.a == pid }) {
            try holdFor(pid)
        }
    }

    /// The answer to request `id` as soon as it has arrived (not collected: it is still checked
    /// in order). Nil when it did not come in time.
    func awaitAnswer(_ id: Int64, pid: UInt64) throws(AdapterFailure) -> AdapterResponse? {
        try client.flush()
        // A request queued behind waiting calls of its process answers only after them.
        var budget = options.callTimeout + 5
        for call in pending[head...] where call.blocking && call.event.pid == pid && call.requestID < id {
            budget += call.budget
        }
        let deadline = min(MonotonicClock.deadline(after: budget), traceDeadline)
        return try client.awaitArrival(of: id, deadline: deadline)
    }

    /// The adapter's id for the recorded resource `key`, waiting for the answer that gives it.
    func adapterResourceID(_ key: ResourceKey) throws(AdapterFailure) -> Int64? {
        guard let entry = resourceMap[key] else { return nil }
        if let id = entry.adapterID { return id }
        guard let request = entry.pendingRequest else { return nil }
        if case .result(let v)? = try awaitAnswer(request, pid: key.pid), let id = v["id"]?.int {
            resourceMap[key]?.adapterID = id
            return id
        }
        try settle(through: request)  // judges what came instead
        return resourceMap[key]?.adapterID
    }
}

/// R-PROC-3: a `link` to a missing pid returns normally; the "no process" notice takes effect
/// at the caller's next waiting call (an implementation may handle it earlier, not inside
/// `link` and not later).
extension ReplayEngine {
    func noteMissingLink(_ caller: UInt64, _ target: UInt64) {
        missingLinks.insert(PidPair(a: caller, b: target))
        noticePending.insert(caller)
    }

    /// The process died of a "no process" notice at a waiting call the trace did not record
    /// (it never returned): give the adapter that waiting call (a receive with timeout 0, not
    /// judged), so that the notice takes effect before its end is checked.
    func probeWaitingCall(_ index: Int, _ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        noticePending.remove(e.pid)
        try send("receive", "\"process\":\(p.adapterPid),\"tags\":[],\"timeout_ms\":0", index: index, event: e,
                 context: .unjudged)
    }
}
