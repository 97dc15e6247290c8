import TraceFormat

/// Writes the life of one message as a short story (`luna-trace flow`).
package enum MessageFlowReport {
    /// The lines describing `life`; `processes` names entries and exits of the processes involved.
    /// `beginsMidRun`: the trace is a flight recorder's window after dropped events.
    package static func lines(_ life: MessageLife, processes: ProcessTable, beginsMidRun: Bool = false) -> [String] {
        var out: [String] = []
        func who(_ pid: ProcessID) -> String {
            if pid == 0 { return "the host" }
            if let entry = processes[pid]?.entry { return "pid \(pid) (\(entry))" }
            return "pid \(pid)"
        }
        var title = "message #\(life.id)"
        if life.isLinkDied { title += " (link_died)" }
        if life.tag != 0 {
            title += "  tag \(life.tag)"
        } else {
            // A message created before the trace (or window) begins: its tag was never seen.
            title += life.creator == nil && !life.isLinkDied ? "  tag unknown" : "  untagged"
        }
        out.append(title)

        if life.isLinkDied {
            out.append("  \(stamp(life.createdAt)) queued by the runtime: \(who(life.creator ?? 0)) died (link tag \(life.tag))")
        } else if let creator = life.creator {
            var line = "  \(stamp(life.createdAt)) created by \(who(creator))"
            if life.capacity > 0 { line += " (capacity hint \(life.capacity))" }
            out.append(line)
        } else {
            out.append(
                beginsMidRun
                    ? "  created before the window (the flight recorder dropped those events)"
                    : "  created before the trace starts")
        }
        if life.writeCalls > 0 || life.bytesWritten > 0 {
            out.append("  wrote \(life.bytesWritten) B in \(life.writeCalls) write_data call(s)")
        }
        for p in life.pushes {
            if let slot = p.slot {
                out.append("  \(stamp(p.at)) pushed \(p.kind) id \(p.resourceID) from \(who(p.pid)) into slot \(slot)")
            } else {
                out.append("  \(stamp(p.at)) push of \(p.kind) id \(p.resourceID) by \(who(p.pid)) failed")
            }
        }
        for hop in life.hops {
            if let s = hop.send, s.call != .linkDied {
                var line = "  \(stamp(s.at)) sent by \(who(s.from)) to \(who(s.to)) with \(s.call.name)"
                if !s.receiverWasRunning {
                    if let end = processes[s.to]?.exit, end.at <= s.at {
                        line += " — receiver had already ended (\(end.summary))"
                    } else {
                        line += " — no such process"
                    }
                }
                out.append(line)
            }
            if let d = hop.delivery {
                let set = d.tagSet.isEmpty ? "any tag" : "tag set [" + d.tagSet.map(String.init).joined(separator: ", ") + "]"
                var line =
                    "  \(stamp(d.receivedAt)) received by \(who(d.receiver)) via \(d.call.name) (\(set)) after waiting \(TimeText.duration(d.waited))"
                if let s = hop.send, d.receivedAt >= s.at { line += "; \(TimeText.duration(d.receivedAt - s.at)) after the send" }
                out.append(line)
            }
        }
        if life.readCalls > 0 || life.bytesRead > 0 {
            out.append("  read \(life.bytesRead) B in \(life.readCalls) read_data call(s)")
        }
        for t in life.takes {
            if let newID = t.newID {
                out.append("  \(stamp(t.at)) \(who(t.pid)) took slot \(t.slot) as \(t.kind) id \(newID)")
            } else {
                out.append(
                    "  \(stamp(t.at)) \(who(t.pid)) failed to take slot \(t.slot) as \(t.kind)"
                        + (t.trap.map { ": trap \($0)" } ?? ""))
            }
        }
        for t in life.traps where ![.takeModule, .takeTcpStream, .takeTlsStream, .takeUdpSocket].contains(t.call) {
            out.append("  \(stamp(t.at)) \(who(t.pid)) trapped in \(t.call.name): \(t.reason)")
        }
        if let drop = life.drop {
            let reason = drop.reason.map(EventLineFormatter.dropName) ?? "reason \(drop.reasonCode)"
            out.append(
                "  \(stamp(drop.at)) dropped at \(who(drop.pid)): \(reason)" + (life.wasReceived ? " (after being received)" : "")
            )
        }
        for r in life.resourcesDropped {
            let kind = ResourceKind(rawValue: r.kind).map { "\($0)" } ?? "kind \(r.kind)"
            out.append("  resource in slot \(r.slot) (\(kind)) dropped with the message, never taken")
        }
        switch life.location {
        case .mailbox(let pid):
            out.append(
                "  at the end of the trace: still queued in \(who(pid))'s mailbox"
                    + (processes[pid]?.exit != nil ? " (which has ended)" : ""))
        case .scratch(let pid):
            out.append("  at the end of the trace: in \(who(pid))'s scratch area" + (life.wasSent ? "" : ", never sent"))
        case .nowhere(let pid):
            if life.drop == nil { out.append("  sent to \(who(pid)), which did not exist; lost") }
        case .gone:
            if life.drop == nil && !life.wasReceived && !life.wasSent { out.append("  discarded without being sent") }
        }
        return out
    }

    private static func stamp(_ t: UInt64?) -> String {
        guard let t else { return "         ?   " }
        let s = TimeText.timestamp(t)
        return s.count >= 13 ? s : String(repeating: " ", count: 13 - s.count) + s
    }

    /// Whether `life` involves `pid`: created, sent, received, or dropped there.
    package static func involves(_ life: MessageLife, pid: ProcessID) -> Bool {
        if life.creator == pid { return true }
        for hop in life.hops {
            if hop.send?.from == pid || hop.send?.to == pid || hop.delivery?.receiver == pid { return true }
        }
        return life.drop?.pid == pid
    }
}
