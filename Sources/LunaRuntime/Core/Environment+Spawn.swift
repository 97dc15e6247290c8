import TraceFormat

extension Environment {
    /// Spawns a native process running `body` (Swift async on the environment's native
    /// executor: no thread of its own). With `parent` and `link != 0` the two are linked
    /// asymmetrically before the body starts (R-PROC-4).
    @discardableResult
    public func spawn(
        link: Int64 = 0, parent: ProcessID? = nil, entry: String = "native",
        moduleID: Int64 = -1, configID: Int64 = -1,
        _ body: @escaping @Sendable (ProcessContext) async throws -> Void
    ) -> ProcessID {
        let p = register(
            link: link, parent: parent, entry: entry, moduleID: moduleID,
            configID: configID, isThread: false)
        let executor = self.executor
        p.nativeExecutor = executor
        Task(executorPreference: executor) { await self.runNative(p, body) }
        return p.id
    }

    /// Spawns a process whose body runs on a thread of its own (WebAssembly guests): a thread
    /// left by an ended process, or a new one (`ProcessThreads`). The body calls the *Blocking
    /// variants. Links as for `spawn`.
    @discardableResult
    public func spawnThread(
        link: Int64 = 0, parent: ProcessID? = nil, entry: String,
        moduleID: Int64 = -1, configID: Int64 = -1,
        _ body: @escaping @Sendable (ProcessContext) throws -> Void
    ) -> ProcessID {
        let p = register(
            link: link, parent: parent, entry: entry, moduleID: moduleID,
            configID: configID, isThread: true)
        UnwindGate.shared.admitOneForSpawn()  // reclaims an ended process's thread first
        let started = ProcessThreads.shared.run(stackSize: threadStackSize, name: "luna-\(p.id)") {
            self.recordStart(p)
            var exit: ProcessExit = .normal
            if !p.mailbox.terminating.load(ordering: .relaxed) {
                do { try body(p) } catch { exit = Self.exit(for: error) }
            }
            self.finish(p, exit)
            p.releasedAfterExit = nil
            // Died parked: the next such thread may unwind now (see `UnwindGate`).
            if p.mailbox.parkedAtDeath { UnwindGate.shared.unwound(p.mailbox) }
        }
        if !started { finish(p, .failure(reason: "could not start a thread for process \(p.id)")) }
        return p.id
    }

    /// Creates the process, links it, records `spawn`.
    private func register(
        link: Int64, parent: ProcessID?, entry: String, moduleID: Int64,
        configID: Int64, isThread: Bool
    ) -> ProcessContext {
        lock.lock()
        let pid = nextPID
        nextPID += 1
        let p = ProcessContext(id: pid, environment: self, entry: entry, parent: parent, isThread: isThread)
        live[pid] = p
        if link != 0, let parent, let pp = live[parent] {
            p.links[parent] = link
            pp.links[pid] = 0
        }
        if let trace {
            trace.record(
                TraceEvent(
                    kind: .spawn, pid: parent ?? 0, start: now(),
                    args: .of(Int64(bitPattern: pid), link, moduleID, configID),
                    text: entry, result: .value(0)))
        }
        lock.unlock()
        return p
    }

    private func recordStart(_ p: ProcessContext) {
        if let trace {
            trace.record(
                TraceEvent(
                    kind: .start, pid: p.id, start: now(),
                    args: .of(Int64(bitPattern: p.parent ?? 0)), text: p.entry))
        }
    }

    private func runNative(
        _ p: ProcessContext,
        _ body: @Sendable (ProcessContext) async throws -> Void
    ) async {
        recordStart(p)
        var exit: ProcessExit = .normal
        if !p.mailbox.terminating.load(ordering: .relaxed) {
            do { try await body(p) } catch { exit = Self.exit(for: error) }
        }
        finish(p, exit)
    }

    /// The exit a body's error means.
    package static func exit(for error: any Error) -> ProcessExit {
        if let t = error as? LunaTrap { return .failure(reason: t.reason) }
        if error is ProcessTerminated { return .failure(reason: "terminated") }
        return .failure(reason: String(describing: error))
    }
}
