import ConformanceKit
import Foundation
import LunaRuntime
import TraceFormat

/// The operations of the built-in adapter.
extension BuiltinAdapter {
    /// Runs request `r` of idle process `p` on the dispatcher and answers it, or hands the
    /// waiting of a blocking call to `p`'s body (answered when `settle` sees it end).
    func run(_ r: Request, on p: AdapterProcess) {
        let ctx: ProcessContext = p.ctx
        do {
            if protocolVersion >= 2, r.body["guest_fault"] == .bool(true), Self.guestBufferOps.contains(r.op) {
                // The guest's buffer lay outside its memory: the call traps there (protocol 2).
                throw LunaTrap(reason: "lunatic::message::" + r.op)
            }
            switch r.op {
            case "receive":
                // Look at the mailbox now; only the waiting goes to the body.
                let code = try ctx.receiveBlocking(tags: receiveTags(r), timeoutMs: 0)
                let timeout = faultyTimeout(r.body["timeout_ms"]?.int ?? -1)
                if code != ResultCode.timeout || timeout == 0 {
                    out.result(r.id, receiveResult(code, ctx, generation: p.generation))
                } else {
                    startWaiting(r, on: p, timeoutMs: timeout)
                }
            case "send_receive_skip_search":
                let timeout = faultyTimeout(r.body["timeout_ms"]?.int ?? -1)
                if timeout == 0 {
                    out.result(r.id, skipSearchResult(try skipSearchNow(r, ctx), ctx, generation: p.generation))
                } else {
                    startWaiting(r, on: p, timeoutMs: timeout)
                }
                suspect(target(of: r))
            case "exit":
                out.result(r.id, "null")
                p.give(.exit)
                end(p)
            case "fail":
                out.result(r.id, "null")
                p.give(.fail(r.body["reason"]?.string ?? "trap"))
                end(p)
            default:
                out.result(r.id, try perform(r, ctx))
                // A message may have ended the receiver's wait; a kill marks its victim and
                // whoever its death reaches through links (the caller too, perhaps).
                if r.op == "send" { suspect(target(of: r)) }
                if r.op == "kill" { suspectAll() }
            }
        } catch let t as LunaTrap {
            // The process ends with failure where it trapped; its links are notified.
            out.line(trapLine(r.id, t, ctx, generation: p.generation), flush: false)
            p.give(.fail(t.reason))
            end(p)
        } catch let e as AdapterRequestError {
            out.error(r.id, e.message)
        } catch {
            // ProcessTerminated: the runtime has marked it to die (a "no process" notice taken
            // at this waiting call); `settle` ends it.
            out.ended(r.id, p.pendingDeathStatus)
            suspect(p)
        }
    }

    /// The adapter process a request's `to` names, if any.
    func target(of r: Request) -> AdapterProcess? {
        r.body["to"]?.int.flatMap { procs[$0] }
    }

    /// The calls whose guest buffer a protocol 2 request can say was outside guest memory.
    static let guestBufferOps: Set<String> = ["write_data", "read_data", "receive"]

    /// A `trap` response line with the scratch area as the trap left it.
    func trapLine(_ id: Int64, _ t: LunaTrap, _ ctx: ProcessContext, generation: Int) -> String {
        "{\"id\":\(id),\"trap\":\(JSONString.quoted(t.reason)),\"scratch\":\(describeScratch(ctx, generation: generation))}"
    }

    /// The waiting part of a blocking call, on the process's body; returns the response line.
    /// The wait itself has no deadline: the dispatcher ends it when its timeout is due (see
    /// `startWaiting`). Reads only `faults` of the adapter (the dispatcher owns the rest).
    func waitingPart(of r: Request, _ ctx: ProcessContext, generation: Int) async throws -> String {
        let timeout = UInt64.max
        if r.op == "receive" {
            let code = try await ctx.receive(tags: receiveTags(r), timeoutMs: timeout)
            return "{\"id\":\(r.id),\"result\":\(receiveResult(code, ctx, generation: generation))}"
        }
        let to = ProcessID(truncatingIfNeeded: r.body["to"]?.int ?? 0)
        var code: Int32
        if faults.has(.skipSearchSearchesQueue), let m = ctx.scratch {
            _ = try ctx.send(to: to)
            code = try await ctx.receive(tags: m.tag == 0 ? [] : [m.tag], timeoutMs: timeout)
            if code == 1 { code = 0 }
        } else {
            code = try await ctx.sendReceiveSkipSearch(to: to, timeoutMs: timeout)
        }
        return "{\"id\":\(r.id),\"result\":\(skipSearchResult(code, ctx, generation: generation))}"
    }

    /// `send_receive_skip_search` with timeout 0, on the dispatcher.
    func skipSearchNow(_ r: Request, _ ctx: ProcessContext) throws -> Int32 {
        let to = ProcessID(truncatingIfNeeded: r.body["to"]?.int ?? 0)
        if faults.has(.skipSearchSearchesQueue), let m = ctx.scratch {
            _ = try ctx.send(to: to)
            let code = try ctx.receiveBlocking(tags: m.tag == 0 ? [] : [m.tag], timeoutMs: 0)
            return code == 1 ? 0 : code
        }
        return try ctx.sendReceiveSkipSearchBlocking(to: to, timeoutMs: 0)
    }

    func receiveTags(_ r: Request) -> [Int64] {
        faults.has(.ignoreTags) ? [] : (r.body["tags"]?.array ?? []).compactMap(\.int)
    }

    /// A finite timeout as the faults make it.
    func faultyTimeout(_ ms: Int64) -> UInt64 {
        if ms < 0 { return .max }
        if ms > 0 && faults.has(.ignoreTimeout) { return .max }
        if ms > 0 && faults.has(.earlyTimeout) { return UInt64(ms / 10) }
        return UInt64(ms)
    }

    func receiveResult(_ code: Int32, _ ctx: ProcessContext, generation: Int) -> String {
        if code == ResultCode.timeout { return "{\"code\":\(ResultCode.timeout)}" }
        let c = code == 1 && faults.has(.linkDiedReturnsZero) ? 0 : code
        return "{\"code\":\(c),\"message\":\(describeScratch(ctx, generation: generation))}"
    }

    func skipSearchResult(_ code: Int32, _ ctx: ProcessContext, generation: Int) -> String {
        code == ResultCode.timeout
            ? "{\"code\":\(ResultCode.timeout)}"
            : "{\"code\":\(code),\"message\":\(describeScratch(ctx, generation: generation))}"
    }

    /// The non-blocking operations; returns the result's JSON text.
    func perform(_ r: Request, _ ctx: ProcessContext) throws -> String {
        switch r.op {
        case "create_data":
            ctx.createData(tag: try r.int("tag"), capacity: UInt64(max(0, try r.int("capacity"))))
            return "{\"message\":\"\(Self.messageToken(ctx.scratch, generation: generation))\"}"
        case "write_data":
            guard let hex = r.body["hex"]?.string, let bytes = Hex.decode(hex) else {
                throw AdapterRequestError("write_data needs a hex string")
            }
            return String(try ctx.writeData(bytes))
        case "read_data":
            // No more than the message holds: a huge recorded length must not be allocated.
            let available = ctx.scratch.map { Int64($0.buffer.count) } ?? 0
            let bytes = try ctx.readData(count: Int(min(max(0, try r.int("len")), available)))
            return "{\"count\":\(bytes.count),\"hex\":\"\(Hex.encode(bytes))\"}"
        case "seek_data":
            try ctx.seekData(UInt64(bitPattern: try r.int("index")))
            return "null"
        case "get_tag":
            return String(try ctx.getTag())
        case "data_size":
            return String(try ctx.dataSize())
        case "new_resource":
            guard let name = r.body["kind"]?.string, let kind = Self.kind(name) else {
                throw AdapterRequestError("unsupported resource kind \(r.body["kind"]?.serialized ?? "nil")")
            }
            let res = AdapterResource(kind: kind, token: tokens.make("r"))
            return "{\"id\":\(ctx.insert(res)),\"token\":\"\(res.token)\"}"
        case "send":
            return String(try send(ctx, to: try r.int("to")))
        case "link":
            // A missing pid: `link` returns; the notice is taken at the next waiting call (R-PROC-3).
            try ctx.link(tag: try r.int("tag"), to: ProcessID(truncatingIfNeeded: try r.int("to")))
            return "null"
        case "unlink":
            try ctx.unlink(ProcessID(truncatingIfNeeded: try r.int("to")))
            return "null"
        case "kill":
            let to = ProcessID(truncatingIfNeeded: try r.int("to"))
            // A kill returns even when it ends the caller, itself or through the links of the
            // death it decides (R-PROC-5): the process ends at its next call (as in lunatic,
            // where the kill signal is handled at the next yield point).
            if ctx.isTerminating { throw ProcessTerminated() }
            ctx.environment.kill(to, by: ctx.id)
            return "null"
        case "die_when_link_dies":
            try ctx.dieWhenLinkDies(try r.int("flag") != 0)
            return "null"
        default:
            for prefix in ["push_", "take_"] where r.op.hasPrefix(prefix) {
                guard let kind = Self.kind(String(r.op.dropFirst(prefix.count))) else { break }
                if prefix == "push_" {
                    var slot = try ctx.push(kind, id: UInt64(bitPattern: try r.int("resource")))
                    if faults.has(.pushOffByOne) { slot += 1 }
                    return String(slot)
                }
                return try take(ctx, kind, index: try r.int("index"))
            }
            throw AdapterRequestError("unknown op '\(r.op)'")
        }
    }

    func send(_ ctx: ProcessContext, to target: Int64) throws -> Int32 {
        let to = ProcessID(truncatingIfNeeded: target)
        if faults.has(.sendMissingTraps), ctx.scratch != nil, !env.exists(to) {
            throw LunaTrap(reason: "lunatic::message::send")
        }
        if let m = ctx.scratch {
            sendCount += 1
            if faults.has(.dropEveryNth), sendCount % faults.dropEvery == 0 {
                ctx.scratch = nil  // lost on the way
                return 0
            }
            if faults.has(.duplicateMessage), !m.isLinkDied, m.slots.isEmpty {
                let copy = Message(tag: m.tag, capacity: 0, id: m.id)
                copy.buffer = m.buffer
                let code = try ctx.send(to: to)
                ctx.deliver(copy, to: to, recordSend: false)
                return code
            }
        }
        return try ctx.send(to: to)
    }

    func take(_ ctx: ProcessContext, _ kind: ResourceKind, index: Int64) throws -> String {
        var i = UInt64(bitPattern: index)
        if let m = ctx.scratch, !m.isLinkDied, index >= 0, index < m.slots.count {
            if faults.has(.wrongKindTakeConsumes), let r = m.slots[Int(index)], r.resourceKind != kind {
                m.slots[Int(index)] = nil
            }
            if faults.has(.takeOtherSlot) {
                // The nearest other slot holding the same kind (else the next slot).
                let others = m.slots.indices.filter { $0 != Int(index) && m.slots[$0]?.resourceKind == kind }
                if let other = others.min(by: { abs($0 - Int(index)) < abs($1 - Int(index)) }) {
                    i = UInt64(other)
                } else {
                    i = index + 1 < m.slots.count ? UInt64(index + 1) : UInt64(max(0, index - 1))
                }
            }
        }
        let id = try ctx.take(kind, index: i)
        let token = (ctx.resource(kind, id: id) as? AdapterResource)?.token ?? "unknown"
        return "{\"id\":\(id),\"token\":\"\(token)\"}"
    }

    static func kind(_ name: String) -> ResourceKind? {
        switch name {
        case "module": return .module
        case "tcp_stream": return .tcpStream
        case "tls_stream": return .tlsStream
        case "udp_socket": return .udpSocket
        default: return nil
        }
    }

    /// A message's token: unique in the session (the environment generation and the runtime's
    /// message id).
    static func messageToken(_ m: Message?, generation: Int) -> String {
        guard let m else { return "none" }
        return "g\(generation)m\(m.id)"
    }

    /// The scratch message as a protocol message object, or `null`.
    func describeScratch(_ ctx: ProcessContext, generation: Int) -> String {
        guard let m = ctx.scratch else { return "null" }
        if m.isLinkDied {
            return
                "{\"message\":\"\(Self.messageToken(m, generation: generation))\",\"kind\":\"link_died\",\"tag\":\(m.tag),\"size\":0,\"hex\":\"\",\"slots\":[]}"
        }
        let slots = m.slots.map { r -> String in
            guard let r else { return "null" }
            let token = (r as? AdapterResource)?.token ?? "unknown"
            return "{\"kind\":\"\(Self.kindName(r.resourceKind))\",\"token\":\"\(token)\"}"
        }
        return
            "{\"message\":\"\(Self.messageToken(m, generation: generation))\",\"kind\":\"data\",\"tag\":\(m.tag),\"size\":\(m.buffer.count),"
            + "\"hex\":\"\(Hex.encode(m.buffer))\",\"slots\":[\(slots.joined(separator: ","))]}"
    }

    static func kindName(_ k: ResourceKind) -> String { k.description }
}
