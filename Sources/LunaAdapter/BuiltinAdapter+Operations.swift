import ConformanceKit
import Foundation
import LunaRuntime
import TraceFormat

/// The operations of the built-in adapter.
extension BuiltinAdapter {
    static let blockingOps: Set<String> = ["receive", "send_receive_skip_search"]

    /// Runs or queues a request of process `p` (reading thread).
    func submit(_ r: Request, to p: AdapterProcess) {
        // A body that has just finished a blocking call is about to go idle: let it, so that
        // this request runs now, in order with the requests of other processes, instead of
        // later on the body. A process waiting in a blocking call queues it (rule 2).
        p.waitUntilQuiescent()
        if p.queueIfBusy(r) { return }
        let ctx = p.ctx
        switch r.op {
        case "receive":
            // Look at the mailbox now; only the waiting goes to the body.
            do {
                let tags = faults.has(.ignoreTags) ? [] : (r.body["tags"]?.array ?? []).compactMap(\.int)
                let timeout = r.body["timeout_ms"]?.int ?? -1
                let code = try ctx.receiveBlocking(tags: tags, timeoutMs: 0)
                if code != ProcessContext.timeoutResult || timeout == 0 {
                    out.result(r.id, receiveResult(code, ctx))
                    return
                }
            } catch {
                handleInlineError(error, r, p)
                return
            }
            p.give(.blocking(r, nil))
        case "send_receive_skip_search":
            let started = DispatchSemaphore(value: 0)
            p.give(.blocking(r, started))
            started.wait()
        case "exit":
            p.give(.exit)
            p.waitUntilEnded(timeout: 10)
            out.result(r.id, "null")
        case "fail":
            p.give(.fail(r.body["reason"]?.string ?? "trap"))
            p.waitUntilEnded(timeout: 10)
            settleDeaths()
            settleWoken()
            out.result(r.id, "null")
        default:
            do {
                let result = try perform(r, ctx)
                out.result(r.id, result)
                if ["kill", "link"].contains(r.op) {
                    settleDeaths()
                    settleWoken()  // a LinkDied message may have woken a waiting process
                } else if r.op == "send", let to = r.body["to"]?.int, let target = procs[to], target.isBusy {
                    // A send may complete a waiting receive: let its body run what queued behind it.
                    settleWoken()
                }
            } catch {
                handleInlineError(error, r, p)
            }
        }
    }

    /// Waits until every busy process is quiescent again: idle, ended, or waiting in a blocking
    /// call. A request that woke one (a message it waited for, a LinkDied notice) has then had
    /// all its effects, including those of the requests its body ran afterwards, before the next
    /// request starts (protocol section 2.1, rule 1). Bounded: a body that keeps running is
    /// left after 10 s.
    func settleWoken() {
        let deadline = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
        var spins = 0
        while DispatchTime.now().uptimeNanoseconds < deadline {
            if procs.values.allSatisfy({ $0.isQuiescent }) { return }
            spins += 1
            if spins < 100 { sched_yield() } else { usleep(200) }
        }
        log("a process body did not settle within 10 s")
    }

    /// A trap or termination of an inline call: answer, then end the process with failure.
    func handleInlineError(_ error: any Error, _ r: Request, _ p: AdapterProcess) {
        if let t = error as? LunaTrap {
            out.line("{\"id\":\(r.id),\"trap\":\(JSONString.quoted(t.reason)),\"scratch\":\(describeScratch(p.ctx))}", flush: false)
            p.give(.fail(t.reason))
            p.waitUntilEnded(timeout: 10)
            settleDeaths()
            settleWoken()
        } else if let e = error as? AdapterRequestError {
            out.error(r.id, e.message)
        } else {
            // ProcessTerminated: it was marked to die; let it end.
            settleDeaths()
            out.line("{\"id\":\(r.id),\"ended\":\"\(p.endedStatus ?? "killed")\"}", flush: false)
        }
    }

    /// Runs a blocking call on the body and answers it; rethrows after answering when the
    /// process traps or is terminated.
    func runBlocking(_ r: Request, _ p: AdapterProcess, started: DispatchSemaphore?) async throws {
        let ctx = p.ctx
        do {
            let result: String
            if r.op == "receive" {
                let tags = faults.has(.ignoreTags) ? [] : (r.body["tags"]?.array ?? []).compactMap(\.int)
                let timeout = faultyTimeout(r.body["timeout_ms"]?.int ?? -1)
                started?.signal()
                result = receiveResult(try await ctx.receive(tags: tags, timeoutMs: timeout), ctx)
            } else {
                let to = ProcessID(truncatingIfNeeded: r.body["to"]?.int ?? 0)
                let timeout = faultyTimeout(r.body["timeout_ms"]?.int ?? -1)
                var code: Int32
                if faults.has(.skipSearchSearchesQueue), let m = ctx.scratch {
                    let tag = m.tag
                    started?.signal()
                    _ = try ctx.send(to: to)
                    code = try await ctx.receive(tags: tag == 0 ? [] : [tag], timeoutMs: timeout)
                    if code == 1 { code = 0 }
                } else {
                    started?.signal()
                    code = try await ctx.sendReceiveSkipSearch(to: to, timeoutMs: timeout)
                }
                result = code == ProcessContext.timeoutResult ? "{\"code\":9027}"
                    : "{\"code\":\(code),\"message\":\(describeScratch(ctx))}"
            }
            out.result(r.id, result, flush: true)
        } catch let t as LunaTrap {
            started?.signal()
            out.line("{\"id\":\(r.id),\"trap\":\(JSONString.quoted(t.reason)),\"scratch\":\(describeScratch(ctx))}", flush: true)
            throw t
        } catch {
            started?.signal()
            let status = ctx.isTerminating ? p.terminationStatus(ctx) : "failure"
            out.line("{\"id\":\(r.id),\"ended\":\"\(status)\"}", flush: true)
            throw error
        }
    }

    /// Runs a queued request on the body; false when it ended the process normally.
    func runOnBody(_ r: Request, _ p: AdapterProcess) async throws -> Bool {
        let ctx = p.ctx
        switch r.op {
        case "receive", "send_receive_skip_search":
            try await runBlocking(r, p, started: nil)
        case "exit":
            out.result(r.id, "null", flush: true)
            p.finish("normal")
            return false
        case "fail":
            out.result(r.id, "null", flush: true)
            p.finish("failure")
            throw LunaTrap(reason: r.body["reason"]?.string ?? "trap")
        default:
            do {
                out.result(r.id, try perform(r, ctx), flush: true)
                // A kill or link may have marked processes to die whose bodies are idle.
                if r.op == "kill" || r.op == "link" { reapDying() }
            } catch let t as LunaTrap {
                out.line("{\"id\":\(r.id),\"trap\":\(JSONString.quoted(t.reason)),\"scratch\":\(describeScratch(ctx))}", flush: true)
                throw t
            } catch let e as AdapterRequestError {
                out.error(r.id, e.message, flush: true)
            } catch {
                out.line("{\"id\":\(r.id),\"ended\":\"\(p.terminationStatus(ctx))\"}", flush: true)
                throw error
            }
        }
        if ctx.isTerminating { throw ProcessTerminated() }  // killed itself, or by a link death
        return true
    }

    /// A finite timeout as the faults make it.
    func faultyTimeout(_ ms: Int64) -> UInt64 {
        if ms < 0 { return .max }
        if ms > 0 && faults.has(.ignoreTimeout) { return .max }
        if ms > 0 && faults.has(.earlyTimeout) { return UInt64(ms / 10) }
        return UInt64(ms)
    }

    func receiveResult(_ code: Int32, _ ctx: ProcessContext) -> String {
        if code == ProcessContext.timeoutResult { return "{\"code\":9027}" }
        let c = code == 1 && faults.has(.linkDiedReturnsZero) ? 0 : code
        return "{\"code\":\(c),\"message\":\(describeScratch(ctx))}"
    }

    /// The non-blocking operations; returns the result's JSON text.
    func perform(_ r: Request, _ ctx: ProcessContext) throws -> String {
        switch r.op {
        case "create_data":
            ctx.createData(tag: try r.int("tag"), capacity: UInt64(max(0, try r.int("capacity"))))
            return "{\"message\":\"\(messageToken(ctx.scratch))\"}"
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
            do {
                try ctx.link(tag: try r.int("tag"), to: ProcessID(truncatingIfNeeded: try r.int("to")))
            } catch is ProcessTerminated {
                // A missing pid's notice killed the caller: `link` itself returns; the process
                // ends before its next call (R-PROC-3).
            }
            return "null"
        case "unlink":
            try ctx.unlink(ProcessID(truncatingIfNeeded: try r.int("to")))
            return "null"
        case "kill":
            let to = ProcessID(truncatingIfNeeded: try r.int("to"))
            if to == ctx.id {
                // Killing oneself returns; the process ends at its next call (as in lunatic,
                // where the kill signal is handled at the next yield point).
                ctx.environment.kill(to, by: ctx.id)
            } else {
                try ctx.kill(to)
            }
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

    func messageToken(_ m: Message?) -> String {
        guard let m else { return "none" }
        return "g\(generation)m\(m.id)"
    }

    /// The scratch message as a protocol message object, or `null`.
    func describeScratch(_ ctx: ProcessContext) -> String {
        guard let m = ctx.scratch else { return "null" }
        if m.isLinkDied {
            return "{\"message\":\"\(messageToken(m))\",\"kind\":\"link_died\",\"tag\":\(m.tag),\"size\":0,\"hex\":\"\",\"slots\":[]}"
        }
        let slots = m.slots.map { r -> String in
            guard let r else { return "null" }
            let token = (r as? AdapterResource)?.token ?? "unknown"
            return "{\"kind\":\"\(Self.kindName(r.resourceKind))\",\"token\":\"\(token)\"}"
        }
        return "{\"message\":\"\(messageToken(m))\",\"kind\":\"data\",\"tag\":\(m.tag),\"size\":\(m.buffer.count),"
            + "\"hex\":\"\(Hex.encode(m.buffer))\",\"slots\":[\(slots.joined(separator: ","))]}"
    }

    static func kindName(_ k: ResourceKind) -> String { k.description }

}
