import TraceFormat

/// Turning trace events into requests.
extension ReplayEngine {
    /// An adapter pid that exists nowhere: stands for a recorded pid the trace never spawned.
    static func missingPid(_ recorded: UInt64) -> Int64 { Int64(1 << 40) + Int64(truncatingIfNeeded: recorded & 0xFFFF_FFFF) }

    /// An id that no resource table holds (for pushes of ids that were never valid).
    static func invalidResourceID(_ recorded: Int64) -> Int64 { Int64(1 << 40) + (recorded & 0xFFFF_FFFF) }

    /// How many empty slots a recorded push may skip (a trace cut after earlier pushes);
    /// bounds the model's memory by the trace, not by a recorded number.
    static let slotGapLimit: Int64 = 4096

    /// The adapter pid standing for a recorded pid used as a target.
    func target(_ recorded: Int64) -> Int64 {
        procs[UInt64(bitPattern: recorded)]?.adapterPid ?? Self.missingPid(UInt64(bitPattern: recorded))
    }

    /// Deterministic bytes for writes whose payload the trace did not keep.
    static func filler(count: Int, message: MessageID, offset: Int) -> [UInt8] {
        (0..<max(0, count)).map { UInt8(truncatingIfNeeded: (Int(message) &* 31) &+ offset &+ $0) }
    }

    /// Sends what event `index` did (or checks its position for a call sent early).
    func issue(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        if e.kind == .spawn { return try issueSpawn(index, e) }
        if e.pid == 0 {  // host-side events: only its kills are replayed
            if e.kind == .kill, let pids = plan.hostKillGroups[index] { try issueHostKill(index, e, pids) }
            return
        }
        if Self.isTimerEvent(e) { return try issueTimer(index, e) }
        switch e.kind {
        case .createData, .writeData, .readData, .seekData, .getTag, .dataSize, .send, .sendReceiveSkipSearch,
            .sendReceiveSkipSearchReturn, .receive,
            .pushModule, .pushTcpStream, .pushTlsStream, .pushUdpSocket,
            .takeModule, .takeTcpStream, .takeTlsStream, .takeUdpSocket,
            .link, .unlink, .kill, .dieWhenLinkDies, .trap, .exit:
            break
        case .linkDied:
            if (e.args.at(2) ?? 0) != 0 {
                dyingInTrace.insert(e.pid)
                try probeAtDyingNotice(index, e)
            }
            if (e.args.at(2) ?? 0) == 0, e.message != 0 {
                let model = MessageModel(id: e.message, tag: e.args.at(1) ?? 0, isLinkDied: true)
                model.deadPid = UInt64(bitPattern: e.args.at(0) ?? 0)
                if let probe = noticeProbes[model.deadPid] {
                    // Its death happens when the adapter runs that probe.
                    model.sender = model.deadPid
                    model.deliveredBy = probe
                }
                messages[e.message] = model
                try issueReceiveAtNotice(index, e)
            }
            return
        default:
            return  // not part of the message API (networking I/O, sleep, WASI, drops, start)
        }
        if procs[e.pid] == nil { try spawnUnknown(e.pid, index: index, event: e) }
        guard var p = procs[e.pid], !p.stuck, !p.endedInTrace else { return }
        try holdBack(e, p)
        let pf = "\"process\":\(p.adapterPid)"
        let trapped = e.result.trapReason != nil
        if trapped { procs[e.pid]!.trappedInCall = true }
        switch e.kind {
        case .createData:
            let tag = e.args.at(0) ?? 0
            let model = MessageModel(id: e.message, tag: tag, isLinkDied: false)
            model.sender = e.pid
            if e.message != 0 { messages[e.message] = model }
            try send(
                "create_data", pf + ",\"tag\":\(tag),\"capacity\":\(e.args.at(1) ?? 0)", index: index, event: e,
                context: .createData(e.message))
            p.scratch = .data(e.message)
            procs[e.pid]!.scratch = p.scratch
        case .writeData:
            if trapped, case .data = p.scratch {
                // Only a guest buffer outside guest memory makes a write to a data message trap.
                return try issueGuestFault(index, e, p, op: "write_data", fields: pf + ",\"hex\":\"\"")
            }
            let bytes: [UInt8]
            let message = p.scratch.message ?? 0
            let model = messages[message]
            let recordedLength: Int64 = {
                switch e.payload {
                case .bytes(let b): return Int64(b.count)
                case .digest(let size, _): return Int64(clamping: size)
                case .none: return e.result.value ?? e.args.at(0) ?? 0
                }
            }()
            if trapped {
                // It traps on its scratch area (empty or a LinkDied message): the bytes do not matter.
                try send(
                    "write_data",
                    pf
                        + ",\"hex\":\"\(Hex.encode(Self.filler(count: Int(min(max(0, recordedLength), 16)), message: message, offset: 0)))\"",
                    index: index, event: e)
                return
            }
            if case .bytes = e.payload {
            } else {
                guard spendContent(recordedLength, at: index) else { return }  // bytes the replay makes up
            }
            switch e.payload {
            case .bytes(let b): bytes = b
            case .digest(let size, _):
                bytes = Self.filler(count: Int(size), message: message, offset: model?.content.count ?? 0)
            case .none:
                bytes = Self.filler(
                    count: Int(max(0, recordedLength)), message: message,
                    offset: model?.content.count ?? 0)
            }
            if !trapped, case .data = p.scratch { model?.content.append(contentsOf: bytes) }
            try send("write_data", pf + ",\"hex\":\"\(Hex.encode(bytes))\"", index: index, event: e)
        case .readData:
            if (e.args.at(0) ?? 0) > Int64(ReplayEngine.contentLimit), trapped, case .data = p.scratch {
                return try issueGuestFault(index, e, p, op: "read_data", fields: pf + ",\"len\":0")
            }
            var expected: [UInt8]? = nil
            if case .bytes(let b) = e.payload { expected = b }
            // Its answer carries up to `len` bytes as hex.
            let answerBytes = min(max(0, e.result.value ?? e.args.at(0) ?? 0), Int64(ReplayEngine.contentLimit)) * 2
            try send(
                "read_data", pf + ",\"len\":\(e.args.at(0) ?? 0)", index: index, event: e,
                context: .readData(expected: expected),
                budget: options.callTimeout + Self.sizeAllowance(bytes: Int(answerBytes)))
        case .seekData:
            try send("seek_data", pf + ",\"index\":\(e.args.at(0) ?? 0)", index: index, event: e)
        case .getTag:
            try send("get_tag", pf, index: index, event: e)
        case .dataSize:
            try send("data_size", pf, index: index, event: e)
        case .pushModule, .pushTcpStream, .pushTlsStream, .pushUdpSocket:
            try issuePush(index, e, p)
        case .takeModule, .takeTcpStream, .takeTlsStream, .takeUdpSocket:
            try issueTake(index, e, p)
        case .send:
            let to = e.args.at(0) ?? 0
            let missing = procs[UInt64(bitPattern: to)].map { $0.endedInTrace } ?? true
            // A receiver that ended by itself must have ended in the adapter too, or the message
            // would reach it (its end may still be queued behind one of its calls).
            try awaitEnd(of: UInt64(bitPattern: to))
            let busy = unansweredBlockingCall(of: e.pid)
            let id = try send(
                "send", pf + ",\"to\":\(target(to))", index: index, event: e, context: .send(targetMissing: missing))
            // Queued behind a waiting call of the sender, the message arrives once the send answers.
            noteSent(p.scratch, by: e.pid, at: index, trapped: trapped, deliveredBy: busy == nil ? nil : id)
            if busy != nil, !trapped { queuedDeliveries[UInt64(bitPattern: to), default: []].append((e.pid, id)) }
        case .sendReceiveSkipSearch where !trapped:
            try issueSkipSearchSend(index, e, p)
        case .sendReceiveSkipSearch:
            try issueTrappedSkipSearch(index, e)
        case .sendReceiveSkipSearchReturn:
            try atSkipSearchReturn(index, e)
        case .receive:
            try issueReceive(index, e, p)
        case .link:
            let other = UInt64(bitPattern: e.args.at(1) ?? 0)
            callLinks.insert(PidPair(a: e.pid, b: other))
            callLinks.insert(PidPair(a: other, b: e.pid))
            // A process whose death has been decided is gone for the others (R-PROC-3).
            if procs[other].map({ $0.endedInTrace }) ?? true || dyingInTrace.contains(other) { noteMissingLink(e.pid, other) }
            try awaitEnd(of: other)
            try send("link", pf + ",\"tag\":\(e.args.at(0) ?? 0),\"to\":\(target(e.args.at(1) ?? 0))", index: index, event: e)
        case .unlink:
            try send("unlink", pf + ",\"to\":\(target(e.args.at(0) ?? 0))", index: index, event: e)
        case .kill:
            try awaitEnd(of: UInt64(bitPattern: e.args.at(0) ?? 0))
            try send("kill", pf + ",\"to\":\(target(e.args.at(0) ?? 0))", index: index, event: e)
            dyingInTrace.insert(UInt64(bitPattern: e.args.at(0) ?? 0))
        case .dieWhenLinkDies:
            try send("die_when_link_dies", pf + ",\"flag\":\((e.args.at(0) ?? 1) != 0 ? 1 : 0)", index: index, event: e)
        case .trap:
            var reason = ""
            JSONValue.writeString(e.text, to: &reason)
            procs[e.pid]!.failRequested = true
            try send("fail", pf + ",\"reason\":" + reason, index: index, event: e)
        case .exit:
            try issueExit(index, e, p)
        default:
            break
        }
    }

    /// A call sent early, at its recorded position: nothing to do (a wait that timed out holds
    /// back what could end it, see `holdBack`).
    func atRecordedPosition(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {}

    /// Notes that the scratch message of `pid` was sent at event `index`; `deliveredBy` is the
    /// request whose answer shows it has arrived, when the adapter may not have delivered it
    /// yet (the send is queued behind a waiting call of the sender).
    func noteSent(_ scratch: Scratch, by pid: UInt64, at index: Int, trapped: Bool, deliveredBy: Int64? = nil) {
        guard !trapped else { return }
        if let m = scratch.message, let model = messages[m] {
            model.sender = pid
            model.sendIndex = index
            model.sentSlots = model.slots
            model.deliveredBy = deliveredBy ?? 0
        }
        procs[pid]?.scratch = .empty
    }

    func issueSpawn(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        guard let child = e.args.at(0), child > 0, (e.result.value ?? 0) == 0 else { return }
        let parent = e.pid == 0 ? 0 : (procs[e.pid]?.adapterPid ?? 0)
        if (e.args.at(1) ?? 0) != 0, e.pid != 0 { spawnLinks.insert(PidPair(a: e.pid, b: UInt64(child))) }
        let id = try send(
            "spawn", "\"parent\":\(parent),\"link\":\(e.args.at(1) ?? 0)", index: index, event: e,
            context: .spawn(child: UInt64(child)))
        // The child's pid is needed now; its answer is still checked in order.
        if case .result(let v)? = try awaitAnswer(id, pid: e.pid), let apid = v["pid"]?.int {
            if procs[UInt64(child)] == nil { procs[UInt64(child)] = ProcState(adapterPid: apid) }
        } else {
            try settle(through: id)
        }
    }

    /// A process that appears without a spawn event (a trace cut from a longer run).
    func spawnUnknown(_ pid: UInt64, index: Int, event: TraceEvent) throws(AdapterFailure) {
        let e = TraceEvent(kind: .spawn, pid: 0, args: [Int64(truncatingIfNeeded: pid), 0, 0, 0], result: .value(0))
        try issueSpawn(index, e)
    }

    func issuePush(_ index: Int, _ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        let kind = e.kind.resourceKindName!
        let recorded = e.args.at(0) ?? 0
        let key = ResourceKey(pid: e.pid, kind: kind, id: recorded)
        let trapped = e.result.trapReason != nil
        var adapterID: Int64
        var identity: Int? = nil
        if let entry = resourceMap[key] {
            identity = entry.identity
            adapterID = try adapterResourceID(key) ?? Self.invalidResourceID(recorded)
        } else if trapped && p.scratch != .empty {
            adapterID = Self.invalidResourceID(recorded)  // the id was never valid (R-RES-4)
        } else {
            // Created outside the message API (compile_module, tcp_connect, …): create it in the
            // adapter, after the ids before it, so that it gets the recorded id there.
            _ = try createForPush(key, index: index, event: e, adapterPid: p.adapterPid)
            guard let entry = resourceMap[key], let aid = try adapterResourceID(key) else { return }
            adapterID = aid
            identity = entry.identity
        }
        let pushedBefore = pushedKeys.contains(key)
        if !trapped { pushedKeys.insert(key) }
        try send(
            e.kind.name, "\"process\":\(p.adapterPid),\"resource\":\(adapterID)", index: index, event: e,
            context: .push(identity: identity, pushedBefore: pushedBefore))
        if kind != "module" || trapped {
            if kind != "module" { resourceMap.removeValue(forKey: key) }  // moved (R-RES-3) or lost (R-RES-4)
        }
        if !trapped, case .data(let m) = p.scratch, let model = messages[m] {
            // The recorded slot; one no runtime could answer (negative, or far past the next free
            // slot) is reported by the answer check, and the model appends instead.
            let recorded = e.result.value ?? Int64(model.slots.count)
            let slot =
                recorded >= 0 && recorded <= Int64(model.slots.count) + Self.slotGapLimit
                ? Int(recorded) : model.slots.count
            while model.slots.count < slot { model.slots.append(nil) }
            if slot == model.slots.count { model.slots.append(identity) } else { model.slots[slot] = identity }
        }
    }

    func issueTake(_ index: Int, _ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        let kind = e.kind.resourceKindName!
        let slot = e.args.at(0) ?? 0
        var expected: Int? = nil
        var wrongKind = false
        var model: MessageModel? = nil
        if case .data(let m) = p.scratch, let mm = messages[m] {
            model = mm
            if slot >= 0, slot < mm.slots.count, let ident = mm.slots[Int(slot)] {
                expected = ident
                wrongKind = resources[ident].kind != kind
            }
        }
        var key: ResourceKey? = nil
        var expectedID: Int64? = nil
        if let newID = e.result.value, e.result.trapReason == nil {
            key = ResourceKey(pid: e.pid, kind: kind, id: newID)
            expectedID = try prepareTake(
                TableKey(pid: e.pid, kind: kind), newID: newID, index: index, event: e,
                adapterPid: p.adapterPid)
        }
        let id = try send(
            e.kind.name, "\"process\":\(p.adapterPid),\"index\":\(slot)", index: index, event: e,
            context: .take(index: slot, expected: expected, wrongKind: wrongKind, key: key, expectedID: expectedID))
        if let key {
            resourceMap[key] = ResourceEntry(identity: expected, adapterID: nil, pendingRequest: id)
            if let model, slot >= 0, slot < model.slots.count { model.slots[Int(slot)] = nil }
        }
    }

    /// The send half of a skip-search call (format 1.1): sends the whole call now, as a
    /// blocking request judged against its return event (or, with none, expecting no return).
    func issueSkipSearchSend(_ index: Int, _ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        defer { noticePending.remove(e.pid) }
        try awaitEnd(of: UInt64(bitPattern: e.args.at(0) ?? 0))  // as for a send (issue, .send)
        // Queued behind a waiting call of the caller, the request is sent once that call answers.
        let busy = unansweredBlockingCall(of: e.pid)
        let timeout = Self.timeoutMs(e.args.at(1) ?? -1)
        let fields = "\"process\":\(p.adapterPid),\"to\":\(target(e.args.at(0) ?? 0)),\"timeout_ms\":\(timeout)"
        if let r = plan.skipSearchReturns[index] {
            let code = r.event.result.value ?? Int64(ResultCode.timeout)
            let tag = p.scratch.message.flatMap { messages[$0]?.tag } ?? 0
            defer {
                if ResultCode.isTimeout(code), let id = openSkipSearch[r.index] {
                    openWait(
                        e.pid, request: id, tags: tag == 0 ? nil : [tag], budget: budget(timeoutMs: timeout),
                        returnIndex: r.index)
                }
            }
            openSkipSearch[r.index] = try send(
                "send_receive_skip_search", fields, index: r.index, event: r.event,
                context: .receive(
                    expected: ResultCode.isTimeout(code) ? 0 : r.event.skipSearchReply, tags: [],
                    timeoutMs: timeout, skipSearch: true),
                blocking: true, budget: budget(timeoutMs: timeout))
        } else {
            try send(
                "send_receive_skip_search", fields, index: index, event: e, context: .unfinishedSkipSearch,
                blocking: true, budget: budget(timeoutMs: timeout))
        }
        noteSent(p.scratch, by: e.pid, at: index, trapped: false, deliveredBy: busy)
        if let busy {
            queuedDeliveries[UInt64(bitPattern: e.args.at(0) ?? 0), default: []].append((e.pid, busy))
            queuedSkipSearch[e.pid] = busy
        }
    }

    /// The return of a skip-search call sent at its send half: a timeout waits for the answer
    /// (nothing later may reach the process before it timed out); a reply fills the scratch area.
    func atSkipSearchReturn(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        guard openSkipSearch.removeValue(forKey: index) != nil else { return }
        if !ResultCode.isTimeout(e.result.value), e.skipSearchReply != 0 {
            let reply = e.skipSearchReply
            procs[e.pid]?.scratch = (messages[reply]?.isLinkDied ?? false) ? .linkDied(reply) : .data(reply)
        }
    }

    /// A skip-search call that trapped (its scratch area was empty): one event, no return.
    func issueTrappedSkipSearch(_ index: Int, _ e: TraceEvent) throws(AdapterFailure) {
        guard let p = procs[e.pid], !p.stuck, !p.endedInTrace else { return }
        defer { noticePending.remove(e.pid) }
        let timeout = Self.timeoutMs(e.args.at(1) ?? -1)
        try send(
            "send_receive_skip_search",
            "\"process\":\(p.adapterPid),\"to\":\(target(e.args.at(0) ?? 0)),\"timeout_ms\":\(timeout)",
            index: index, event: e,
            context: .receive(expected: 0, tags: [], timeoutMs: timeout, skipSearch: true),
            blocking: true, budget: budget(timeoutMs: timeout))
        noteSent(p.scratch, by: e.pid, at: index, trapped: true)
    }

    /// Kills by the host recorded together: one `kill` request of process 0 with every pid.
    func issueHostKill(_ index: Int, _ e: TraceEvent, _ pids: [Int64]) throws(AdapterFailure) {
        try beforeEnding(pids.map { UInt64(bitPattern: $0) }, caller: 0)
        for pid in pids { dyingInTrace.insert(UInt64(bitPattern: pid)) }
        let targets = pids.map { String(target($0)) }.joined(separator: ",")
        try send("kill", "\"process\":0,\"to\":[\(targets)]", index: index, event: e)
    }

    /// A receive the trace never saw return: sent, and expected to stay blocked until its
    /// process ends (R-PROC-8).
    func issueNeverReturnedReceive(_ index: Int, _ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        let timeout = Self.timeoutMs(e.args.at(0) ?? -1)
        let tags = "[" + e.tags.map(String.init).joined(separator: ",") + "]"
        try send(
            "receive", "\"process\":\(p.adapterPid),\"tags\":\(tags),\"timeout_ms\":\(timeout)",
            index: index, event: e, context: .neverReturned, blocking: true, budget: budget(timeoutMs: timeout))
    }

    func issueReceive(_ index: Int, _ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        defer { noticePending.remove(e.pid) }
        if case .none = e.result { return try issueNeverReturnedReceive(index, e, p) }
        let timeout = Self.timeoutMs(e.args.at(0) ?? -1)
        if e.result.trapReason != nil {
            // receive traps only when its tag array lies outside guest memory (R-RECV-9).
            let tags = "[" + e.tags.map(String.init).joined(separator: ",") + "]"
            return try issueGuestFault(
                index, e, p, op: "receive",
                fields: "\"process\":\(p.adapterPid),\"tags\":\(tags),\"timeout_ms\":\(timeout)")
        }
        let code = e.result.value ?? Int64(ResultCode.timeout)
        let tags = "[" + e.tags.map(String.init).joined(separator: ",") + "]"
        let expected = ResultCode.isTimeout(code) ? 0 : e.message
        if expected != 0 { try awaitDelivery(of: expected) }
        let id = try send(
            "receive", "\"process\":\(p.adapterPid),\"tags\":\(tags),\"timeout_ms\":\(timeout)",
            index: index, event: e,
            context: .receive(expected: expected, tags: e.tags, timeoutMs: timeout, skipSearch: false),
            blocking: true, budget: budget(timeoutMs: timeout))
        if ResultCode.isTimeout(code) {
            // Nothing that could end it may reach this process before it timed out.
            openWait(e.pid, request: id, tags: e.tags, budget: budget(timeoutMs: timeout), returnIndex: index)
        } else if expected != 0 {
            procs[e.pid]?.scratch = code == 1 ? .linkDied(expected) : .data(expected)
        }
    }

    func issueExit(_ index: Int, _ e: TraceEvent, _ p: ProcState) throws(AdapterFailure) {
        let status = e.args.at(0) ?? 0
        procs[e.pid]!.endedInTrace = true
        let pf = "\"process\":\(p.adapterPid)"
        switch status {
        case ExitCode.normal.rawValue:
            endRequest[e.pid] = try send("exit", pf, index: index, event: e)
        case ExitCode.failure.rawValue where p.trappedInCall || p.failRequested:
            // The trap itself ended it: its request is the process's latest one still unchecked
            // (none: already answered, so nothing to wait for).
            endRequest[e.pid] = pending[head...].last { $0.event.pid == e.pid }?.requestID
        case ExitCode.failure.rawValue:
            // Failed by itself without a recorded trap (a native body threw): make it fail.
            var reason = ""
            JSONValue.writeString(e.text, to: &reason)
            endRequest[e.pid] = try send("fail", pf + ",\"reason\":" + reason, index: index, event: e)
        default:
            let expected: String
            switch status {
            case ExitCode.failure.rawValue: expected = "failure"
            case ExitCode.killed.rawValue: expected = "killed"
            default: expected = "link_died"
            }
            if expected == "link_died", noticePending.contains(e.pid) { try probeWaitingCall(index, e, p) }
            let ms = Int(min(options.callTimeout * 1000, 1e12))
            try send(
                "wait_exit", pf + ",\"timeout_ms\":\(ms)", index: index, event: e,
                context: .waitExit(expected: expected), budget: options.callTimeout + 2)
        }
    }

    /// Recorded timeouts as protocol values: `u64::MAX` (and anything past i64) is -1 = forever.
    static func timeoutMs(_ recorded: Int64) -> Int64 { recorded < 0 ? -1 : recorded }

    func budget(timeoutMs: Int64) -> Double {
        timeoutMs < 0 ? options.callTimeout : Double(timeoutMs) / 1000 + options.callTimeout
    }
}
