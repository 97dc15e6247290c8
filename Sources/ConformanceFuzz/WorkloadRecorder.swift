import Foundation
import LunaRuntime
import LunaSupport
import TraceFormat

/// A resource standing in for a module, stream or socket in a native process's table.
final class FuzzResource: Resource {
    let resourceKind: ResourceKind
    init(_ kind: ResourceKind) { resourceKind = kind }
}

/// Runs a workload on LunaRuntime native processes and records its trace.
///
/// Process 0 of the workload runs as pid 2, spawned by the host; pid 1 is a *reaper* that
/// ends the run: once every process has ended or waits forever (nothing left that a timer or
/// another process could wake), it kills the ones still waiting, so every run ends and every
/// kill is a recorded call of a process (the replay sends it like any other kill).
public struct WorkloadRecorder: Sendable {
    /// Seconds after which the reaper kills whatever still runs (a safety net; workloads end
    /// long before).
    public var deadline: Double

    /// A recorder.
    public init(deadline: Double = 5) { self.deadline = deadline }

    /// The result of one run.
    public struct Recording: Sendable {
        /// The recorded events, in trace order.
        public var events: [TraceEvent]
        /// Whether every process ended by itself or by the reaper in time (false: the safety
        /// net fired, or the environment did not wind down).
        public var endedCleanly: Bool
        /// When it did not end cleanly: what each workload process was doing at the end (for
        /// the report of that bug in Luna).
        public var processStates = ""
    }

    /// Runs `workload` and returns its trace.
    public func record(_ workload: Workload) -> Recording {
        let collector = TraceCollector()
        let env = Environment(id: 1, trace: collector)
        let monitor = RunMonitor(count: workload.processes.count)
        let reaperPid = env.spawn(entry: "reaper") { ctx in
            try await Self.reap(ctx, monitor)
        }
        monitor.setReaper(reaperPid)
        if !workload.processes.isEmpty {
            monitor.willSpawn(0)
            let pid = env.spawn(entry: "P0") { ctx in
                try await Self.run(0, workload, ctx, monitor)
            }
            monitor.spawned(0, pid: pid)
        }
        let hardDeadline = MonotonicClock.deadline(after: deadline)
        var forced = false
        while true {
            if env.waitUntilAllExited(timeout: 0.002) { break }
            if !forced && MonotonicClock.now() > hardDeadline {
                forced = true
                monitor.force()
            }
            if monitor.looksQuiescent(env) || forced { monitor.poke() }
            if forced && MonotonicClock.now() > hardDeadline &+ 5_000_000_000 { break }
        }
        let clean = !forced && env.liveCount == 0
        return Recording(
            events: collector.events, endedCleanly: clean,
            processStates: clean ? "" : monitor.describe(env))
    }

    static func reap(_ ctx: ProcessContext, _ monitor: RunMonitor) async throws {
        while true {
            await monitor.waitForPoke()
            // On the executor thread no other native process runs now: the states are exact.
            guard monitor.isQuiescent(ctx.environment) || monitor.isForced else { continue }
            // A process woken by a message still reads as waiting until it runs: let every job
            // queued before this one run, and go on only when no process has moved meanwhile.
            if !monitor.isForced {
                let before = monitor.activity
                for _ in 0..<4 { await Task.yield() }
                guard monitor.activity == before, monitor.isQuiescent(ctx.environment) else { continue }
            }
            // One at a time, letting each death and the deaths it cascades into finish before
            // the next kill: a kill here lands only on a process that nothing else is ending.
            while let pid = monitor.pidsToKill(ctx.environment).first {
                try ctx.kill(pid)
                var spins = 0
                while monitor.anyDying(ctx.environment) && spins < 100_000 {
                    await Task.yield()
                    spins += 1
                }
                if spins >= 100_000 { return }
            }
            return
        }
    }

    /// The pid a target names at this moment.
    static func pid(_ t: FuzzTarget, _ ctx: ProcessContext, _ monitor: RunMonitor) -> ProcessID {
        switch t {
        case .me: return ctx.id
        case .missing(let p): return p
        case .process(let i): return monitor.pid(of: i) ?? (1_000_000 + UInt64(i))
        }
    }

    static func run(_ index: Int, _ w: Workload, _ ctx: ProcessContext, _ monitor: RunMonitor) async throws {
        monitor.started(index, ctx)
        defer { monitor.ended(index, ctx.environment) }
        for step in w.processes[index] {
            switch step {
            case .createData(let tag, let capacity):
                ctx.createData(tag: tag, capacity: capacity)
            case .writeData(let count, let fill):
                _ = try ctx.writeData((0..<count).map { fill &+ UInt8(truncatingIfNeeded: $0) })
            case .readData(let count):
                _ = try ctx.readData(count: count)
            case .seekData(let i):
                try ctx.seekData(i)
            case .getTag:
                _ = try ctx.getTag()
            case .dataSize:
                _ = try ctx.dataSize()
            case .newResource(let kind):
                _ = ctx.insert(FuzzResource(kind))
            case .push(let kind, let ref):
                let id: UInt64
                switch ref {
                case .held(let n):
                    let ids = ctx.resourceIDs(kind)
                    id = ids.isEmpty ? 1 << 30 : ids[n % ids.count]
                case .invalid(let i):
                    id = i
                }
                _ = try ctx.push(kind, id: id)
            case .take(let kind, let index):
                _ = try ctx.take(kind, index: index)
            case .send(let t):
                _ = try ctx.send(to: pid(t, ctx, monitor))
            case .skipSearch(let t, let timeout):
                let to = pid(t, ctx, monitor)
                if timeout == .forever { monitor.blocked(index, ctx.environment) }
                _ = try await ctx.sendReceiveSkipSearch(to: to, timeoutMs: timeout.runtimeValue)
                monitor.running(index)
            case .receive(let tags, let timeout):
                if timeout == .forever { monitor.blocked(index, ctx.environment) }
                _ = try await ctx.receive(tags: tags, timeoutMs: timeout.runtimeValue)
                monitor.running(index)
            case .spawn(let child, let link):
                guard child > index, child < w.processes.count, !monitor.wasSpawned(child) else { continue }
                monitor.willSpawn(child)
                let pid: ProcessID
                do {
                    pid = try ctx.spawn(link: link, entry: "P\(child)") { c in
                        try await run(child, w, c, monitor)
                    }
                } catch {
                    monitor.spawnFailed(child)  // the parent was dying: no child
                    throw error
                }
                monitor.spawned(child, pid: pid)
            case .link(let tag, let t):
                try ctx.link(tag: tag, to: pid(t, ctx, monitor))
            case .unlink(let t):
                try ctx.unlink(pid(t, ctx, monitor))
            case .kill(let t):
                try ctx.kill(pid(t, ctx, monitor))
            case .dieWhenLinkDies(let on):
                try ctx.dieWhenLinkDies(on)
            case .trap:
                throw LunaTrap(reason: "unreachable")
            case .exit:
                return
            }
        }
    }
}

/// What the reaper needs to know: which workload processes run, wait forever or have ended.
///
/// `@unchecked Sendable`: every field is guarded by `lock`.
final class RunMonitor: @unchecked Sendable {
    enum State { case notSpawned, running, blockedForever, done }

    private let lock = ConditionLock()
    private var states: [State]
    private var pids: [ProcessID?]
    private var contexts: [ProcessContext?]
    private var reaper: ProcessID = 0
    private var waiter: UnsafeContinuation<Void, Never>?
    private var poked = false
    private var forced = false
    private var moves: UInt64 = 0

    init(count: Int) {
        states = Array(repeating: .notSpawned, count: count)
        pids = Array(repeating: nil, count: count)
        contexts = Array(repeating: nil, count: count)
    }

    func setReaper(_ pid: ProcessID) { lock.withLock { reaper = pid } }
    /// Process `i` runs: its pid is known from here on, also to its own first steps. (P0 is
    /// spawned from the recording thread and can run on the executor before that thread's
    /// `spawned` call; a step naming process 0 then resolved to a missing pid, in one of
    /// two recordings of the same seed.)
    func started(_ i: Int, _ ctx: ProcessContext) {
        lock.withLock {
            contexts[i] = ctx
            pids[i] = ctx.id
        }
    }

    /// Whether a process has been marked to die but has not ended yet.
    func anyDying(_ env: Environment) -> Bool {
        let all = lock.withLock { contexts.compactMap { $0 } }
        return all.contains { $0.isTerminating && env.exitStatus(of: $0.id) == nil }
    }
    func pid(of i: Int) -> ProcessID? { lock.withLock { i < pids.count ? pids[i] : nil } }
    func wasSpawned(_ i: Int) -> Bool { lock.withLock { states[i] != .notSpawned } }
    func willSpawn(_ i: Int) { lock.withLock { states[i] = .running } }
    func spawnFailed(_ i: Int) { lock.withLock { states[i] = .notSpawned } }
    func spawned(_ i: Int, pid: ProcessID) { lock.withLock { pids[i] = pid } }
    func running(_ i: Int) {
        lock.withLock {
            if states[i] != .done { states[i] = .running }
            moves &+= 1
        }
    }

    /// Counts state changes, so the reaper can tell whether anything moved.
    var activity: UInt64 { lock.withLock { moves } }

    func blocked(_ i: Int, _ env: Environment) {
        lock.withLock {
            states[i] = .blockedForever
            moves &+= 1
        }
        if looksQuiescent(env) { poke() }
    }

    func ended(_ i: Int, _ env: Environment) {
        lock.withLock {
            states[i] = .done
            moves &+= 1
        }
        if looksQuiescent(env) { poke() }
    }

    func force() { lock.withLock { forced = true } }
    var isForced: Bool { lock.withLock { forced } }

    /// Nothing can move any more: every spawned process has ended or waits forever.
    func looksQuiescent(_ env: Environment) -> Bool {
        let snapshot = lock.withLock { Array(zip(states, pids)) }
        for (state, pid) in snapshot {
            switch state {
            case .notSpawned, .done, .blockedForever: continue
            case .running:
                guard let pid, env.exitStatus(of: pid) != nil else { return false }
            }
        }
        return true
    }

    func isQuiescent(_ env: Environment) -> Bool { looksQuiescent(env) }

    /// Each workload process's state as the reaper sees it, and the pids still alive.
    func describe(_ env: Environment) -> String {
        let (snapshot, ctxs) = lock.withLock { (Array(zip(states, pids)), contexts) }
        let each = snapshot.enumerated().map { i, sp -> String in
            let exit = sp.1.flatMap { env.exitStatus(of: $0) }.map { "\($0)" } ?? "running"
            let dying = ctxs[i]?.isTerminating == true ? ", dying" : ""
            return "P\(i) (pid \(sp.1.map(String.init) ?? "none")): \(sp.0), \(exit)\(dying)"
        }
        return each.joined(separator: "; ") + "; live pids \(env.liveProcesses)"
    }

    /// The processes still alive, in workload order.
    func pidsToKill(_ env: Environment) -> [ProcessID] {
        let all = lock.withLock { pids.compactMap { $0 } }
        return all.filter { env.exitStatus(of: $0) == nil }
    }

    func poke() {
        lock.lock()
        if let w = waiter {
            waiter = nil
            lock.unlock()
            w.resume()
            return
        }
        poked = true
        lock.unlock()
    }

    func waitForPoke() async {
        await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            lock.lock()
            if poked {
                poked = false
                lock.unlock()
                c.resume()
            } else {
                waiter = c
                lock.unlock()
            }
        }
    }
}
