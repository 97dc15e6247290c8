/// JSON Lines rendering of events: one object per line with stable field names
/// (documented in `docs/TRACE_FORMAT.md`, "JSON Lines").
///
/// `{"i":0,"kind":"create_data","pid":1,"start":100,"end":180,"args":[7,64],"message":1,"result":{"value":0}}`
/// Fields that are empty (`args`, `tags`, `message` 0, `payload` none, `text` "", `result`
/// none) are left out; `payload` is a hex string or `{"size":n,"xxh64":"<16 hex digits>"}`.
public enum EventJSON {
    /// One line (without a newline) for `event`; `index` adds `"i"` (the event's position).
    public static func line(_ e: TraceEvent, index: UInt64? = nil) -> String {
        var s = "{"
        if let index { s += "\"i\":\(index)," }
        s += "\"kind\":"
        JSONString.append(e.kind.name, to: &s)
        s += ",\"pid\":\(e.pid),\"start\":\(e.start),\"end\":\(e.end)"
        if !e.args.isEmpty { s += ",\"args\":[" + e.args.map(String.init).joined(separator: ",") + "]" }
        if !e.tags.isEmpty { s += ",\"tags\":[" + e.tags.map(String.init).joined(separator: ",") + "]" }
        if e.message != 0 { s += ",\"message\":\(e.message)" }
        switch e.payload {
        case .none: break
        case .bytes(let b): s += ",\"payload\":\"" + Hex.encode(b) + "\""
        case .digest(let size, let h): s += ",\"payload\":{\"size\":\(size),\"xxh64\":\"\(Hex.fixed(h, width: 16))\"}"
        }
        if !e.text.isEmpty {
            s += ",\"text\":"
            JSONString.append(e.text, to: &s)
        }
        switch e.result {
        case .none: break
        case .value(let v): s += ",\"result\":{\"value\":\(v)}"
        case .trap(let r):
            s += ",\"result\":{\"trap\":"
            JSONString.append(r, to: &s)
            s += "}"
        }
        s += "}"
        return s
    }

    /// Parses a line written by `line` back into an event (`"i"` is ignored).
    public static func parse(_ line: String) throws -> TraceEvent {
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw EventJSONError(detail: "\(error.message) at character \(error.offset)")
        }
        guard case .object(let o) = value else { throw EventJSONError(detail: "not a JSON object") }
        guard case .string(let kindName)? = o["kind"] else { throw EventJSONError(detail: "missing \"kind\"") }
        let kind: EventKind
        if let k = EventKind(name: kindName) {
            kind = k
        } else if kindName.hasPrefix("kind_"), let code = UInt16(kindName.dropFirst(5)) {
            kind = EventKind(rawValue: code)
        } else {
            throw EventJSONError(detail: "unknown kind \"\(kindName)\"")
        }
        var e = TraceEvent(kind: kind, pid: try u64(o, "pid"), start: try u64(o, "start"), end: try u64(o, "end"))
        if let a = o["args"] { e.args = EventArguments(try i64s(a, "args")) }
        if let t = o["tags"] { e.tags = try i64s(t, "tags") }
        if o["message"] != nil { e.message = try u64(o, "message") }
        switch o["payload"] {
        case nil: break
        case .string(let h)?:
            guard let b = Hex.decode(h) else { throw EventJSONError(detail: "payload is not hex") }
            e.payload = .bytes(b)
        case .object(let p)?:
            guard case .string(let h)? = p["xxh64"], h.count == 16, let digest = UInt64(h, radix: 16) else {
                throw EventJSONError(detail: "payload digest needs \"xxh64\" as 16 hex digits")
            }
            e.payload = .digest(size: try u64(p, "size"), xxh64: digest)
        default: throw EventJSONError(detail: "payload must be a hex string or {size,xxh64}")
        }
        if let t = o["text"] {
            guard case .string(let s) = t else { throw EventJSONError(detail: "text must be a string") }
            e.text = s
        }
        switch o["result"] {
        case nil: break
        case .object(let r)?:
            if case .int(let v)? = r["value"] {
                e.result = .value(v)
            } else if case .string(let t)? = r["trap"] {
                e.result = .trap(t)
            } else {
                throw EventJSONError(detail: "result must be {\"value\":n} or {\"trap\":\"…\"}")
            }
        default: throw EventJSONError(detail: "result must be an object")
        }
        return e
    }

    private static func u64(_ o: JSONObject, _ key: String) throws -> UInt64 {
        guard let v = o[key]?.uint64 else {
            throw EventJSONError(detail: "\"\(key)\" must be an unsigned 64-bit integer")
        }
        return v
    }

    private static func i64s(_ v: JSONValue, _ key: String) throws -> [Int64] {
        guard case .array(let items) = v else { throw EventJSONError(detail: "\"\(key)\" must be an array") }
        return try items.map { item in
            guard case .int(let x) = item else {
                throw EventJSONError(detail: "\"\(key)\" holds a value that is not a 64-bit integer")
            }
            return x
        }
    }
}

/// A JSON line that is not a valid event.
public struct EventJSONError: Error, CustomStringConvertible {
    /// What is wrong.
    public var detail: String
    public var description: String { "invalid event JSON: \(detail)" }
}
