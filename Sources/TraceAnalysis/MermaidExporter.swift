import TraceFormat

/// Streams a trace as a Mermaid `sequenceDiagram`, to paste into a README or an issue.
///
/// Spawns and link-death notices are dashed arrows, sends are solid arrows (`-x` when the
/// receiver did not exist or had ended), kills are async arrows, and receives, timeouts,
/// drops, traps and exits are notes. At most `limit` statements are written; the rest are
/// counted in a final note.
package final class MermaidExporter {
    private let out: any TextOutput
    private let limit: Int
    private let tracker = MessageTracker()
    private var declared: Set<UInt64> = []
    private var written = 0
    private var omitted = 0
    private var firstParticipant: UInt64?

    /// An exporter writing to `out` at most `limit` statements.
    package init(out: any TextOutput, limit: Int) {
        self.out = out
        self.limit = max(0, limit)
        out.line("sequenceDiagram")
    }

    /// Takes the next event.
    package func observe(_ e: TraceEvent) {
        let target = UInt64(bitPattern: e.args.at(0) ?? 0)
        let targetRunning = tracker.isRunning(target)
        let a = tracker.observe(e)
        switch e.kind {
        case .spawn:
            guard target != 0 else { return }
            statement("\(id(e.pid))-->>\(id(target)): spawn" + (e.text.isEmpty ? "" : " " + clean(e.text)))
        case .send:
            guard let a else { return }
            statement(
                "\(id(e.pid))\(targetRunning ? "->>" : "-x")\(id(target)): " + describe(a)
                    + (targetRunning ? "" : " (no such process)"))
        case .sendReceiveSkipSearch:
            if let reason = e.result.trapReason {
                statement("Note over \(id(e.pid)): \(e.kind.name) trapped " + clean(reason))
                return
            }
            if let a {
                statement("\(id(e.pid))\(targetRunning ? "->>" : "-x")\(id(target)): " + describe(a) + " and wait")
            }
        case .sendReceiveSkipSearchReturn:
            skipSearchReturned(e)
        case .receive:
            if let a, let r = e.result.value, r == 0 || r == 1 {
                statement("Note over \(id(e.pid)): received \(describe(a)) after \(TimeText.duration(e.duration))")
            } else if ResultCode.isTimeout(e.result.value) {
                let set = e.tags.isEmpty ? "" : " tags " + e.tags.map(String.init).joined(separator: ",")
                statement("Note over \(id(e.pid)): receive\(set) timed out after \(TimeText.duration(e.duration))")
            }
        case .linkDied:
            let dead = UInt64(bitPattern: e.args.at(0) ?? 0)
            statement("\(id(dead))--x\(id(e.pid)): link died" + (e.args.at(2) == 1 ? " (dies too)" : ""))
        case .kill:
            statement("\(id(e.pid))-)\(id(target)): kill")
        case .messageDropped:
            let reason = DropReason(rawValue: e.args.at(0) ?? 0)
            guard reason != .replacedInScratch else { return }
            statement(
                "Note over \(id(e.pid)): m\(e.message) dropped (\(reason.map(EventLineFormatter.dropName) ?? "reason \(e.args.at(0) ?? 0)"))"
            )
        case .trap:
            statement("Note over \(id(e.pid)): trap " + clean(e.text))
        case .exit:
            let status = ExitCode(rawValue: e.args.at(0) ?? 0).map(EventLineFormatter.exitName) ?? "status \(e.args.at(0) ?? 0)"
            statement("Note over \(id(e.pid)): exit \(status)" + (e.text.isEmpty ? "" : " " + clean(e.text)))
        default:
            if let reason = e.result.trapReason {
                statement("Note over \(id(e.pid)): \(e.kind.name) trapped " + clean(reason))
            }
        }
    }

    /// The note of a skip-search call's return: its reply or its timeout.
    private func skipSearchReturned(_ e: TraceEvent) {
        if ResultCode.isTimeout(e.result.value) {
            statement("Note over \(id(e.pid)): reply timed out after \(TimeText.duration(e.duration))")
        } else if e.skipSearchReply != 0 {
            statement("Note over \(id(e.pid)): got reply m\(e.skipSearchReply) after \(TimeText.duration(e.duration))")
        }
    }

    /// Writes the closing note when statements were left out.
    package func finish() {
        if omitted > 0 {
            let anchor = firstParticipant.map(id) ?? "P0"
            out.line("    Note over \(anchor): … \(omitted) more interactions not shown (--limit \(limit))")
        }
    }

    private func describe(_ a: MessageAttribution) -> String {
        var text = "m\(a.message)"
        if a.tag != 0 { text += " tag \(a.tag)" }
        if let life = tracker.life(a.message) {
            if life.bytesWritten > 0 { text += " \(life.bytesWritten)B" }
            if !life.pushes.isEmpty { text += " +\(life.pushes.count) res" }
        }
        return text
    }

    private func id(_ pid: ProcessID) -> String { "P\(pid)" }

    private func statement(_ text: String) {
        guard written < limit else {
            omitted += 1
            return
        }
        // Declare the participants the statement uses, in order of first appearance.
        for pid in participants(in: text) where !declared.contains(pid) {
            declared.insert(pid)
            if firstParticipant == nil { firstParticipant = pid }
            var label = pid == 0 ? "host" : "pid \(pid)"
            if let entry = tracker.process(pid)?.entry { label += " " + clean(entry) }
            out.line("    participant \(id(pid)) as \(label)")
        }
        written += 1
        out.line("    " + text)
    }

    private func participants(in statement: String) -> [UInt64] {
        let head = statement.split(separator: ":", maxSplits: 1).first.map(String.init) ?? statement
        var pids: [UInt64] = []
        var digits = ""
        var inID = false
        for c in head {
            if c == "P" { inID = true; digits = ""; continue }
            if inID, c.isNumber { digits.append(c); continue }
            if inID, let v = UInt64(digits) { pids.append(v) }
            inID = false
            digits = ""
        }
        if inID, let v = UInt64(digits) { pids.append(v) }
        return pids
    }

    /// Text safe inside a Mermaid message: no `;`, `#`, newlines or colons.
    private func clean(_ text: String) -> String {
        var s = ""
        for c in text.prefix(80) {
            switch c {
            case ";", "#": s.append(",")
            case "\n", "\r", "\t": s.append(" ")
            default: s.append(c)
            }
        }
        return s
    }
}
