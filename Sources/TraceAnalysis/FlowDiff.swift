import TraceFormat

/// The message flow of one run, normalised so that two runs of the same program compare equal
/// when they did the same things, whatever the timing and the ids the runtime handed out.
///
/// Processes are named by where they come from rather than by pid: the n-th process the host
/// spawned is `Pn`, the k-th child of `X` is `X.k`. Messages are named by their creator and
/// creation order: the k-th message `X` created is `X#k`; a link-death notice is
/// `link_died(X)`, naming the dead process. Each process's message-flow calls (message calls,
/// spawns, links, kills, link deaths, traps, exits and drops) become a list of steps in
/// program order, described with those names and without times, so that only a different
/// flow, not a different schedule or pid numbering, makes two lists differ.
package final class NormalisedFlow {
    /// One call of one process, as compared.
    package struct Step: Sendable {
        /// The call with normalised names (what is compared).
        package var text: String
        /// The same call with the run's own pids, message ids and time (what is shown).
        package var original: String
        /// When it happened.
        package var at: UInt64
    }

    /// Steps per normalised process name.
    package private(set) var steps: [String: [Step]] = [:]
    /// Normalised process names, in the order their processes were first seen.
    package private(set) var order: [String] = []
    /// The pid each normalised name stands for.
    package private(set) var pidOf: [String: UInt64] = [:]
    package private(set) var events = 0

    private let tracker = MessageTracker(keepsHistory: false)
    private var nameOf: [UInt64: String] = [:]
    private var childCount: [UInt64: Int] = [:]
    private var created: [UInt64: Int] = [:]
    private var messageName: [MessageID: String] = [:]

    package init() {}

    /// The normalised name of `pid` (its raw pid when the trace does not show where it came from).
    package func name(_ pid: UInt64) -> String {
        if pid == 0 { return "host" }
        if let n = nameOf[pid] { return n }
        let n = "pid\(pid)"
        nameOf[pid] = n
        return n
    }

    private func message(_ id: MessageID) -> String {
        id == 0 ? "-" : messageName[id] ?? "m?\(id)"
    }

    /// Takes the next event.
    package func observe(_ e: TraceEvent) {
        events += 1
        let kind = e.kind
        // Names first: a spawn names its child, a creation its message.
        if kind == .spawn, let child = e.args.at(0), child != 0, e.result.value == 0 {
            let k = childCount[e.pid, default: 0] + 1
            childCount[e.pid] = k
            let parent = e.pid == 0 ? "P" : name(e.pid) + "."
            if nameOf[UInt64(bitPattern: child)] == nil { nameOf[UInt64(bitPattern: child)] = parent + String(k) }
        }
        if kind == .createData, e.message != 0 {
            let k = created[e.pid, default: 0] + 1
            created[e.pid] = k
            messageName[e.message] = name(e.pid) + "#" + String(k)
        }
        if kind == .linkDied, e.message != 0 {
            messageName[e.message] = "link_died(" + name(UInt64(bitPattern: e.args.at(0) ?? 0)) + ")"
        }
        let attribution = tracker.observe(e)
        guard Self.compared(kind), e.pid != 0 || kind == .spawn else { return }

        let id = attribution?.message ?? e.message
        var text = kind.name
        var original = kind.name
        func add(_ normalised: String, _ raw: String) {
            text += " " + normalised
            original += " " + raw
        }
        switch kind {
        case .spawn, .send, .kill, .sendReceiveSkipSearch:
            let target = UInt64(bitPattern: e.args.at(0) ?? 0)
            add("to " + name(target), "to pid \(target)")
            if kind == .spawn, !e.text.isEmpty { add(e.text, e.text) }
        case .link:
            let target = UInt64(bitPattern: e.args.at(1) ?? 0)
            add("with " + name(target) + " tag \(e.args.at(0) ?? 0)", "with pid \(target) tag \(e.args.at(0) ?? 0)")
        case .unlink:
            let target = UInt64(bitPattern: e.args.at(0) ?? 0)
            add("from " + name(target), "from pid \(target)")
        case .linkDied:
            let dead = UInt64(bitPattern: e.args.at(0) ?? 0)
            add(
                "of " + name(dead) + (e.args.at(2) == 1 ? " (dies too)" : ""),
                "of pid \(dead)" + (e.args.at(2) == 1 ? " (dies too)" : ""))
        case .receive:
            if !e.tags.isEmpty {
                add(
                    "tags " + e.tags.map(String.init).joined(separator: ","),
                    "tags " + e.tags.map(String.init).joined(separator: ","))
            }
        case .createData:
            add("tag \(e.args.at(0) ?? 0)", "tag \(e.args.at(0) ?? 0)")
        case .writeData, .readData:
            let size = "\(e.payload.size == 0 ? UInt64(e.args.at(0) ?? 0) : e.payload.size) B"
            add(size, size)
        case .messageDropped:
            let reason = DropReason(rawValue: e.args.at(0) ?? 0).map(EventLineFormatter.dropName) ?? "reason \(e.args.at(0) ?? 0)"
            add(reason, reason)
        case .exit:
            let status = ExitCode(rawValue: e.args.at(0) ?? 0).map(EventLineFormatter.exitName) ?? "status \(e.args.at(0) ?? 0)"
            add(status, status)
        case .trap:
            add(e.text, e.text)
        default:
            break
        }
        if id != 0 { add("message " + message(id), "message #\(id)") }
        if kind == .sendReceiveSkipSearchReturn, e.skipSearchReply != 0 {
            add("reply " + message(e.skipSearchReply), "reply #\(e.skipSearchReply)")
        }
        switch e.result {
        case .trap(let reason): add("→ trap " + reason, "→ trap " + reason)
        case .value(let v) where Self.resultMatters(kind): add("→ \(v)", "→ \(v)")
        default: break
        }
        let who = name(e.pid)
        if steps[who] == nil {
            order.append(who)
            pidOf[who] = e.pid
        }
        steps[who, default: []].append(Step(text: text, original: "pid \(e.pid): " + original.replacingSpaces(), at: e.start))
    }

    /// Kinds that make up a message flow.
    private static func compared(_ kind: EventKind) -> Bool {
        switch kind {
        case .spawn, .link, .unlink, .kill, .linkDied, .exit, .trap, .messageDropped, .dieWhenLinkDies: return true
        default: return kind.namespace == .message
        }
    }

    /// Calls whose result is part of the flow: what a receive got, whether a send or a write
    /// worked, which slot a push filled (not ids the runtime handed out, such as a take's).
    private static func resultMatters(_ kind: EventKind) -> Bool {
        [
            EventKind.receive, .send, .sendReceiveSkipSearchReturn, .sendReceiveSkipSearch, .writeData, .readData,
            .pushModule, .pushTcpStream, .pushTlsStream, .pushUdpSocket,
        ].contains(kind)
    }
}

extension String {
    /// The text with runs of spaces collapsed (steps are built from optional parts).
    fileprivate func replacingSpaces() -> String {
        var out = ""
        var lastSpace = false
        for c in self {
            if c == " " {
                if lastSpace { continue }
                lastSpace = true
            } else {
                lastSpace = false
            }
            out.append(c)
        }
        return out.hasSuffix(" ") ? String(out.dropLast()) : out
    }
}

/// Where two normalised flows first part.
package struct FlowDifference: Sendable {
    /// The normalised process name.
    package var process: String
    /// The index of the step in that process (0-based).
    package var index: Int
    /// The step in each run, nil when that run's process had no more steps (or did not exist).
    package var a: NormalisedFlow.Step?
    package var b: NormalisedFlow.Step?

    /// The first difference between `a` and `b`: of the processes whose steps differ, the one
    /// whose differing step comes earliest in run A (run B's time when A has no such step).
    package static func first(_ a: NormalisedFlow, _ b: NormalisedFlow) -> FlowDifference? {
        var best: FlowDifference?
        var bestAt = UInt64.max
        var names = a.order
        for n in b.order where a.steps[n] == nil { names.append(n) }
        for name in names {
            let sa = a.steps[name] ?? [], sb = b.steps[name] ?? []
            var i = 0
            while i < sa.count && i < sb.count && sa[i].text == sb[i].text { i += 1 }
            guard i < sa.count || i < sb.count else { continue }
            let stepA = i < sa.count ? sa[i] : nil, stepB = i < sb.count ? sb[i] : nil
            let at = stepA?.at ?? stepB?.at ?? 0
            if at < bestAt {
                bestAt = at
                best = FlowDifference(process: name, index: i, a: stepA, b: stepB)
            }
        }
        return best
    }
}
