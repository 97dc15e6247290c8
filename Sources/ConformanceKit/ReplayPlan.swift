import TraceFormat

/// What the replay needs to know before it starts: the capabilities a trace needs, where each
/// `send_receive_skip_search` must be issued, and who receives each message.
///
/// Built by one pass over the trace; it keeps only small indexes, so it scales to long traces.
struct ReplayPlan {
    /// Resource kinds the trace moves through messages.
    var resourceKinds: Set<String> = []
    /// Namespaces whose calls the replay sends.
    var namespaces: Set<String> = ["lunatic::message"]
    /// Number of events.
    var eventCount = 0
    /// `send_receive_skip_search` events to issue just before the event at the key index.
    var earlyCalls: [Int: [(index: Int, event: TraceEvent)]] = [:]
    /// Indexes of the events in `earlyCalls`.
    var issuedEarly: Set<Int> = []
    /// For each received message: the receiving process and the index of the receive.
    var receivedAt: [MessageID: (pid: UInt64, index: Int)] = [:]

    /// The resource kind name a push or take event concerns.
    static func resourceKind(of kind: EventKind) -> String? {
        switch kind {
        case .pushModule, .takeModule: return "module"
        case .pushTcpStream, .takeTcpStream: return "tcp_stream"
        case .pushTlsStream, .takeTlsStream: return "tls_stream"
        case .pushUdpSocket, .takeUdpSocket: return "udp_socket"
        default: return nil
        }
    }

    /// Builds the plan from one pass over `events`.
    init(_ events: AnyIterator<TraceEvent>) {
        var lastIndexOf: [UInt64: Int] = [:]
        var prefixMaxEnd: [UInt64] = []
        var pendingSkipSearch: [(index: Int, event: TraceEvent, previous: Int)] = []
        var index = 0
        var maxEnd: UInt64 = 0
        while let e = events.next() {
            defer { index += 1 }
            maxEnd = max(maxEnd, e.end)
            prefixMaxEnd.append(maxEnd)
            if let kind = Self.resourceKind(of: e.kind) { resourceKinds.insert(kind) }
            switch e.kind {
            case .link, .unlink, .kill, .dieWhenLinkDies, .linkDied:
                namespaces.insert("lifecycle")
            case .spawn where (e.args.at(1) ?? 0) != 0:
                namespaces.insert("lifecycle")
            case .exit where (e.args.at(0) ?? 0) >= ExitCode.killed.rawValue:
                namespaces.insert("lifecycle")
            case .receive where e.message != 0:
                if receivedAt[e.message] == nil { receivedAt[e.message] = (e.pid, index) }
            case .sendReceiveSkipSearch:
                pendingSkipSearch.append((index, e, lastIndexOf[e.pid] ?? -1))
                if let reply = e.args.at(2), reply != 0, e.result.value == 0, receivedAt[MessageID(reply)] == nil {
                    receivedAt[MessageID(reply)] = (e.pid, index)
                }
            default: break
            }
            if e.kind != .linkDied { lastIndexOf[e.pid] = index }  // a notice arriving is not the process acting
        }
        eventCount = index
        // A skip-search call is recorded when it returns, but its request was sent when it began:
        // issue it right after its process's previous event, before anything that ended after it
        // began (by the trace clock) and before the receive of its request message.
        for s in pendingSkipSearch {
            var at = s.index
            if let r = receivedAt[s.event.message], r.index < at, s.event.message != 0 { at = r.index }
            if s.event.start > 0 {
                var lo = s.previous + 1, hi = s.index
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if prefixMaxEnd[mid] > s.event.start { hi = mid } else { lo = mid + 1 }
                }
                at = min(at, lo)
            }
            at = max(at, s.previous + 1)
            if at < s.index {
                earlyCalls[at, default: []].append((s.index, s.event))
                issuedEarly.insert(s.index)
            }
        }
    }
}
