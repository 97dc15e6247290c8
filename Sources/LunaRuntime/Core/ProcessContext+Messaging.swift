import TraceFormat

extension ProcessContext {
    // MARK: send

    /// `send(pid)`: moves the scratch message into `pid`'s mailbox (R-SEND-1); a missing
    /// receiver silently drops it (R-SEND-2). Returns 0; traps on an empty scratch area (R-SEND-3).
    @discardableResult
    public func send(to pid: ProcessID) throws -> Int32 {
        try checkAlive()
        guard let m = scratch else {
            throw trap(.send, .of(Int64(bitPattern: pid)), "lunatic::message::send::no_message")
        }
        scratch = nil
        deliver(m, to: pid, recordSend: true)
        return 0
    }

    /// Puts `m` into `pid`'s mailbox, recording `send` (if asked) under the receiver's lock so
    /// it precedes the receive that takes it; drops it when `pid` is missing or ending.
    @inline(__always)
    package func deliver(_ m: Message, to pid: ProcessID, recordSend: Bool) {
        deliver(m, to: pid, record: recordSend ? .send : .nothing)
    }

    /// Which event `deliver` records for the message it moves (tracing only).
    package enum SendRecord {
        /// None (the caller records nothing, or something else).
        case nothing
        /// A `send` event.
        case send
        /// The send half of `send_receive_skip_search`, for a call that began at `start`.
        case skipSearch(timeoutMs: UInt64, start: UInt64)
    }

    /// Puts `m` into `pid`'s mailbox, recording `record` while holding the receiver's lock (so
    /// the event precedes the receive that takes the message); drops `m` when `pid` is missing
    /// or ending, recording the send and then the drop.
    @inline(__always)
    package func deliver(_ m: Message, to pid: ProcessID, record: SendRecord) {
        if let target = targetMailbox(pid) {
            let delivered = target._withUnsafeGuaranteedRef { mb -> Bool in
                mb.lock.lock()
                if mb.closed { mb.lock.unlock(); return false }
                if trace != nil { recordSend(m, pid, record) }
                let c = mb.enqueueLocked(m)
                mb.lock.unlock()
                c?.resume()
                return true
            }
            if delivered { return }
        }
        if let trace {
            recordSend(m, pid, record)
            environment.recordDrop(m, holder: id, reason: .receiverMissing, trace)
        }
    }

    /// Records the event of `record` on the allocation-free path (no tags or text to carry).
    @inline(__always)
    private func recordSend(_ m: Message, _ pid: ProcessID, _ record: SendRecord) {
        switch record {
        case .nothing:
            return
        case .send:
            self.record(.call(.send, pid: id, start: now(), message: m.id, result: 0, Int64(bitPattern: pid)))
        case .skipSearch(let timeoutMs, let start):
            self.record(
                .call(
                    .sendReceiveSkipSearch, pid: id, start: start, end: now(), message: m.id,
                    Int64(bitPattern: pid), Int64(bitPattern: timeoutMs)))
        }
    }

    // MARK: receive

    /// `receive(tags, timeout)` for native processes: takes the first queued message whose tag
    /// is in `tags` (any message when empty; untagged never match a set, R-RECV-2/3), waiting
    /// up to `timeoutMs` (UInt64.max = forever, 0 = only what is queued, R-RECV-5).
    /// Returns 0 (data), 1 (LinkDied) or 9027 (timeout, scratch area unchanged) (R-RECV-6).
    nonisolated(nonsending) public func receive(tags: [Int64] = [], timeoutMs: UInt64 = .max) async throws -> Int32 {
        await waitForTraceWriter()
        try checkAliveAtWait()
        let start = trace != nil ? now() : 0
        let spec = WaitSpec.receive(tags)
        let mb = mailbox
        mb.lock.lock()
        if let m = receiveNow(spec, tags: tags, timeoutMs: timeoutMs, start: start) {
            mb.lock.unlock()
            return accept(m)
        }
        if timeoutMs == 0 {
            mb.lock.unlock()
            return ResultCode.timeout
        }
        let o = await waitAsync(
            spec, timeoutMs: timeoutMs, lockHeld: true, returnEvent: receiveReturnEvent(tags, timeoutMs, start))
        return try receiveFinished(o, tags: tags, timeoutMs: timeoutMs, start: start)
    }

    /// `receive` for thread (guest) processes: blocks the calling thread.
    public func receiveBlocking(tags: [Int64] = [], timeoutMs: UInt64 = .max) throws -> Int32 {
        waitForTraceWriter()
        try checkAliveAtWait()
        if timeoutMs != 0 { try checkMayBlock(.receive) }
        let start = trace != nil ? now() : 0
        let spec = WaitSpec.receive(tags)
        let mb = mailbox
        mb.lock.lock()
        let quick = receiveNow(spec, tags: tags, timeoutMs: timeoutMs, start: start)
        mb.lock.unlock()
        if let m = quick { return accept(m) }
        if timeoutMs == 0 { return ResultCode.timeout }
        let o = waitBlocking(spec, timeoutMs: timeoutMs, returnEvent: receiveReturnEvent(tags, timeoutMs, start))
        return try receiveFinished(o, tags: tags, timeoutMs: timeoutMs, start: start)
    }

    /// The fast path (mailbox lock held; the caller releases it, then accepts the message): a
    /// match already queued, taken and recorded; else nil, and with timeout 0 the timeout is
    /// recorded (the caller returns it).
    @inline(__always)
    private func receiveNow(_ spec: WaitSpec, tags: [Int64], timeoutMs: UInt64, start: UInt64) -> Message? {
        let mb = mailbox
        if let i = mb.firstMatch(spec) {
            let m = mb.queue.remove(at: i)
            if trace != nil { recordReceive(m, tags, timeoutMs, start) }
            return m
        }
        if timeoutMs == 0, trace != nil { mb.recordReturn(receiveReturnEvent(tags, timeoutMs, start), nil) }
        return nil
    }

    /// The end of a receive's wait; its return was recorded when the wait ended (a kill that
    /// came after that point ends the process at its next call).
    private func receiveFinished(_ o: WaitOutcome, tags: [Int64], timeoutMs: UInt64, start: UInt64) throws -> Int32 {
        switch o {
        case .message(let m):
            return accept(m)
        case .timeout:
            return ResultCode.timeout
        case .terminated, .pending:
            // Killed (or died from a link) while waiting: the call never returns (R-PROC-8).
            // Recorded without a result, so a replay can check that it stays blocked; by the
            // environment, with the end, when the death found this thread parked.
            if let trace, !mailbox.parkedAtDeath {
                trace.record(
                    TraceEvent(
                        kind: .receive, pid: id, start: start, end: now(),
                        args: .of(Int64(bitPattern: timeoutMs)), tags: tags))
            }
            throw ProcessTerminated()
        }
    }

    /// Records a receive that took `m` at once (its start is its end); without a tag set, on the
    /// allocation-free path.
    @inline(__always)
    private func recordReceive(_ m: Message, _ tags: [Int64], _ timeoutMs: UInt64, _ start: UInt64) {
        let r = EventRecord.call(
            .receive, pid: id, start: start, message: m.id, result: m.isLinkDied ? 1 : 0,
            Int64(bitPattern: timeoutMs))
        if tags.isEmpty {
            record(r)
        } else if let trace {
            var e = TraceEvent(r, payload: nil)
            e.tags = tags
            trace.record(e)
        }
    }

    /// The event a waiting receive records when it returns (see `Mailbox.recordReturn`).
    private func receiveReturnEvent(_ tags: [Int64], _ timeoutMs: UInt64, _ start: UInt64) -> PendingEvent? {
        guard trace != nil else { return nil }
        return PendingEvent(.call(.receive, pid: id, start: start, Int64(bitPattern: timeoutMs)), tags: tags)
    }

    /// Places a received message in the scratch area; returns 0 (data) or 1 (LinkDied).
    @inline(__always)
    private func accept(_ m: Message) -> Int32 {
        replaceScratch(with: m)
        m.received = true
        return m.isLinkDied ? 1 : 0
    }

    // MARK: send_receive_skip_search
    //
    // Traced as two events (format 1.1): the send half (`sendReceiveSkipSearch`, message = the
    // request) recorded under the receiver's lock when the request is queued, so it precedes
    // the receive that takes the request; and the return (`sendReceiveSkipSearchReturn`,
    // message = the reply, 0 on timeout) recorded like a receive: after taking the reply, or,
    // on timeout, under the caller's own mailbox lock (a `PendingEvent`), so it precedes any
    // later send that would have matched. A trap (empty scratch area, blocking variant on the
    // executor) is the call's only event.

    /// `send_receive_skip_search(pid, timeout)` for native processes: sends the scratch
    /// message like `send`, then waits only for a message that arrives after the call began
    /// with the request's tag (any message if untagged); returns 0 (even for LinkDied) or
    /// 9027, after which the scratch area is empty (R-RECV-7, R-RECV-8).
    nonisolated(nonsending) public func sendReceiveSkipSearch(to pid: ProcessID, timeoutMs: UInt64) async throws -> Int32 {
        await waitForTraceWriter()
        let (request, spec, start) = try beginSkipSearch(to: pid, timeoutMs: timeoutMs)
        if let done = skipSearchNow(request, spec, pid, timeoutMs, start) { return done }
        let o = await waitAsync(spec, timeoutMs: timeoutMs, returnEvent: skipSearchReturnEvent(request, pid, timeoutMs, start))
        return try skipSearchFinished(o)
    }

    /// `send_receive_skip_search` for thread (guest) processes: blocks the calling thread.
    public func sendReceiveSkipSearchBlocking(to pid: ProcessID, timeoutMs: UInt64) throws -> Int32 {
        waitForTraceWriter()
        if timeoutMs != 0 { try checkMayBlock(.sendReceiveSkipSearch) }
        let (request, spec, start) = try beginSkipSearch(to: pid, timeoutMs: timeoutMs)
        if let done = skipSearchNow(request, spec, pid, timeoutMs, start) { return done }
        let o = waitBlocking(spec, timeoutMs: timeoutMs, returnEvent: skipSearchReturnEvent(request, pid, timeoutMs, start))
        return try skipSearchFinished(o)
    }

    /// Sends the request, recording the send half; the wait then accepts only arrivals after
    /// this point. The "no process" notices `link` deferred (R-PROC-3): one that ends the caller
    /// takes effect before the request is sent (the call never begins); the others are handled
    /// after the send, so they arrive while the call waits and a LinkDied message is a reply
    /// (R-RECV-8), as in lunatic, where the notice is a signal handled once the call waits.
    /// Returns the request's message id, not the message: holding it through the wait would
    /// keep the receiver from reusing it in place for its reply (an allocation per call).
    private func beginSkipSearch(to pid: ProcessID, timeoutMs: UInt64) throws -> (MessageID, WaitSpec, UInt64) {
        if deferredLinkDeaths.contains(where: \.die) { try checkAliveAtWait() } else { try checkAlive() }
        let start = trace != nil ? now() : 0
        guard let m = scratch else {
            throw trap(
                .sendReceiveSkipSearch, .of(Int64(bitPattern: pid), Int64(bitPattern: timeoutMs)),
                "lunatic::message::send_receive_skip_search")
        }
        scratch = nil
        let mb = mailbox
        mb.lock.lock()
        let after = mb.arrivals
        mb.lock.unlock()
        let request = m.id, tag = m.tag
        deliver(m, to: pid, record: .skipSearch(timeoutMs: timeoutMs, start: start))
        if !deferredLinkDeaths.isEmpty { try handleDeferredLinkDeaths() }
        return (request, .skipSearch(after: after, tag: tag), start)
    }

    /// Timeout 0: take an eligible reply already there, else time out at once.
    private func skipSearchNow(
        _ request: MessageID, _ spec: WaitSpec, _ pid: ProcessID, _ timeoutMs: UInt64,
        _ start: UInt64
    ) -> Int32? {
        guard timeoutMs == 0 else { return nil }
        let mb = mailbox
        mb.lock.lock()
        if let i = mb.firstMatch(spec) {
            let r = mb.queue.remove(at: i)
            if trace != nil { mb.recordReturn(skipSearchReturnEvent(request, pid, timeoutMs, start), r) }
            mb.lock.unlock()
            _ = accept(r)
            return 0
        }
        if trace != nil { mb.recordReturn(skipSearchReturnEvent(request, pid, timeoutMs, start), nil) }
        mb.lock.unlock()
        return ResultCode.timeout
    }

    private func skipSearchFinished(_ o: WaitOutcome) throws -> Int32 {
        switch o {
        case .message(let r):
            _ = accept(r)  // its return was recorded when the wait ended
            return 0
        case .timeout:
            return ResultCode.timeout  // recorded by the wait, under the mailbox lock
        case .terminated, .pending:
            throw ProcessTerminated()
        }
    }

    /// The return event of a skip-search call, completed with its reply (result 0) or as a
    /// timeout (9027) by `Mailbox.recordReturn`.
    private func skipSearchReturnEvent(
        _ request: MessageID, _ pid: ProcessID, _ timeoutMs: UInt64,
        _ start: UInt64
    ) -> PendingEvent? {
        guard trace != nil else { return nil }
        var r = EventRecord(kind: .sendReceiveSkipSearchReturn, pid: id, start: start)
        r.append(Int64(bitPattern: pid))
        r.append(Int64(bitPattern: timeoutMs))
        r.append(Int64(bitPattern: request))
        return PendingEvent(r)
    }
}
