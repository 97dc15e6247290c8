import LunaSupport
import TraceFormat

/// Comparing answers with the trace.
extension ReplayEngine {
    /// Records a divergence of `call`, marking whether an earlier one explains it.
    func diverge(
        _ call: PendingCall, _ category: DivergenceCategory, _ rule: String, expected: String, got: String,
        detail: String = "", explainedElsewhere: Bool = false
    ) {
        let pid = call.event.pid
        let consequence = procs[pid]?.firstDivergence != nil || explainedElsewhere
        divergences.append(
            Divergence(
                category: category, rule: rule, eventIndex: call.index, pid: pid,
                call: call.event.kind.name, expected: expected, got: got, detail: detail,
                isConsequence: consequence))
        if procs[pid]?.firstDivergence == nil { procs[pid]?.firstDivergence = call.index }
    }

    /// What the trace recorded for a call, for reports.
    static func recorded(_ e: TraceEvent) -> String {
        switch e.result {
        case .none: return "a return"
        case .value(let v): return "\(v)"
        case .trap(let r): return "trap (\(r))"
        }
    }

    /// The rule a trap mismatch breaks.
    func trapRule(_ call: PendingCall, recordedTrap: Bool) -> String {
        let e = call.event
        let scratchRule: String? = {
            switch call.scratchBefore {
            case .empty: return "R-MSG-9"
            case .linkDied: return e.kind == .getTag ? nil : "R-MSG-10"
            case .data: return nil
            }
        }()
        switch e.kind {
        case .writeData: return scratchRule ?? "R-MSG-5"
        case .readData: return scratchRule ?? (recordedTrap ? "R-MSG-7" : "R-MSG-6")
        case .seekData: return scratchRule ?? "R-MSG-7"
        case .getTag: return scratchRule ?? "R-MSG-10"
        case .dataSize: return scratchRule ?? "R-MSG-8"
        case .pushModule, .pushTcpStream, .pushTlsStream, .pushUdpSocket:
            // A second push of an id the process pushed before: a move kept it, or a copy lost it.
            if case .push(_, let pushedBefore) = call.context, pushedBefore { return scratchRule ?? "R-RES-3" }
            return scratchRule ?? "R-RES-4"
        case .takeModule, .takeTcpStream, .takeTlsStream, .takeUdpSocket:
            return scratchRule ?? (recordedTrap ? "R-RES-6" : "R-RES-5")
        case .send:
            if recordedTrap { return "R-SEND-3" }
            if case .send(let missing) = call.context, missing { return "R-SEND-2" }
            return "R-SEND-1"
        case .sendReceiveSkipSearch, .sendReceiveSkipSearchReturn: return "R-RECV-7"
        case .receive: return recordedTrap ? "R-RECV-9" : "R-RECV-2"
        case .createData: return "R-MSG-3"
        case .link: return "R-PROC-3"
        case .unlink: return "R-PROC-6"
        case .kill: return "R-PROC-2"
        case .dieWhenLinkDies: return "R-PROC-9"
        default: return "R-PROC-2"
        }
    }

    /// Handles a call that got no answer within its budget.
    func noAnswer(_ call: PendingCall) throws(AdapterFailure) {
        let before = divergences.count
        defer { unansweredPositions.append(contentsOf: before..<divergences.count) }
        guard call.blocking else {
            throw client.failure(
                .hung,
                "no answer to \(describe(call)) within \(call.budget) s"
            )
        }
        procs[call.event.pid]?.stuck = true
        client.ignore(call.requestID)
        if let reason = call.event.result.trapReason, call.event.kind != .sendReceiveSkipSearch {
            diverge(
                call, .trapMismatch, trapRule(call, recordedTrap: true), expected: "trap (\(reason))",
                got: "no return within \(String(format: "%.1f", call.budget)) s", detail: "did not trap where the trace did")
            return
        }
        guard case .receive(let expected, let tags, let timeout, let skipSearch) = call.context else { return }
        let waited = String(format: "%.1f", call.budget)
        if expected == 0 {
            diverge(
                call, .timeoutMismatch, "R-RECV-5", expected: "9027 after \(timeout) ms",
                got: "no return within \(waited) s", detail: "the timeout was not honoured")
        } else if timeout >= 0 {
            diverge(
                call, .timeoutMismatch, "R-RECV-5", expected: describeExpected(expected),
                got: "no return within \(waited) s", detail: "neither the message nor the \(timeout) ms timeout came",
                explainedElsewhere: senderDiverged(expected))
        } else if let model = messages[expected], model.isLinkDied, skipSearch {
            diverge(
                call, .lostMessage, "R-RECV-8", expected: describeExpected(expected),
                got: "nothing within \(waited) s (waits forever)",
                detail: "a skip-search call takes a LinkDied message that arrives as its reply",
                explainedElsewhere: senderDiverged(expected))
        } else if let model = messages[expected], model.isLinkDied, !tags.isEmpty {
            // A notice with another tag than the link's would not match this tag set: lost or
            // mis-tagged, the rule is the one that gives the notice its tag.
            diverge(
                call, .lostMessage,
                missingLinks.contains { $0.b == model.deadPid }
                    ? "R-PROC-3" : linkTagRule(receiver: call.event.pid, dead: model.deadPid),
                expected: describeExpected(expected), got: "nothing within \(waited) s (waits forever)",
                detail: "no link-death notice with tag \(model.tag) arrived (one with another tag would not match \(tags))",
                explainedElsewhere: senderDiverged(expected))
        } else {
            diverge(
                call, .lostMessage, lostRule(expected), expected: describeExpected(expected),
                got: "nothing within \(waited) s (waits forever)", detail: lostDetail(expected),
                explainedElsewhere: senderDiverged(expected))
        }
    }

    /// Compares one answer with the trace.
    func check(
        _ call: PendingCall, _ response: AdapterResponse, elapsedNs: UInt64, arrival: UInt64 = 0,
        started: UInt64 = 0
    ) throws(AdapterFailure) {
        let e = call.event
        let pid = e.pid
        if case .unjudged = call.context {
            if case .error = response {} else { return }
        }
        switch response {
        case .error(let text):
            throw client.failure(
                .rejectedRequest, "request \(call.requestID) (\(call.op) for event #\(call.index), pid \(pid)) rejected: \(text)")
        case .ended(let status):
            // The process has ended in the adapter. After its first divergence this is a
            // consequence; before, it ended too early.
            if procs[pid]?.firstDivergence != nil { return }
            if call.event.kind == .link, missingLinks.contains(PidPair(a: pid, b: UInt64(bitPattern: e.args.at(1) ?? 0))) {
                diverge(
                    call, .wrongExit, "R-PROC-3", expected: "link returns", got: "no return: the process had ended (\(status))",
                    detail:
                        "the \"no process\" notice of a link to a missing pid takes effect at the caller's next waiting call, not inside link"
                )
                return
            }
            if call.noticePending, status == "link_died" {
                procs[pid]?.stuck = true  // a notice handled early (allowed): its later calls never return
                return
            }
            let rule = status == "link_died" ? "R-PROC-5" : status == "killed" ? "R-PROC-2" : "R-PROC-2"
            if case .waitExit = call.context { return }
            if call.context.neverReturns { return }  // the trace's call never returned either
            diverge(
                call, .wrongExit, rule, expected: Self.recorded(e), got: "no return: the process had ended (\(status))",
                detail: "the process ended earlier than in the trace")
            return
        case .trap(let reason, let scratch):
            if e.result.trapReason == nil {
                diverge(
                    call, .trapMismatch, trapRule(call, recordedTrap: false), expected: Self.recorded(e),
                    got: "trap (\(reason))", detail: "trapped where the trace did not")
                return
            }
            if case .take(let index, let expected, let wrongKind, _, _) = call.context, wrongKind, let expected {
                checkWrongKindTake(call, index: index, expected: expected, scratch: scratch)
            }
            return
        case .result(let value):
            if case .newResource = call.context {  // a push's recorded trap is judged on the push, not here
                try checkResult(call, value, elapsedNs: elapsedNs, arrival: arrival, started: started)
                return
            }
            if let reason = e.result.trapReason, e.kind != .exit {
                diverge(
                    call, .trapMismatch, trapRule(call, recordedTrap: true), expected: "trap (\(reason))",
                    got: value.serialized, detail: "did not trap where the trace did")
                return
            }
            try checkResult(call, value, elapsedNs: elapsedNs, arrival: arrival, started: started)
        }
    }

    /// The wrong-kind take trapped as it should; the resource must still be in its slot (R-RES-6).
    func checkWrongKindTake(_ call: PendingCall, index: Int64, expected: Int, scratch: JSONValue) {
        guard let slots = scratch["slots"]?.array else { return }  // adapter gave no scratch: cannot judge
        let want = resources[expected].token
        let slot = index >= 0 && Int(index) < slots.count ? slots[Int(index)] : .null
        if slot.isNull || (want != nil && slot["token"]?.string != want) {
            diverge(
                call, .wrongResourceIndex, "R-RES-6", expected: "slot \(index) still holding its \(resources[expected].kind)",
                got: slot.isNull ? "slot \(index) empty" : "slot \(index) holding \(slot.serialized)",
                detail: "a take of the wrong kind consumed the resource")
        }
    }

    func checkResult(
        _ call: PendingCall, _ value: JSONValue, elapsedNs: UInt64, arrival: UInt64 = 0,
        started: UInt64 = 0
    ) throws(AdapterFailure) {
        let e = call.event
        let pid = e.pid
        let want = e.result.value
        switch call.context {
        case .spawn(let child):
            guard let apid = value["pid"]?.int else {
                throw client.failure(.rejectedRequest, "spawn answered \(value.serialized), expected {\"pid\": N}")
            }
            if procs[child] == nil { procs[child] = ProcState(adapterPid: apid) }
        case .newResource(let key, let identity, let expectedID):
            guard let id = value["id"]?.int else {
                throw client.failure(
                    .rejectedRequest, "new_resource answered \(value.serialized), expected {\"id\": N, \"token\": T}")
            }
            resources[identity].token = value["token"]?.string
            if resourceMap[key]?.pendingRequest == call.requestID {  // not moved away meanwhile
                resourceMap[key] = ResourceEntry(identity: identity, adapterID: id, pendingRequest: nil)
            }
            checkResourceID(
                call, kind: key.kind, got: id, expected: expectedID,
                what: "new_resource (a resource the process created outside the message API) got another id")
        case .createData(let m):
            if let token = value["message"]?.string, m != 0 {
                messages[m]?.adapterToken = token
                tokenToMessage[token] = m
            }
        case .push:
            if let got = value.int, let want, got != want {
                diverge(
                    call, .wrongResourceIndex, "R-RES-2", expected: "slot \(want)", got: "slot \(got)",
                    detail: "push must return the next slot index of the message")
            }
        case .take(let index, let expected, _, let key, let expectedID):
            let gotID = value["id"]?.int
            if let key, resourceMap[key]?.pendingRequest == call.requestID {  // not moved away meanwhile
                resourceMap[key] = ResourceEntry(identity: expected, adapterID: gotID, pendingRequest: nil)
            }
            if let expected, let want = resources[expected].token, let got = value["token"]?.string, got != want {
                diverge(
                    call, .wrongResourceIndex, "R-RES-5",
                    expected: "the \(resources[expected].kind) pushed into slot \(index) (token \(want))",
                    got: "resource token \(got)", detail: "take yielded another slot's resource")
            } else if let key {
                checkResourceID(
                    call, kind: key.kind, got: gotID, expected: expectedID,
                    what: "take must return the resource's new id in the caller's table")
            }
        case .readData(let expectedBytes):
            let count = value["count"]?.int
            if let want, count != want {
                diverge(
                    call, .wrongReturnCode, "R-MSG-6", expected: "\(want) bytes read",
                    got: "\(count.map(String.init) ?? value.serialized)")
            } else if let expectedBytes, let hex = value["hex"]?.string, Hex.decode(hex) != expectedBytes {
                diverge(
                    call, .wrongData, "R-MSG-6", expected: Hex.encode(expectedBytes.prefix(32)), got: String(hex.prefix(64)),
                    detail: "read_data returned other bytes")
            }
        case .receive:
            try checkReceive(call, value, elapsedNs: elapsedNs)
            checkLateTimeout(call, value, arrival: arrival, started: started)
        case .unfinishedSkipSearch:
            // A finite wait that timed out before the end that came during it in the trace: on a
            // busy machine that end can come late; confirmed by replaying, like a late timeout.
            if ResultCode.isTimeout(value["code"]?.int), (call.event.args.at(1) ?? -1) > 0 {
                timingDivergences.append(divergences.count)
            }
            diverge(
                call, .unexpectedMessage, "R-PROC-8", expected: "no return (the process ended while waiting)",
                got: value["message"].map(describeGot) ?? value.serialized,
                detail: "the call returned where the trace's never did")
        case .neverReturned:
            let timedOut = ResultCode.isTimeout(value["code"]?.int)
            if timedOut, (call.event.args.at(0) ?? -1) > 0 { timingDivergences.append(divergences.count) }  // as above
            diverge(
                call, timedOut ? .timeoutMismatch : .unexpectedMessage, "R-PROC-8",
                expected: "no return (the process ended while waiting)",
                got: value["message"].map(describeGot) ?? value.serialized,
                detail: "the call returned where the trace's never did")
        case .waitExit(let expected):
            let got = value["exit"]?.string ?? value.serialized
            if got != expected {
                var rule = expected == "link_died" || got == "link_died" ? "R-PROC-5" : "R-PROC-2"
                if expected == "link_died", missingLinks.contains(where: { $0.a == pid }) { rule = "R-PROC-3" }
                diverge(
                    call, .wrongExit, rule, expected: "process ends (\(expected))",
                    got: got == "running" ? "still running" : "ended (\(got))")
            }
        case .send:
            if let got = value.int, got != (want ?? 0) {
                let missing = { if case .send(let m) = call.context { return m } else { return false } }()
                diverge(
                    call, .wrongReturnCode, missing ? "R-SEND-2" : "R-SEND-1", expected: "\(want ?? 0)", got: "\(got)",
                    detail: missing ? "a send to a process that does not exist returns 0" : "")
            }
        case .unjudged:
            break
        case .plain:
            switch e.kind {
            case .writeData:
                if let want, value.int != want {
                    diverge(call, .wrongReturnCode, "R-MSG-5", expected: "\(want)", got: value.serialized)
                }
            case .getTag:
                if let want, value.int != want {
                    let rule = { if case .linkDied = call.scratchBefore { return "R-MSG-10" } else { return "R-MSG-2" } }()
                    diverge(call, .wrongData, rule, expected: "tag \(want)", got: value.serialized)
                }
            case .dataSize:
                if let want, value.int != want {
                    diverge(call, .wrongData, "R-MSG-8", expected: "size \(want)", got: value.serialized)
                }
            default:
                break
            }
        }
        _ = pid
    }
}

extension ReplayEngine {
    /// Checks the calls that never returned in the trace, once everything has been sent: by
    /// then the trace's ends of their processes have been replayed, so a correct adapter has
    /// answered `ended` (or, for a process the trace leaves running, nothing). An answer with a
    /// result is a divergence.
    func settleNeverReturned() throws(AdapterFailure) {
        let calls = neverReturned
        neverReturned = []
        for call in calls {
            let deadline = min(MonotonicClock.deadline(after: options.callTimeout), traceDeadline)
            if procs[call.event.pid]?.endedInTrace != true {
                // The trace leaves the process running: only an answer already given counts.
                if client.peek(call.requestID) == nil { client.ignore(call.requestID); continue }
            }
            guard let (response, _) = try client.response(for: call.requestID, deadline: deadline) else {
                client.ignore(call.requestID)
                continue
            }
            try check(call, response, elapsedNs: 0)
        }
    }
}
