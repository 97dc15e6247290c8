import TraceFormat

/// Calls that trapped because a guest buffer lay outside guest memory (a wild pointer), and the
/// memory the replay spends on message content.
extension ReplayEngine {
    /// Bytes of message content the replay may make up (for writes whose bytes the trace did
    /// not keep) beyond `contentPerEvent` per event read so far. A trace that claims more
    /// (lengths without their bytes, as a crafted or damaged trace can) is not replayed: memory
    /// follows the size of the trace, not the lengths it records.
    static let contentLimit = 16 << 20
    static let contentPerEvent = 256

    /// Takes `count` made-up bytes from the budget; false (and the trace marked unreplayable)
    /// when they do not fit.
    func spendContent(_ count: Int64, at index: Int) -> Bool {
        if count <= 0 { return true }
        let allowance = Int64(contentBudget) + Int64(Self.contentPerEvent) * Int64(index + 1)
        guard count <= allowance else {
            unreplayable =
                "not replayed: event #\(index) writes \(count) bytes the trace did not keep, past what the replay makes up for a trace of this size (\(Self.contentLimit >> 20) MiB + \(Self.contentPerEvent) bytes per event)"
            return false
        }
        contentBudget -= Int(count)
        return true
    }

    /// Extra seconds for a request or answer of `bytes` bytes: 2 s per MiB, for slow adapters.
    static func sizeAllowance(bytes: Int) -> Double {
        bytes < 64 << 10 ? 0 : Double(bytes) / Double(1 << 20) * 2
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
