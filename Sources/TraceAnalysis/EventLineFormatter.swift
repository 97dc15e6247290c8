import TraceFormat

/// Renders one event as one human-readable timeline line:
/// time, pid, call with named arguments, extras (tags, message, payload, text), result.
package enum EventLineFormatter {
    /// The line for `event`; `attribution` adds the message the event concerns and its tag
    /// when the event itself does not name it (e.g. `read_data` on a received message).
    package static func line(_ event: TraceEvent, attribution: MessageAttribution? = nil) -> String {
        var parts: [String] = []
        parts.append(leftPad(TimeText.timestamp(event.start), 14))
        parts.append(leftPad("pid \(event.pid)", 8))
        parts.append(call(event))
        if !event.tags.isEmpty {
            parts.append("tags=[" + event.tags.map(String.init).joined(separator: ",") + "]")
        }
        let message = event.message != 0 ? event.message : (attribution?.message ?? 0)
        if message != 0 {
            var m = "msg=#\(message)"
            if let tag = attribution?.tag, tag != 0 { m += " tag=\(tag)" }
            parts.append(m)
        }
        switch event.payload {
        case .none: break
        case .bytes(let b): parts.append("payload=\(b.count)B" + preview(b))
        case .digest(let size, let digest): parts.append("payload=\(size)B xxh64=\(Hex.fixed(digest, width: 16))")
        }
        if !event.text.isEmpty { parts.append("\"" + escaped(event.text) + "\"") }
        if let result = result(event) { parts.append(result) }
        if event.duration > 0 { parts.append("(" + TimeText.duration(event.duration) + ")") }
        return parts.joined(separator: "  ")
    }

    /// `name(arg=value, …)` with names from `EventKind.argumentNames` (positional `argN` past them).
    package static func call(_ event: TraceEvent) -> String {
        let names = event.kind.argumentNames
        var rendered: [String] = []
        for (i, value) in event.args.enumerated() {
            let name = i < names.count ? names[i] : "arg\(i)"
            rendered.append("\(name)=\(argumentValue(event.kind, name: name, value))")
        }
        return event.kind.name + "(" + rendered.joined(separator: ", ") + ")"
    }

    /// The result part: `→ 0`, `→ 9027 (timeout)`, `→ trap: reason`, or nil for none.
    package static func result(_ event: TraceEvent) -> String? {
        switch event.result {
        case .none: return nil
        case .trap(let reason): return "→ trap: \(reason)"
        case .value(let v):
            switch event.kind {
            case .receive, .sendReceiveSkipSearch, .sendReceiveSkipSearchReturn:
                if ResultCode.isTimeout(v) { return "→ \(v) (timeout)" }
                if v == 1 && event.kind == .receive { return "→ 1 (link died)" }
                return "→ \(v)"
            default: return "→ \(v)"
            }
        }
    }

    private static func argumentValue(_ kind: EventKind, name: String, _ value: Int64) -> String {
        switch (kind, name) {
        case (.exit, "status"):
            return ExitCode(rawValue: value).map { "\(value):\(exitName($0))" } ?? String(value)
        case (.messageDropped, "reason"):
            return DropReason(rawValue: value).map { "\(value):\(dropName($0))" } ?? String(value)
        case (.resourceDropped, "resource_kind"):
            return ResourceKind(rawValue: value).map { "\(value):\($0)" } ?? String(value)
        case (_, "timeout") where value == -1:
            return "forever"
        default:
            return String(value)
        }
    }

    /// A short name for an exit status.
    package static func exitName(_ code: ExitCode) -> String {
        switch code {
        case .normal: return "normal"
        case .failure: return "failure"
        case .killed: return "killed"
        case .linkDied: return "link_died"
        }
    }

    /// A short name for a drop reason.
    package static func dropName(_ reason: DropReason) -> String {
        switch reason {
        case .replacedInScratch: return "replaced_in_scratch"
        case .receiverMissing: return "receiver_missing"
        case .leftInMailbox: return "left_in_mailbox"
        case .leftInScratch: return "left_in_scratch"
        }
    }

    private static func preview(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        let shown = bytes.prefix(16)
        let printable = shown.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
        if printable {
            return " \"" + escaped(String(decoding: shown, as: UTF8.self)) + (bytes.count > 16 ? "…" : "") + "\""
        }
        return " " + Hex.encode(shown) + (bytes.count > 16 ? "…" : "")
    }

    /// `text` with quotes, backslashes and control characters escaped, for one-line output.
    package static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private static func leftPad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
