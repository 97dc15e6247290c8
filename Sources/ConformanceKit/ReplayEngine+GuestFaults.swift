import TraceFormat

/// Calls that trapped because a guest buffer lay outside guest memory (a wild pointer), and the
/// memory the replay spends on message content.
extension ReplayEngine {
    /// Bytes of message content one trace may make the replay generate or keep. A trace that
    /// records more (lengths without their bytes, from a crafted or damaged trace) is not
    /// replayed: its memory would follow the recorded lengths, not the trace.
    static let contentLimit = 64 << 20

    /// Takes `count` bytes from the content budget; false (and the trace marked unreplayable)
    /// when they do not fit.
    func spendContent(_ count: Int64, at index: Int) -> Bool {
        if count <= 0 { return true }
        guard count <= Int64(contentBudget) else {
            unreplayable = "not replayed: event #\(index) writes \(count) bytes, past the \(Self.contentLimit >> 20) MiB of message content the replay keeps per trace"
            return false
        }
        contentBudget -= Int(count)
        return true
    }

    /// Whether the adapter's protocol can say that a guest buffer is outside guest memory
    /// (`"guest_fault": true`, protocol 2).
    var speaksGuestFaults: Bool { (client.handshake?.protocolVersion ?? 1) >= 2 }

    /// Sends a call that trapped on guest memory. Protocol 2 adapters get it with
    /// `"guest_fault": true` and must trap; with protocol 1 the process is made to fail instead
    /// (the same end and link notices), and the call itself is not judged.
    func issueGuestFault(_ index: Int, _ e: TraceEvent, _ p: ProcState, op: String, fields: String) throws(AdapterFailure) {
        if speaksGuestFaults {
            try send(op, fields + ",\"guest_fault\":true", index: index, event: e, blocking: true)
            return
        }
        procs[e.pid]?.failRequested = true
        var reason = ""
        JSONValue.writeString(e.result.trapReason ?? "trap", to: &reason)
        try send("fail", "\"process\":\(p.adapterPid),\"reason\":" + reason, index: index, event: e, context: .unjudged)
    }
}
