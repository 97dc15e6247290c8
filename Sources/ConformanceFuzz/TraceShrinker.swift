import ConformanceKit
import TraceFormat
import LunaSupport

/// The calls between events of a trace that removal must respect, so that a shrunk trace is
/// still one a runtime could have recorded: a process keeps its spawn, a receive keeps the send
/// of its message, a send keeps the message's creation, a take keeps the pushes into its
/// message, a push of a taken resource keeps that take, calls on the scratch area keep the call
/// that put the message there, and the two halves of a skip-search call stay together.
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
        var takenAt: [String: Int] = [:]
        var openSkipSearch: [UInt64: Int] = [:]
        var exitOf: [UInt64: Int] = [:]
        var lastKillOf: [UInt64: Int] = [:]
        var dyingNoticeOf: [UInt64: Int] = [:]
        func key(_ pid: UInt64, _ kind: EventKind, _ id: Int64) -> String {
            "\(pid):\(TraceEvent.resourceKindName(kind) ?? "?"):\(id)"
        }
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
                if let t = takenAt[key(e.pid, e.kind, e.args.at(0) ?? -1)] { deps.append(t) }
            case .takeModule, .takeTcpStream, .takeTlsStream, .takeUdpSocket:
                if let s = scratch[e.pid] {
                    deps.append(s.at)
                    deps.append(contentsOf: pushesInto[s.message] ?? [])
                }
                if let id = e.result.value { takenAt[key(e.pid, e.kind, id)] = i }
            case .send:
                if let c = createOf[e.message] { deps.append(c) }
                if let s = scratch[e.pid] { deps.append(s.at) }
                if e.message != 0, e.result.trapReason == nil { sendOf[e.message] = i }
                scratch[e.pid] = nil
            case .sendReceiveSkipSearch where !e.isCombinedSkipSearch:
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
                if e.message != 0 { linkDiedOf[e.message] = i }
                if (e.args.at(2) ?? 0) != 0 { dyingNoticeOf[e.pid] = i }
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

extension TraceEvent {
    static func resourceKindName(_ kind: EventKind) -> String? {
        switch kind {
        case .pushModule, .takeModule: return "module"
        case .pushTcpStream, .takeTcpStream: return "tcp_stream"
        case .pushTlsStream, .takeTlsStream: return "tls_stream"
        case .pushUdpSocket, .takeUdpSocket: return "udp_socket"
        default: return nil
        }
    }
}

/// Judges candidate traces: the same failure against the adapter under test and, when a
/// reference adapter is given, no divergence there (so that every candidate is a trace the
/// reference semantics could have recorded, not an artefact of cutting events out).
public struct ShrinkOracle: Sendable {
    /// The adapter under test.
    public var adapter: AdapterClient.Options
    /// The reference adapter, or nil to trust candidates.
    public var reference: AdapterClient.Options?
    /// Replay limits.
    public var replay: ReplayOptions
    /// The failure to keep.
    public var signature: FailureSignature

    /// Creates an oracle.
    public init(adapter: AdapterClient.Options, reference: AdapterClient.Options?, replay: ReplayOptions,
                signature: FailureSignature)
    {
        self.adapter = adapter
        self.reference = reference
        self.replay = replay
        self.signature = signature
    }

    /// The index of the first candidate that still fails the same way (with its outcome), or
    /// nil. Candidates are replayed in batches through one adapter process each.
    public func firstFailing(_ candidates: [[TraceEvent]]) -> (index: Int, outcome: TraceOutcome)? {
        if candidates.isEmpty { return nil }
        var valid = Array(candidates.indices)
        if let reference {
            let report = ConformanceRunner(adapter: reference, replay: replay)
                .run(valid.map { TraceSource.events(candidates[$0], name: "candidate \($0)") })
            valid = zip(valid, report.outcomes).filter { $0.1.status == .passed }.map(\.0)
        }
        if valid.isEmpty { return nil }
        let report = ConformanceRunner(adapter: adapter, replay: replay)
            .run(valid.map { TraceSource.events(candidates[$0], name: "candidate \($0)") })
        for (i, o) in zip(valid, report.outcomes) where FailureSignature(o) == signature { return (i, o) }
        return nil
    }
}

/// Shrinks a failing trace to a small one that fails the same way (delta debugging over its
/// events, removing each chosen event together with everything that needs it).
public struct TraceShrinker: Sendable {
    /// Judges candidates.
    public var oracle: ShrinkOracle
    /// Stop after this many seconds with the best trace so far.
    public var timeLimit: Double
    /// Called with progress lines.
    public var log: (@Sendable (String) -> Void)?

    /// Creates a shrinker.
    public init(oracle: ShrinkOracle, timeLimit: Double = 60, log: (@Sendable (String) -> Void)? = nil) {
        self.oracle = oracle
        self.timeLimit = timeLimit
        self.log = log
    }

    /// The result of shrinking.
    public struct Result: Sendable {
        /// The smallest failing trace found.
        public var events: [TraceEvent]
        /// Its replay against the adapter under test.
        public var outcome: TraceOutcome?
        /// Candidate traces tried.
        public var tries: Int
    }

    /// Shrinks `events`, whose first divergence is at `divergenceIndex` (nil: unknown).
    public func shrink(_ original: [TraceEvent], divergenceIndex: Int?) -> Result {
        let deadline = MonotonicClock.deadline(after: timeLimit)
        var tries = 0
        // Everything after the first divergence can go; so can events the replay never sends.
        let cut = divergenceIndex.map { min($0 + 1, original.count) } ?? original.count
        let events = Array(original[..<cut]).filter(TraceDependencies.isReplayed)
        let deps = TraceDependencies(events)
        var best: (kept: [Int], outcome: TraceOutcome?) = (Array(events.indices), nil)
        func materialize(_ kept: [Int]) -> [TraceEvent] { kept.map { events[$0] } }

        // First try: only what the divergent call needs, and its process's earlier calls.
        let target = events.count - 1
        if target >= 0, let divergentPid = events.last?.pid {
            var wanted = [target]
            for (i, e) in events.enumerated() where e.pid == divergentPid { wanted.append(i) }
            let slice = deps.backwardClosure(of: wanted).sorted()
            let sliceOnly = deps.backwardClosure(of: [target]).sorted()
            var candidates: [[Int]] = []
            if sliceOnly.count < events.count { candidates.append(sliceOnly) }
            if slice.count < events.count && slice != sliceOnly { candidates.append(slice) }
            tries += candidates.count
            if let (i, o) = oracle.firstFailing(candidates.map(materialize)) {
                best = (candidates[i], o)
                log?("slice of \(best.kept.count) events still fails")
            }
        }
        // ddmin on complements.
        var n = 2
        while best.kept.count >= 2 && MonotonicClock.now() < deadline {
            let kept = best.kept
            let keptSet = Set(kept)
            let chunk = (kept.count + n - 1) / n
            var candidates: [[Int]] = []
            var start = 0
            while start < kept.count {
                let removed = Array(kept[start..<min(start + chunk, kept.count)])
                let gone = deps.closure(removing: removed, from: keptSet)
                let rest = kept.filter { !gone.contains($0) }
                if !rest.isEmpty && rest.count < kept.count { candidates.append(rest) }
                start += chunk
            }
            // Smallest first: the biggest cut that still fails wins.
            candidates.sort { $0.count < $1.count }
            var found = false
            var offset = 0
            while offset < candidates.count && MonotonicClock.now() < deadline {
                let batch = Array(candidates[offset..<min(offset + 16, candidates.count)])
                tries += batch.count
                if let (i, o) = oracle.firstFailing(batch.map(materialize)) {
                    best = (batch[i], o)
                    found = true
                    break
                }
                offset += 16
            }
            if found {
                log?("\(best.kept.count) events still fail")
                n = max(n - 1, 2)
                continue
            }
            if n >= kept.count { break }
            n = min(n * 2, kept.count)
        }
        var outcome = best.outcome
        if outcome == nil {
            let report = ConformanceRunner(adapter: oracle.adapter, replay: oracle.replay)
                .run([TraceSource.events(materialize(best.kept), name: "shrunk")])
            outcome = report.outcomes.first
        }
        return Result(events: materialize(best.kept), outcome: outcome, tries: tries)
    }
}
