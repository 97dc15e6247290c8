import TraceFormat

/// Judging what a receive or send_receive_skip_search returned.
extension ReplayEngine {
    /// "#12 (tag 7, 3 bytes, from pid 2)".
    func describeExpected(_ m: MessageID) -> String {
        guard let model = messages[m] else { return "message #\(m)" }
        if model.isLinkDied { return "LinkDied message #\(m) (tag \(model.tag))" }
        var s = "message #\(m) (tag \(model.tag), \(model.content.count) bytes"
        if model.sender != 0 { s += ", from pid \(model.sender)" }
        if model.sendIndex >= 0 { s += " at event #\(model.sendIndex)" }
        return s + ")"
    }

    /// Renders an adapter message object, naming the trace message it is when known.
    func describeGot(_ v: JSONValue) -> String {
        if let token = v["message"]?.string, tokenToMessage[token] == nil { learnLaterTokens() }
        let kind = v["kind"]?.string ?? "?"
        let tag = v["tag"]?.int.map(String.init) ?? "?"
        if kind == "link_died" { return "a LinkDied message (tag \(tag))" }
        let size = v["size"]?.int.map(String.init) ?? "?"
        if let token = v["message"]?.string, let m = tokenToMessage[token] {
            return "message #\(m) (tag \(tag), \(size) bytes)"
        }
        return "an unknown message (tag \(tag), \(size) bytes, token \(v["message"]?.string ?? "none"))"
    }

    func lostRule(_ m: MessageID) -> String {
        guard let model = messages[m], model.isLinkDied else { return "R-SEND-1" }
        return missingLinks.contains { $0.b == model.deadPid } ? "R-PROC-3" : "R-PROC-5"
    }

    func lostDetail(_ m: MessageID) -> String {
        guard let model = messages[m] else { return "" }
        if model.isLinkDied { return "the link-death notice never arrived" }
        return model.sendIndex >= 0
            ? "it was sent at event #\(model.sendIndex) and never arrived" : "it was never sent in the replay"
    }

    /// Whether the sender of `m` diverged before sending it (so its loss is a consequence).
    func senderDiverged(_ m: MessageID) -> Bool {
        guard let model = messages[m] else { return false }
        if model.sendIndex < 0 && !model.isLinkDied { return true }
        if let first = procs[model.sender]?.firstDivergence, first <= max(model.sendIndex, 0) { return true }
        if let first = procs[model.sender]?.firstDivergence, model.isLinkDied { return first >= 0 }
        return false
    }

    /// The trace message an adapter message object is, if known.
    func identify(_ v: JSONValue, expected: MessageID) -> MessageID? {
        if let token = v["message"]?.string {
            if let m = tokenToMessage[token] { return m }
            learnLaterTokens()
            if let m = tokenToMessage[token] { return m }
        }
        // LinkDied messages get fresh tokens: the one expected here is it whatever its tag (a
        // wrong tag is then judged as such).
        if v["kind"]?.string == "link_died", let model = messages[expected], model.isLinkDied {
            return expected
        }
        return nil
    }

    /// Learns message tokens from `create_data` answers that have arrived but are checked after
    /// the current call (a skip-search call, sent at its send half, receives a reply created later).
    func learnLaterTokens() {
        for call in pending[head...] {
            guard case .createData(let m) = call.context, m != 0, messages[m]?.adapterToken == nil,
                case .result(let v)? = client.peek(call.requestID), let token = v["message"]?.string
            else { continue }
            messages[m]?.adapterToken = token
            tokenToMessage[token] = m
        }
    }

    func checkReceive(_ call: PendingCall, _ value: JSONValue, elapsedNs: UInt64) throws(AdapterFailure) {
        guard case .receive(let expected, let tags, let timeout, let skipSearch) = call.context else { return }
        let e = call.event
        let pid = e.pid
        let code = value["code"]?.int
        let msg = value["message"]
        let elapsedMs = Double(elapsedNs) / 1e6
        let waited = String(format: "%.1f ms", elapsedMs)
        let timeoutRule = skipSearch ? "R-RECV-8" : "R-RECV-5"
        let newToken = msg?["kind"]?.string == "data" ? msg?["message"]?.string : nil
        defer { if let newToken, deliveredTokens[newToken] == nil { deliveredTokens[newToken] = call.index } }
        if expected == 0 {
            // The trace timed out.
            guard let msg, !ResultCode.isTimeout(code) else {
                if !ResultCode.isTimeout(code) {
                    diverge(call, .wrongReturnCode, timeoutRule, expected: "9027", got: value.serialized)
                } else if timeout > 0 && elapsedMs < Double(timeout) / 2 {
                    diverge(
                        call, .timeoutMismatch, "R-RECV-5", expected: "9027 after \(timeout) ms",
                        got: "9027 after \(waited)", detail: "returned well before the timeout")
                }
                return
            }
            let got = describeGot(msg)
            if let token = msg["message"]?.string, let first = deliveredTokens[token] {
                diverge(
                    call, .unexpectedMessage, "R-SEND-1", expected: "9027 after \(timeout) ms",
                    got: got, detail: "a duplicate: that message was already received at event #\(first)")
            } else if !skipSearch, !Self.matches(msg, tags) {
                diverge(
                    call, .unexpectedMessage, Self.tagRule(msg, tags), expected: "9027 after \(timeout) ms", got: got,
                    detail: "it does not match the tag set \(tags)")
            } else if skipSearch, let m = identify(msg, expected: 0), let model = messages[m],
                sentBeforeCall(model, call)
            {
                diverge(
                    call, .wrongOrder, "R-RECV-7", expected: "9027 after \(timeout) ms", got: got,
                    detail: "it was already queued when the call began; skip-search must not look at the queue")
            } else {
                diverge(
                    call, .unexpectedMessage, "R-RECV-4", expected: "9027 after \(timeout) ms", got: got,
                    detail: "delivered where the trace timed out")
            }
            return
        }
        // The trace delivered `expected`.
        guard let msg, !ResultCode.isTimeout(code) else {
            if ResultCode.isTimeout(code) {
                if timeout > 0 && elapsedMs < Double(timeout) / 2 {
                    diverge(
                        call, .timeoutMismatch, "R-RECV-5", expected: describeExpected(expected),
                        got: "9027 after \(waited)", detail: "timed out well before the \(timeout) ms timeout")
                } else {
                    let rule = skipSearch && messages[expected]?.isLinkDied == true ? "R-RECV-8" : lostRule(expected)
                    if timeout > 0 { timingDivergences.append(divergences.count) }
                    diverge(
                        call, .lostMessage, rule, expected: describeExpected(expected),
                        got: "9027 after \(waited)", detail: lostDetail(expected),
                        explainedElsewhere: senderDiverged(expected))
                }
            } else {
                diverge(
                    call, .wrongReturnCode, skipSearch ? "R-RECV-8" : "R-RECV-6",
                    expected: "\(e.result.value ?? 0) with \(describeExpected(expected))", got: value.serialized)
            }
            return
        }
        let gotID = identify(msg, expected: expected)
        if gotID == expected {
            checkSameMessage(call, msg, code: code, expected: expected, skipSearch: skipSearch)
            return
        }
        let got = describeGot(msg)
        let want = describeExpected(expected)
        if let token = msg["message"]?.string, let first = deliveredTokens[token] {
            diverge(
                call, .unexpectedMessage, "R-SEND-1", expected: want, got: got,
                detail: "a duplicate: that message was already received at event #\(first)")
            return
        }
        if !skipSearch, !Self.matches(msg, tags) {
            diverge(
                call, .unexpectedMessage, Self.tagRule(msg, tags), expected: want, got: got,
                detail: "it does not match the tag set \(tags)")
            return
        }
        if let gotID, let gotModel = messages[gotID] {
            if skipSearch, gotModel.sendIndex >= 0, sentBeforeCall(gotModel, call) {
                diverge(
                    call, .wrongOrder, "R-RECV-7", expected: want, got: got,
                    detail: "it was already queued when the call began; skip-search must not look at the queue")
                return
            }
            if let exp = messages[expected], exp.sender == gotModel.sender, exp.sendIndex >= 0,
                gotModel.sendIndex > exp.sendIndex, !exp.isLinkDied
            {
                // A reorder if #expected arrives later, a loss if it never does: decided at the end.
                overtaken.append((divergences.count, expected))
                diverge(
                    call, .wrongOrder, "R-SEND-4", expected: want, got: got,
                    detail:
                        "a later message from the same sender (sent at event #\(gotModel.sendIndex)) came first: messages from one sender arrive in the order they were sent",
                    explainedElsewhere: senderDiverged(expected))
                return
            }
            if let earlier = plan.receivedAt[gotID], earlier.pid == pid, earlier.index < call.index {
                let sameSender = messages[expected].map { $0.sender == gotModel.sender && !$0.isLinkDied } ?? false
                diverge(
                    call, .wrongOrder, sameSender ? "R-SEND-4" : "R-RECV-2", expected: want, got: got,
                    detail: "the trace received it earlier, at event #\(earlier.index): it arrives late here")
                return
            }
            if let later = plan.receivedAt[gotID], later.pid == pid, later.index > call.index {
                diverge(
                    call, .wrongOrder, "R-RECV-2", expected: want, got: got,
                    detail:
                        "the trace receives it later, at event #\(later.index): the first matching message in queue order comes first"
                )
                return
            }
        }
        diverge(
            call, .unexpectedMessage, "R-RECV-2", expected: want, got: got,
            detail: "the trace never delivers this message here", explainedElsewhere: senderDiverged(expected))
    }

    /// Whether a message had reached the mailbox before the skip-search call was sent: events
    /// are replayed in index order, so messages sent by events before the call's issue position
    /// were already queued.
    func sentBeforeCall(_ model: MessageModel, _ call: PendingCall) -> Bool {
        model.sendIndex >= 0 && model.sendIndex < call.issuedAt
    }

    /// The right message arrived: compare code, tag, size, content and slots.
    func checkSameMessage(_ call: PendingCall, _ msg: JSONValue, code: Int64?, expected: MessageID, skipSearch: Bool) {
        let e = call.event
        let want = e.result.value ?? 0
        guard let model = messages[expected] else { return }
        if let code, code != want {
            diverge(
                call, .wrongReturnCode, skipSearch ? "R-RECV-8" : "R-RECV-6", expected: "\(want)", got: "\(code)",
                detail: model.isLinkDied && !skipSearch ? "receive returns 1 for a LinkDied message" : "")
            return
        }
        let isLinkDied = msg["kind"]?.string == "link_died"
        if isLinkDied != model.isLinkDied {
            diverge(call, .wrongData, "R-MSG-1", expected: describeExpected(expected), got: describeGot(msg))
            return
        }
        if let tag = msg["tag"]?.int, tag != model.tag {
            if model.isLinkDied {
                diverge(
                    call, .wrongData, linkTagRule(receiver: e.pid, dead: model.deadPid),
                    expected: "a LinkDied message with tag \(model.tag) (the link to pid \(model.deadPid))", got: "tag \(tag)",
                    detail:
                        "a link-death notice carries the tag the ended process's record of the link holds "
                        + "(for a link made by spawn: the spawn's link tag when the child ended, 0 when the parent ended)")
            } else {
                diverge(call, .wrongData, "R-MSG-2", expected: "tag \(model.tag)", got: "tag \(tag)")
            }
            return
        }
        if model.isLinkDied { return }
        if let size = msg["size"]?.int, size != Int64(model.content.count) {
            diverge(call, .wrongData, "R-MSG-5", expected: "size \(model.content.count)", got: "size \(size)")
            return
        }
        if let hex = msg["hex"]?.string, let bytes = Hex.decode(hex), bytes != model.content {
            diverge(
                call, .wrongData, "R-MSG-5", expected: "content \(Hex.encode(model.content.prefix(32)))",
                got: "content \(Hex.encode(bytes.prefix(32)))")
            return
        }
        if let slots = msg["slots"]?.array {
            let wantKinds = model.sentSlots.map { $0.map { resources[$0].kind } ?? "empty" }
            let gotKinds = slots.map { $0.isNull ? "empty" : ($0["kind"]?.string ?? "?") }
            if wantKinds != gotKinds {
                diverge(call, .wrongResourceIndex, "R-RES-2", expected: "slots \(wantKinds)", got: "slots \(gotKinds)")
                return
            }
            for (i, ident) in model.sentSlots.enumerated() {
                guard let ident, let wantToken = resources[ident].token, let got = slots[i]["token"]?.string else { continue }
                if got != wantToken {
                    diverge(
                        call, .wrongResourceIndex, "R-RES-2", expected: "slot \(i) holding token \(wantToken)",
                        got: "slot \(i) holding token \(got)")
                    return
                }
            }
        }
    }

    /// R-RECV-2/3 matching of a message object against a tag set.
    static func matches(_ msg: JSONValue, _ tags: [Int64]) -> Bool {
        if tags.isEmpty { return true }
        guard let tag = msg["tag"]?.int, tag != 0 else { return false }
        return tags.contains(tag)
    }

    static func tagRule(_ msg: JSONValue, _ tags: [Int64]) -> String {
        (msg["tag"]?.int ?? 0) == 0 && tags.contains(0) ? "R-RECV-3" : "R-RECV-2"
    }
}

extension ReplayEngine {
    /// The rule that gives a link-death notice its tag: R-PROC-4 for a link made by a linked
    /// `spawn` (asymmetric tags), R-PROC-5 otherwise.
    func linkTagRule(receiver: UInt64, dead: UInt64) -> String {
        let pairs = [PidPair(a: receiver, b: dead), PidPair(a: dead, b: receiver)]
        if pairs.contains(where: { callLinks.contains($0) }) { return "R-PROC-5" }
        return pairs.contains(where: { spawnLinks.contains($0) }) ? "R-PROC-4" : "R-PROC-5"
    }
}
