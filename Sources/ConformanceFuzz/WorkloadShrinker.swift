import ConformanceKit
import LunaSupport
import TraceFormat

/// Shrinks a failing workload: fewer processes, fewer steps, smaller messages and timeouts,
/// while its recorded trace still fails the same way against the adapter. Every candidate is
/// re-recorded on LunaRuntime, so every trace it judges is a real recording.
public struct WorkloadShrinker: Sendable {
    /// The adapter under test.
    public var adapter: AdapterClient.Options
    /// Replay limits.
    public var replay: ReplayOptions
    /// The failure to keep.
    public var signature: FailureSignature
    /// Records candidates.
    public var recorder: WorkloadRecorder
    /// Stop after this many seconds with the best workload so far.
    public var timeLimit: Double
    /// Candidates recorded, and adapter processes replaying, at the same time.
    public var jobs = 4

    /// Creates a shrinker.
    public init(
        adapter: AdapterClient.Options, replay: ReplayOptions, signature: FailureSignature,
        recorder: WorkloadRecorder = .init(), timeLimit: Double = 30
    ) {
        self.adapter = adapter
        self.replay = replay
        self.signature = signature
        self.recorder = recorder
        self.timeLimit = timeLimit
    }

    /// The smallest failing workload found, its trace and that trace's outcome.
    public struct Result: Sendable {
        public var workload: Workload
        public var events: [TraceEvent]
        public var outcome: TraceOutcome
        public var tries: Int
        /// Candidates that failed the same way (each became the new best). Zero means the
        /// failure never came back while shrinking: the result is the original workload.
        public var reproductions = 0
    }

    /// Shrinks `workload`, whose recording `events` failed with `outcome`.
    public func shrink(_ workload: Workload, events: [TraceEvent], outcome: TraceOutcome) -> Result {
        let deadline = MonotonicClock.deadline(after: timeLimit)
        var best = Result(workload: workload, events: events, outcome: outcome, tries: 0)
        func attempt(_ candidates: [Workload]) -> Bool {
            var offset = 0
            while offset < candidates.count && MonotonicClock.now() < deadline {
                let batch = Array(candidates[offset..<min(offset + 12, candidates.count)]).map(Self.normalized)
                offset += 12
                best.tries += batch.count
                let recorder = self.recorder
                let recorded = zip(batch, Parallel.map(batch, jobs: jobs) { recorder.record($0) })
                    .filter(\.1.endedCleanly).map { ($0.0, $0.1.events) }
                if recorded.isEmpty { continue }
                let report = Fuzzer.replay(
                    recorded.enumerated().map { TraceSource.events($0.element.1, name: "candidate \($0.offset)") },
                    adapter: adapter, replay: replay, jobs: jobs)
                for (r, o) in zip(recorded, report.outcomes) where FailureSignature(o) == signature {
                    best = Result(
                        workload: r.0, events: r.1, outcome: o, tries: best.tries, reproductions: best.reproductions + 1)
                    return true
                }
            }
            return false
        }
        // Whole processes first, then chunks of steps (delta debugging), then values.
        var progress = true
        while progress && MonotonicClock.now() < deadline {
            progress = false
            let w = best.workload
            var whole = (1..<max(w.processes.count, 1)).reversed().map { Self.removing(process: $0, from: w) }
            if let p = Self.promoting(w) { whole.append(p) }
            whole += (1..<max(w.processes.count, 1)).compactMap { Self.merging($0, in: w) }
            whole += (1..<max(w.processes.count, 1)).compactMap { Self.merging($0, in: w, atEnd: true) }
            if w.processes.count > 1, attempt(whole) {
                progress = true
                continue
            }
            var n = 2
            while MonotonicClock.now() < deadline {
                let flat = Self.flatten(best.workload)
                if flat.isEmpty { break }
                let chunk = (flat.count + n - 1) / n
                var candidates: [Workload] = []
                var start = 0
                while start < flat.count {
                    let drop = Set(flat[start..<min(start + chunk, flat.count)].map { "\($0.0):\($0.1)" })
                    candidates.append(Self.removing(steps: drop, from: best.workload))
                    start += chunk
                }
                if attempt(candidates) {
                    progress = true
                    n = max(n - 1, 2)
                    continue
                }
                if n >= flat.count { break }
                n = min(n * 2, flat.count)
            }
            if attempt(Self.simplifications(of: best.workload)) { progress = true }
        }
        return best
    }

    static func flatten(_ w: Workload) -> [(Int, Int)] {
        w.processes.enumerated().flatMap { p in p.element.indices.map { (p.offset, $0) } }
    }

    static func removing(steps: Set<String>, from w: Workload) -> Workload {
        var out = w
        for p in w.processes.indices {
            out.processes[p] = w.processes[p].enumerated().filter { !steps.contains("\(p):\($0.offset)") }.map(\.element)
        }
        return out
    }

    /// Without process `k`: its spawn steps go, and targets naming it name a missing pid.
    static func removing(process k: Int, from w: Workload) -> Workload {
        func retarget(_ t: FuzzTarget) -> FuzzTarget {
            guard case .process(let i) = t else { return t }
            if i == k { return .missing(1_000_000) }
            return .process(i > k ? i - 1 : i)
        }
        var procs: [[FuzzStep]] = []
        for (i, steps) in w.processes.enumerated() where i != k {
            procs.append(
                steps.compactMap { s -> FuzzStep? in
                    switch s {
                    case .spawn(let c, let link):
                        if c == k { return nil }
                        return .spawn(child: c > k ? c - 1 : c, link: link)
                    case .send(let t): return .send(retarget(t))
                    case .skipSearch(let t, let to): return .skipSearch(retarget(t), to)
                    case .link(let tag, let t): return .link(tag: tag, retarget(t))
                    case .unlink(let t): return .unlink(retarget(t))
                    case .kill(let t): return .kill(retarget(t))
                    default: return s
                    }
                })
        }
        return Workload(seed: w.seed, processes: procs)
    }

    /// Process 1 as the root instead of process 0 (which loses its other steps but keeps
    /// spawning its other children), when process 0 spawns process 1.
    static func promoting(_ w: Workload) -> Workload? {
        guard w.processes.count > 1,
            w.processes[0].contains(.spawn(child: 1, link: 0))
                || w.processes[0].contains(where: { if case .spawn(1, _) = $0 { return true } else { return false } })
        else { return nil }
        var out = w
        let others = w.processes[0].filter { if case .spawn(let c, _) = $0 { return c != 1 } else { return false } }
        out.processes[1] = others + w.processes[1]
        out.processes[0] = [.spawn(child: 1, link: 0)]
        let removed = removing(process: 0, from: out)
        return removed
    }

    /// Process `k` folded into the process that spawns it: its steps replace the spawn step
    /// (or, `atEnd`, come after the parent's own steps, so that what the child waited for has
    /// been sent by then), and whatever named either of them names the merged process.
    static func merging(_ k: Int, in w: Workload, atEnd: Bool = false) -> Workload? {
        guard
            let parent = w.processes.indices.first(where: { j in
                w.processes[j].contains { if case .spawn(let c, _) = $0 { return c == k } else { return false } }
            }), parent != k
        else { return nil }
        var out = w
        let child = w.processes[k].map { step -> FuzzStep in
            switch step {
            case .send(let t): return .send(t == .process(parent) ? .me : t)
            case .skipSearch(let t, let to): return .skipSearch(t == .process(parent) ? .me : t, to)
            case .link(let tag, let t): return .link(tag: tag, t == .process(parent) ? .me : t)
            case .unlink(let t): return .unlink(t == .process(parent) ? .me : t)
            case .kill(let t): return .kill(t == .process(parent) ? .me : t)
            default: return step
            }
        }
        var merged: [FuzzStep] = []
        for step in w.processes[parent] {
            if case .spawn(let c, _) = step, c == k {
                if !atEnd { merged += child }
                continue
            }
            switch step {
            case .send(let t): merged.append(.send(t == .process(k) ? .me : t))
            case .skipSearch(let t, let to): merged.append(.skipSearch(t == .process(k) ? .me : t, to))
            default: merged.append(step)
            }
        }
        if atEnd { merged += child }
        out.processes[parent] = merged
        // Others naming the child now name the parent.
        for p in out.processes.indices where p != parent && p != k {
            out.processes[p] = out.processes[p].map { step in
                switch step {
                case .send(.process(k)): return .send(.process(parent))
                case .skipSearch(.process(k), let to): return .skipSearch(.process(parent), to)
                case .kill(.process(k)): return .kill(.process(parent))
                case .link(let tag, .process(k)): return .link(tag: tag, .process(parent))
                case .unlink(.process(k)): return .unlink(.process(parent))
                default: return step
                }
            }
        }
        // Spawns the child made must stay after the parent's index: only merge then.
        for case .spawn(let c, _) in w.processes[k] where c <= parent { return nil }
        return removing(process: k, from: out)
    }

    /// Drops processes that no reachable spawn step starts (they never run).
    static func normalized(_ w: Workload) -> Workload {
        var out = w
        while true {
            var reachable: Set<Int> = out.processes.isEmpty ? [] : [0]
            var changed = true
            while changed {
                changed = false
                for p in reachable.sorted() {
                    for case .spawn(let c, _) in out.processes[p] where c > p && c < out.processes.count && !reachable.contains(c)
                    {
                        reachable.insert(c)
                        changed = true
                    }
                }
            }
            guard let k = out.processes.indices.reversed().first(where: { !reachable.contains($0) }) else { return out }
            out = removing(process: k, from: out)
        }
    }

    /// One-value changes: smaller writes and reads, zero capacities, shorter timeouts and tag
    /// sets, smaller tags.
    static func simplifications(of w: Workload) -> [Workload] {
        var out: [Workload] = []
        for (p, steps) in w.processes.enumerated() {
            for (i, s) in steps.enumerated() {
                var repl: [FuzzStep] = []
                switch s {
                case .writeData(let count, let fill):
                    if count > 1 { repl.append(.writeData(count: count / 2, fill: fill)) }
                    if count > 0 { repl.append(.writeData(count: 0, fill: fill)) }
                    if fill != 0 { repl.append(.writeData(count: count, fill: 0)) }
                case .readData(let count) where count > 1:
                    repl.append(.readData(count: count / 2))
                case .createData(let tag, let cap):
                    if cap != 0 { repl.append(.createData(tag: tag, capacity: 0)) }
                    if tag > 1 { repl.append(.createData(tag: 1, capacity: cap)) }
                case .receive(let tags, let t):
                    if tags.count > 1 {
                        for j in tags.indices { var tt = tags; tt.remove(at: j); repl.append(.receive(tags: tt, t)) }
                    }
                    if case .ms(let n) = t, n > 1 { repl.append(.receive(tags: tags, .ms(n / 2))) }
                case .skipSearch(let target, .ms(let n)) where n > 1:
                    repl.append(.skipSearch(target, .ms(n / 2)))
                case .spawn(let c, let link) where link != 0 && link != 1:
                    repl.append(.spawn(child: c, link: 1))
                case .send(let t):
                    if t != .me { repl.append(.send(.me)) }
                    if case .missing = t {} else { repl.append(.send(.missing(1_000))) }
                default:
                    break
                }
                for r in repl {
                    var c = w
                    c.processes[p][i] = r
                    out.append(c)
                }
            }
        }
        return out
    }
}
