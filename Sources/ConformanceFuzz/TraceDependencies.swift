import TraceFormat

/// The calls between events of a trace that removal must respect, so that a shrunk trace is
/// still one a runtime could have recorded: a process keeps its spawn, a receive keeps the send
/// of its message, a send keeps the message's creation, a take keeps the pushes into its
/// message, calls on the scratch area keep the call that put the message there, and the two
/// halves of a skip-search call stay together.
///
/// A push of a resource that an earlier take put into the process's table does not keep that
/// take: without it, the resource is one the process created outside the message API, which
/// the replay creates (`new_resource`). So a resource's trip through many processes need not
/// stay in a case that only needs its last hop.
public struct TraceDependencies: Sendable {
    /// For each event, the events it needs.
    public private(set) var needs: [[Int]]
    /// For each event, the events that need it.
    public private(set) var neededBy: [[Int]]

    /// Whether an event is replayed at all (the others are dropped before shrinking).
    public static func isReplayed(_ e: TraceEvent) -> Bool {
        switch e.kind {
        case .createData, .writeData, .readData, .seekData, .getTag, .dataSize, .send, .sendReceiveSkipSearch,
            .sendReceiveSkipSearchReturn, .receive,
            .pushModule, .pushTcpStream, .pushTlsStream, .pushUdpSocket,
            .takeModule, .takeTcpStream, .takeTlsStream, .takeUdpSocket,
            .link, .unlink, .kill, .dieWhenLinkDies, .trap, .exit, .spawn, .linkDied:
            return true
        default:
            return false
        }
    }

    /// Computes the dependencies of `events`.
    public init(_ events: [TraceEvent]) {
        needs = Array(repeating: [], count: events.count)
        neededBy = Array(repeating: [], count: events.count)
        var spawnOf: [UInt64: Int] = [:]
        var createOf: [MessageID: Int] = [:]
        var sendOf: [MessageID: Int] = [:]
        var linkDiedOf: [MessageID: Int] = [:]
        var pushesInto: [MessageID: [Int]] = [:]
        var scratch: [UInt64: (message: MessageID, at: Int)] = [:]
        var openSkipSearch: [UInt64: Int] = [:]
        var exitOf: [UInt64: Int] = [:]
        var lastKillOf: [UInt64: Int] = [:]
        var dyingNoticeOf: [UInt64: Int] = [:]
        var linkOf: [SIMD2<UInt64>: Int] = [:]  // (process, other) → the `link` call joining them
        var flagOf: [UInt64: Int] = [:]  // the latest `die_when_link_dies` of each process
        for (i, e) in events.enumerated() {
            var deps: [Int] = []
            if e.pid != 0, let s = spawnOf[e.pid] { deps.append(s) }
            switch e.kind {
            case .spawn:
                if let child = e.args.at(0) { spawnOf[UInt64(bitPattern: child)] = i }
            case .createData:
                if e.message != 0 { createOf[e.message] = i }
                scratch[e.pid] = (e.message, i)
            case .writeData, .readData, .seekData, .getTag, .dataSize:
                if let s = scratch[e.pid] { deps.append(s.at) }
            case .pushModule, .pushTcpStream, .pushTlsStream, .pushUdpSocket:
                if let s = scratch[e.pid] {
                    deps.append(s.at)
                    if e.result.value != nil { pushesInto[s.message, default: []].append(i) }
                }
            case .takeModule, .takeTcpStream, .takeTlsStream, .takeUdpSocket:
                if let s = scratch[e.pid] {
                    deps.append(s.at)
                    deps.append(contentsOf: pushesInto[s.message] ?? [])
                }
            case .send:
                if let c = createOf[e.message] { deps.append(c) }
                if let s = scratch[e.pid] { deps.append(s.at) }
                if e.message != 0, e.result.trapReason == nil { sendOf[e.message] = i }
                scratch[e.pid] = nil
            case .sendReceiveSkipSearch:
                if let c = createOf[e.message] { deps.append(c) }
                if let s = scratch[e.pid] { deps.append(s.at) }
                if e.message != 0, e.result.trapReason == nil {
                    sendOf[e.message] = i
                    openSkipSearch[e.pid] = i
                }
                scratch[e.pid] = nil
            case .sendReceiveSkipSearchReturn:
                if let half = openSkipSearch.removeValue(forKey: e.pid) {
                    deps.append(half)
                    needs[half].append(i)  // the halves go together
                    neededBy[i].append(half)
                }
                let reply = e.skipSearchReply
                if reply != 0 {
                    if let s = sendOf[reply] { deps.append(s) }
                    if let l = linkDiedOf[reply] { deps.append(l) }
                    scratch[e.pid] = (reply, i)
                }
            case .receive:
                if e.message != 0, e.result.value == 0 || e.result.value == 1 {
                    if let s = sendOf[e.message] { deps.append(s) }
                    if let l = linkDiedOf[e.message] { deps.append(l) }
                    scratch[e.pid] = (e.message, i)
                }
            case .linkDied:
                // A notice needs the death it reports: the dead process's spawn, and its end
                // when that was recorded first, else the kill or notice that decided it (the
                // notices of a death decided by others go out at once, before its end).
                let dead = UInt64(bitPattern: e.args.at(0) ?? 0)
                if let s = spawnOf[dead] { deps.append(s) }
                if let x = exitOf[dead] {
                    deps.append(x)
                } else {
                    if let k = lastKillOf[dead] { deps.append(k) }
                    if let n = dyingNoticeOf[dead] { deps.append(n) }
                }
                // And the link it came through, and (as a message) the flag that made it one:
                // without them a notice of a missing pid (R-PROC-3) has no cause left.
                if let l = linkOf[SIMD2(e.pid, dead)] { deps.append(l) }
                if (e.args.at(2) ?? 0) == 0, let f = flagOf[e.pid] { deps.append(f) }
                if e.message != 0 { linkDiedOf[e.message] = i }
                if (e.args.at(2) ?? 0) != 0 { dyingNoticeOf[e.pid] = i }
            case .link:
                let other = UInt64(bitPattern: e.args.at(1) ?? 0)
                linkOf[SIMD2(e.pid, other)] = i
                linkOf[SIMD2(other, e.pid)] = i
            case .dieWhenLinkDies:
                flagOf[e.pid] = i
            case .kill:
                lastKillOf[UInt64(bitPattern: e.args.at(0) ?? 0)] = i
            case .exit:
                // An end caused by another process needs its cause.
                switch e.args.at(0) ?? 0 {
                case ExitCode.killed.rawValue: if let k = lastKillOf[e.pid] { deps.append(k) }
                case ExitCode.linkDied.rawValue: if let n = dyingNoticeOf[e.pid] { deps.append(n) }
                default: break
                }
                exitOf[e.pid] = i
            default:
                break
            }
            needs[i].append(contentsOf: deps)
            for d in deps { neededBy[d].append(i) }
        }
    }

    /// `removed` and every event that (transitively) needs one of them.
    public func closure(removing removed: [Int], from kept: Set<Int>) -> Set<Int> {
        var out = Set<Int>()
        var stack = removed.filter { kept.contains($0) }
        while let i = stack.popLast() {
            guard out.insert(i).inserted else { continue }
            for j in neededBy[i] where kept.contains(j) && !out.contains(j) { stack.append(j) }
        }
        return out
    }

    /// `wanted` and every event it (transitively) needs.
    public func backwardClosure(of wanted: [Int]) -> Set<Int> {
        var out = Set<Int>()
        var stack = wanted
        while let i = stack.popLast() {
            guard out.insert(i).inserted else { continue }
            for j in needs[i] where !out.contains(j) { stack.append(j) }
        }
        return out
    }
}
