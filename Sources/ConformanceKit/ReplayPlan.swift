import TraceFormat

/// What the replay needs to know before it starts: the capabilities a trace needs, the return
/// of each `send_receive_skip_search`, which receives are issued early, and who receives each
/// message.
///
/// Built by one pass over the trace; it keeps only small indexes, so it scales to long traces.
struct ReplayPlan {
    /// Resource kinds the trace moves through messages.
    var resourceKinds: Set<String> = []
    /// Namespaces whose calls the replay sends.
    var namespaces: Set<String> = ["lunatic::message"]
    /// Number of events.
    var eventCount = 0
    /// The return event of each `send_receive_skip_search` send half (format 1.1), by the
    /// send half's index: the call is sent to the adapter at its send half and judged against
    /// its return. A send half without a return (the process ended while waiting) is absent.
    var skipSearchReturns: [Int: (index: Int, event: TraceEvent)] = [:]
    /// Receives that timed out, to issue just before the event at the key index.
    var earlyCalls: [Int: [(index: Int, event: TraceEvent)]] = [:]
    /// Indexes of the events in `earlyCalls`.
    var issuedEarly: Set<Int> = []
    /// For each received message: the receiving process and the index of the receive.
    var receivedAt: [MessageID: (pid: UInt64, index: Int)] = [:]
    /// For each LinkDied message event (`link_died` with action 0): the receive its process made
    /// next, when that receive returned a message. A "no process" notice (R-PROC-3) is queued
    /// when its process's next waiting call begins, but that receive is recorded when it
    /// returns, possibly after later sends; the engine issues it at the notice instead, so that
    /// the adapter queues the notice before those messages, as the trace has it.
    var noticeReceives: [Int: (index: Int, event: TraceEvent)] = [:]
    /// Kills by the host (pid 0) recorded together (one time stamp): the runtime marked them
    /// all to die at once, so the replay kills them in one request, at the last one's index.
    var hostKillGroups: [Int: [Int64]] = [:]

    /// Builds the plan from one pass over `events`.
    init(_ events: AnyIterator<TraceEvent>) {
        var lastIndexOf: [UInt64: Int] = [:]
        var prefixMaxEnd: [UInt64] = []
        var openSkipSearch: [UInt64: Int] = [:]  // pid → index of its send half awaiting a return
        var spawnedAt: [UInt64: Int] = [:]
        var timedOutReceives: [(index: Int, event: TraceEvent, previous: Int)] = []
        var index = 0
        var maxEnd: UInt64 = 0
        var hostKills = HostKillGrouping()
        // pid → its LinkDied message events since its last own event (a notice may be followed
        // by other link deaths before the receive: each maps to that receive)
        var openNotices: [UInt64: [Int]] = [:]
        while let e = events.next() {
            defer { index += 1 }
            if e.kind == .linkDied {
                if (e.args.at(2) ?? 0) == 0 { openNotices[e.pid, default: []].append(index) }
            } else if let notices = openNotices.removeValue(forKey: e.pid), e.kind == .receive, e.message != 0,
                e.result.trapReason == nil
            {
                for notice in notices { noticeReceives[notice] = (index, e) }
            }
            if e.kind == .kill && e.pid == 0 { hostKills.add(index, e) }
            maxEnd = max(maxEnd, e.end)
            prefixMaxEnd.append(maxEnd)
            if let kind = e.kind.resourceKindName { resourceKinds.insert(kind) }
            switch e.kind {
            case .link, .unlink, .kill, .dieWhenLinkDies, .linkDied:
                namespaces.insert("lifecycle")
            case .spawn where (e.args.at(1) ?? 0) != 0:
                namespaces.insert("lifecycle")
            case .exit where (e.args.at(0) ?? 0) >= ExitCode.killed.rawValue:
                namespaces.insert("lifecycle")
            case .receive where e.message != 0:
                if receivedAt[e.message] == nil { receivedAt[e.message] = (e.pid, index) }
            case .receive where ResultCode.isTimeout(e.result.value) && e.result.trapReason == nil && e.start > 0:
                timedOutReceives.append((index, e, max(lastIndexOf[e.pid] ?? -1, spawnedAt[e.pid] ?? -1)))
            case .sendReceiveSkipSearch:
                if e.result.trapReason == nil { openSkipSearch[e.pid] = index }
            case .sendReceiveSkipSearchReturn:
                if let send = openSkipSearch.removeValue(forKey: e.pid) { skipSearchReturns[send] = (index, e) }
                if e.skipSearchReply != 0, receivedAt[e.skipSearchReply] == nil {
                    receivedAt[e.skipSearchReply] = (e.pid, index)
                }
            default: break
            }
            if e.kind == .spawn, let child = e.args.at(0), child > 0 { spawnedAt[UInt64(child)] = index }
            if e.kind != .linkDied { lastIndexOf[e.pid] = index }  // a notice arriving is not the process acting
        }
        eventCount = index
        hostKills.finish()
        hostKillGroups = hostKills.groups
        // A receive that timed out started when it began, not when it returned: issue it right
        // after its process's previous event, before the first event that ended after it began.
        // Nothing it could take may reach it before its timeout (the engine holds back requests
        // that could), so concurrent waits of several processes overlap as they did when recorded.
        for r in timedOutReceives {
            var lo = r.previous + 1, hi = r.index
            while lo < hi {
                let mid = (lo + hi) / 2
                if prefixMaxEnd[mid] > r.event.start { hi = mid } else { lo = mid + 1 }
            }
            if lo < r.index {
                earlyCalls[lo, default: []].append((r.index, r.event))
                issuedEarly.insert(r.index)
            }
        }
    }
}

/// Groups the host's kills by time stamp (see `ReplayPlan.hostKillGroups`).
struct HostKillGrouping {
    var groups: [Int: [Int64]] = [:]
    private var start: UInt64 = 0
    private var last = -1
    private var pids: [Int64] = []

    mutating func add(_ index: Int, _ e: TraceEvent) {
        if last >= 0 && e.start != start { finish() }
        start = e.start
        last = index
        pids.append(e.args.at(0) ?? 0)
    }

    mutating func finish() {
        if last >= 0 { groups[last] = pids }
        last = -1
        pids = []
    }
}
