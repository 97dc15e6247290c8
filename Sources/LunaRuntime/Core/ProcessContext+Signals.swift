import TraceFormat

extension ProcessContext {
    /// Spawns a native child of this process; with `link != 0` linked asymmetrically (R-PROC-4).
    @discardableResult
    public func spawn(
        link: Int64 = 0, entry: String = "native",
        _ body: @escaping @Sendable (ProcessContext) async throws -> Void
    ) throws -> ProcessID {
        try checkAlive()
        return environment.spawn(link: link, parent: id, entry: entry, body)
    }

    /// `link(tag, pid)`: links both ways, each side remembering `tag` (R-PROC-3). A missing (or
    /// dying) `pid` gives this process a link-death notice, reason "no process", which counts as a
    /// failure. `link` itself returns normally: the notice is handled at the start of the
    /// process's next waiting call (receive, send_receive_skip_search, sleep), under the
    /// die_when_link_dies flag in force now. With it on the process ends there (exit
    /// `.linkDied(from: pid)`, text "no process"); with it off a LinkDied message with `tag` is
    /// queued there.
    public func link(tag: Int64, to pid: ProcessID) throws {
        try checkAlive()
        let env = environment
        env.lock.lock()
        if let trace {
            trace.record(TraceEvent(kind: .link, pid: id, start: now(), args: .of(tag, Int64(bitPattern: pid))))
        }
        if let other = env.live[pid], !other.isTerminating {
            links[pid] = tag
            other.links[id] = tag
        } else {
            // Missing, or dying: a killed process is gone for the others (its link-death
            // notices have been delivered), so a link to it is a link to a missing pid.
            deferredLinkDeaths.append(DeferredLinkDeath(from: pid, tag: tag, die: dieWhenLinkDies))
        }
        env.lock.unlock()
    }

    /// Checks that the process is alive at the start of a waiting call, first handling the
    /// link-death notices `link` deferred to this point (R-PROC-3): throws `ProcessTerminated`
    /// when one of them ends the process.
    @inline(__always)
    package func checkAliveAtWait() throws {
        try checkAlive()
        if !deferredLinkDeaths.isEmpty { try handleDeferredLinkDeaths() }
    }

    /// Handles the notices `link` deferred (see `checkAliveAtWait`); throws `ProcessTerminated`
    /// when one ends the process.
    @inline(never)
    package func handleDeferredLinkDeaths() throws {
        let notices = deferredLinkDeaths
        deferredLinkDeaths = []
        let env = environment
        env.lock.lock()
        for n in notices where env.deliverLinkDeath(to: self, from: n.from, tag: n.tag, text: "no process", die: n.die) {
            env.deliverLinkDeaths(of: [self])
        }
        let parked = env.takeParkedEnds()
        env.lock.unlock()
        env.releaseParkedEnds(parked)
        try checkAlive()
    }

    /// `unlink(pid)`: removes the link on both sides (R-PROC-6).
    public func unlink(_ pid: ProcessID) throws {
        try checkAlive()
        let env = environment
        env.lock.lock()
        if let trace { trace.record(TraceEvent(kind: .unlink, pid: id, start: now(), args: .of(Int64(bitPattern: pid)))) }
        links[pid] = nil
        env.live[pid]?.links[id] = nil
        env.lock.unlock()
    }

    /// `kill(pid)`: ends `pid` as killed, its links notified at once; a missing pid is a no-op
    /// (R-PROC-2). Killing oneself throws `ProcessTerminated` at once.
    public func kill(_ pid: ProcessID) throws {
        try checkAlive()
        environment.kill(pid, by: id)
        try checkAlive()
    }

    /// `die_when_link_dies(flag)`: whether a failing linked process kills this one (on, the
    /// default) or only queues a LinkDied message (R-PROC-5); applies to later deaths (R-PROC-9).
    public func dieWhenLinkDies(_ on: Bool) throws {
        try checkAlive()
        let env = environment
        env.lock.lock()
        dieWhenLinkDies = on
        if let trace { trace.record(TraceEvent(kind: .dieWhenLinkDies, pid: id, start: now(), args: .of(on ? 1 : 0))) }
        env.lock.unlock()
    }

    /// `sleep_ms(ms)` for native processes; a kill meanwhile never returns (R-PROC-8).
    nonisolated(nonsending) public func sleep(ms: UInt64) async throws {
        await waitForTraceWriter()
        try checkAliveAtWait()
        let start = trace != nil ? now() : 0
        if ms > 0 {
            if case .terminated = await waitAsync(.sleep, timeoutMs: ms, returnEvent: nil) { throw sleepEnded(ms, start) }
        }
        recordSleep(ms, start)
    }

    /// `sleep_ms(ms)` for thread (guest) processes.
    public func sleepBlocking(ms: UInt64) throws {
        waitForTraceWriter()
        try checkAliveAtWait()
        if ms != 0 { try checkMayBlock(.sleepMs) }
        let start = trace != nil ? now() : 0
        if ms > 0 {
            let o = waitBlocking(.sleep, timeoutMs: ms, returnEvent: nil, sleepEvent: sleepCall(ms, start))
            if case .terminated = o { throw sleepEnded(ms, start) }
        }
        recordSleep(ms, start)
    }

    /// A thread's sleep as a call, for the environment to record as never returned when the
    /// death finds the sleep parked (tracing only).
    private func sleepCall(_ ms: UInt64, _ start: UInt64) -> PendingEvent? {
        guard trace != nil else { return nil }
        return PendingEvent(.call(.sleepMs, pid: id, start: start, Int64(bitPattern: ms)))
    }

    /// A sleep the process was killed in (or died from a link in): it never returns (R-PROC-8).
    /// Recorded with `never_returned` = 1, so that the trace shows where the process was; by
    /// the environment, with the end, when the death found this thread parked.
    private func sleepEnded(_ ms: UInt64, _ start: UInt64) -> ProcessTerminated {
        if let trace, !mailbox.parkedAtDeath {
            trace.record(TraceEvent(kind: .sleepMs, pid: id, start: start, end: now(), args: [Int64(bitPattern: ms), 1]))
        }
        return ProcessTerminated()
    }

    private func recordSleep(_ ms: UInt64, _ start: UInt64) {
        if let trace {
            trace.record(TraceEvent(kind: .sleepMs, pid: id, start: start, end: now(), args: .of(Int64(bitPattern: ms))))
        }
    }

    /// The processes this one is linked to, with the tag this side remembers.
    public var linkedProcesses: [ProcessID: Int64] { environment.lock.withLock { links } }
}

extension Environment {
    /// Kills `pid` on behalf of `killer` (0 = the host): a no-op for a missing or already dying
    /// pid (R-PROC-2). The death is decided here: the process stops at its next call (a waiting
    /// call never returns, R-PROC-8), and the link-death notices of the death are delivered
    /// now, transitively (R-PROC-5), so that what the kill causes has happened when it returns.
    public func kill(_ pid: ProcessID, by killer: ProcessID = 0) {
        _ = kill([pid], by: killer)
    }

    /// Kills every process in `pids` at once on behalf of `killer` (0 = the host): records a
    /// `kill` event for each (all with one time stamp), then marks each to die, all under the
    /// environment lock, so each ends killed and none dies from another's link first; then the
    /// link-death notices of those deaths reach the other processes. Missing pids are no-ops.
    /// Returns the pids that were live.
    @discardableResult
    public func kill(all pids: [ProcessID], by killer: ProcessID = 0) -> [ProcessID] {
        kill(pids, by: killer)
    }

    /// Kills every process still running (the host ending a program), as `kill(all:)` does.
    @discardableResult
    public func killAll() -> [ProcessID] {
        kill(nil, by: 0)
    }

    /// The kills of `kill(_:by:)`, `kill(all:by:)` and `killAll` (`pids` nil: every live
    /// process). A process found parked in a receive has its end published here too
    /// (`publishParkedEnd`), so when this returns it has ended for everyone: its exit
    /// recorded, its links notified, its waiters woken.
    private func kill(_ pids: [ProcessID]?, by killer: ProcessID) -> [ProcessID] {
        lock.lock()
        let victims = killLocked(pids ?? live.keys.sorted(), by: killer)
        let parked = takeParkedEnds()
        lock.unlock()
        releaseParkedEnds(parked)
        return victims
    }

    @discardableResult
    private func killLocked(_ pids: [ProcessID], by killer: ProcessID) -> [ProcessID] {
        if let trace {
            let t = now()
            for pid in pids { trace.record(TraceEvent(kind: .kill, pid: killer, start: t, args: .of(Int64(bitPattern: pid)))) }
        }
        let victims = pids.compactMap { live[$0] }
        let dying = victims.filter { $0.mailbox.markDying(.killed, text: "killed") }
        deliverLinkDeaths(of: dying)
        return victims.map(\.id)
    }
}
