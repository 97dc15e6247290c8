import TraceFormat

extension Environment {
    /// Ends process `p` (on its own execution context): a death decided by others wins over
    /// `bodyExit`; drops its messages and resources (R-PROC-7), records `exit`, notifies links
    /// (R-PROC-5) and wakes waiters.
    ///
    /// The end is decided and its `exit` recorded in one step under the environment lock, where
    /// kills and link deaths are decided too: one of those either comes first and wins, or
    /// finds the process already ended in the trace (a no-op, R-PROC-2) with its links gone.
    /// Were the decision taken first and the exit recorded later, a kill in between would be
    /// recorded before an `exit` that says "normal", and a replay would end the process at
    /// the kill. The process stays in `live` (marked terminating) until its messages and
    /// resources are released, so whoever waits for its end finds them released.
    package func finish(_ p: ProcessContext, _ bodyExit: ProcessExit) {
        lock.lock()
        // Died parked in a wait: whoever decided the death published the end, and this
        // thread (just woken, by the `UnwindGate` or its own timeout) only unwinds.
        if p.mailbox.parkedAtDeath {
            lock.unlock()
            return
        }
        let (exit, left) = endLocked(p, bodyExit, parked: false)
        // A death decided by others delivered its notices then; what is left are links made
        // since, and those of a process that ended by itself.
        if exit.notifiesLinks {
            deliverLinkDeaths(of: [p])
        } else {
            for other in p.links.keys { live[other]?.links[p.id] = nil }
            p.links = [:]
        }
        let parked = takeParkedEnds()
        lock.unlock()
        release(p, exit, left)
        releaseParkedEnds(parked)
    }

    /// The first half of a process's end (environment lock held): its exit decided (a death
    /// decided by others wins over `bodyExit`), its mailbox closed and emptied, what it held
    /// recorded as dropped, and `exit` recorded. For a process that died `parked`, its
    /// receive that never returned is recorded first, as its thread would have on waking.
    /// Returns the exit and the messages left in the mailbox, to release outside the lock.
    private func endLocked(_ p: ProcessContext, _ bodyExit: ProcessExit, parked: Bool) -> (ProcessExit, [Message]) {
        let mb = p.mailbox
        mb.lock.lock()
        let exit = mb.pendingDeath ?? bodyExit
        let text = mb.pendingDeath != nil ? mb.deathText : Self.reasonText(exit)
        mb.closed = true
        mb.terminating.store(true, ordering: .releasing)
        if parked, let trace, let e = mb.takeNeverReturned() { trace.record(e) }
        let left = mb.queue.removeAll()
        if let trace {
            for m in left { recordDrop(m, holder: p.id, reason: .leftInMailbox, trace) }
        }
        mb.lock.unlock()
        if let s = p.scratch {
            if let trace { recordDrop(s, holder: p.id, reason: .leftInScratch, trace, asMessage: !s.received) }
            p.scratch = nil
        }
        if exit != .normal { abnormalExits[p.id] = exit }
        if let trace {
            trace.record(
                TraceEvent(
                    kind: .exit, pid: p.id, start: now(),
                    args: .of(exit.code.rawValue), text: text))
        }
        return (exit, left)
    }

    /// The second half (outside the lock): the process's messages and resources released,
    /// then it leaves `live` and whoever waits for its end is woken.
    private func release(_ p: ProcessContext, _ exit: ProcessExit, _ left: consuming [Message]) {
        // Released outside the lock (closing a socket may take a while).
        p.resources.removeAll()
        p.dropCaches()
        left.removeAll()

        lock.lock()
        live[p.id] = nil
        let waiters = exitWaiters.removeValue(forKey: p.id) ?? []
        if blockedPIDWaiters[p.id] != nil || (blockedAllWaiters > 0 && live.isEmpty) { lock.broadcast() }
        lock.unlock()
        for (_, c) in waiters { c.resume(returning: exit) }
    }

    /// A process whose end was published for it: what is left to release outside the lock.
    package struct ParkedEnd {
        fileprivate let process: ProcessContext
        fileprivate let exit: ProcessExit
        fileprivate let left: [Message]
    }

    /// Publishes the end of `p`, which died while its thread was parked in a wait
    /// (environment lock held; see `Mailbox.parkedAtDeath`). Its thread stays asleep: the end
    /// is recorded here, at once, rather than when the thread has been scheduled, woken and
    /// unwound, which a mass kill would otherwise wait for thread by thread.
    private func publishParkedEnd(_ p: ProcessContext) -> ParkedEnd {
        let (exit, left) = endLocked(p, .killed, parked: true)
        return ParkedEnd(process: p, exit: exit, left: left)
    }

    /// The parked ends published under the lock since the last call (environment lock
    /// held); whoever releases the lock passes them to `releaseParkedEnds`.
    package func takeParkedEnds() -> [ParkedEnd] {
        guard !parkedEnds.isEmpty else { return [] }
        defer { parkedEnds = [] }
        return parkedEnds
    }

    /// Releases what the processes of `ends` held and wakes their waiters (outside the lock),
    /// then lets their threads unwind through the `UnwindGate`.
    package func releaseParkedEnds(_ ends: [ParkedEnd]) {
        for e in ends {
            registry.release(heldBy: e.process.id)
            release(e.process, e.exit, e.left)
            UnwindGate.shared.admit(e.process.mailbox)
        }
    }

    /// The text of an `exit` event.
    package static func reasonText(_ exit: ProcessExit) -> String {
        switch exit {
        case .normal: return ""
        case .failure(let reason): return reason
        case .killed: return "killed"
        case .linkDied(let from): return "linked process \(from) died"
        }
    }

    /// Delivers the link-death notices of `dead`, processes whose death has been decided
    /// (environment lock held): each process linked to one of them is unlinked from it and
    /// dies too or gets a LinkDied message (`deliverLinkDeath`); the deaths this causes are
    /// delivered in turn, so a whole cascade is decided before the lock is released. The order
    /// is breadth first, each death's notices in ascending pid order: all the notices of one
    /// end go out before the ends they cause send theirs, as lunatic's signals do. The ends of
    /// those that died parked in a wait are published then (`publishParkedEnd`); the caller
    /// takes them (`takeParkedEnds`) and releases them once it has released the lock.
    package func deliverLinkDeaths(of dead: [ProcessContext]) {
        var work = dead
        var next = 0
        while next < work.count {
            let d = work[next]
            next += 1
            let links = d.links
            d.links = [:]
            for other in links.keys.sorted() {
                guard let o = live[other] else { continue }
                o.links[d.id] = nil
                if deliverLinkDeath(to: o, from: d.id, tag: links[other]!) { work.append(o) }
            }
        }
        // Ends published after every notice, so a parked process's `exit` follows them.
        for d in work where d.mailbox.parkedAtDeath {
            parkedEnds.append(publishParkedEnd(d))
        }
    }

    /// A link-death notice about `dead` reaches `o` (environment lock held): it dies too, or
    /// gets a LinkDied message, per its die_when_link_dies flag (R-PROC-5), or per `die` when
    /// the notice was decided earlier (a deferred "no process" notice of `link`). Returns
    /// whether `o` was marked to die by it (its own notices are then the caller's to deliver).
    @discardableResult
    package func deliverLinkDeath(
        to o: ProcessContext, from dead: ProcessID, tag: Int64,
        text: String? = nil, die: Bool? = nil
    ) -> Bool {
        if die ?? o.dieWhenLinkDies {
            let death = ProcessExit.linkDied(from: dead)
            // Recorded before the process wakes, so it precedes the process's interrupted call.
            let trace = self.trace
            return o.mailbox.markDying(death, text: text ?? Self.reasonText(death)) {
                trace?.record(
                    TraceEvent(
                        kind: .linkDied, pid: o.id, start: self.now(),
                        args: .of(Int64(bitPattern: dead), tag, 1)))
            }
        }
        let m = Message(linkDiedFrom: dead, tag: tag, id: trace != nil ? newMessageID() : 0)
        let mb = o.mailbox
        mb.lock.lock()
        if mb.closed { mb.lock.unlock(); return false }
        if let trace {
            trace.record(
                TraceEvent(
                    kind: .linkDied, pid: o.id, start: now(),
                    args: .of(Int64(bitPattern: dead), tag, 0), message: m.id))
        }
        let c = mb.enqueueLocked(m)
        mb.lock.unlock()
        c?.resume()
        return false
    }

    /// Records that `m` was dropped while `holder` held it, and its untaken resources.
    package func recordDrop(
        _ m: Message, holder: ProcessID, reason: DropReason, _ trace: any TraceSink,
        asMessage: Bool = true
    ) {
        let t = now()
        if asMessage {
            trace.record(
                TraceEvent(
                    kind: .messageDropped, pid: holder, start: t,
                    args: .of(reason.rawValue), message: m.id))
        }
        for (slot, kind) in m.remainingResources {
            trace.record(
                TraceEvent(
                    kind: .resourceDropped, pid: holder, start: t,
                    args: .of(Int64(slot), kind.rawValue), message: m.id))
        }
    }
}
