import ConformanceKit
import Foundation
import LunaSupport
import TraceFormat

/// Judges candidate traces: the same failure against the adapter under test and, when a
/// reference adapter is given, no divergence there (so that every candidate is a trace the
/// reference semantics could have recorded, not an artefact of cutting events out).
public struct ShrinkOracle: Sendable {
    /// The adapter under test.
    public var adapter: AdapterClient.Options
    /// The reference adapter, or nil to trust candidates.
    public var reference: AdapterClient.Options?
    /// Replay limits.
    public var replay: ReplayOptions
    /// The failure to keep.
    public var signature: FailureSignature

    /// Creates an oracle.
    public init(
        adapter: AdapterClient.Options, reference: AdapterClient.Options?, replay: ReplayOptions,
        signature: FailureSignature
    ) {
        self.adapter = adapter
        self.reference = reference
        self.replay = replay
        self.signature = signature
    }

    /// The index of the first candidate that still fails the same way (with its outcome), or
    /// nil. The adapter under test and the reference replay the candidates at the same time,
    /// each through one adapter process, in order; each leaves out what the other has ruled
    /// out, and both stop once the answer is known.
    public func firstFailing(_ candidates: [[TraceEvent]]) -> (index: Int, outcome: TraceOutcome)? {
        if candidates.isEmpty { return nil }
        let sources = candidates.enumerated().map { TraceSource.events($0.element, name: "candidate \($0.offset)") }
        let verdicts = CandidateVerdicts(count: candidates.count, checksReference: reference != nil)
        let signature = self.signature
        let underTest = ConformanceRunner(adapter: adapter, replay: replay)
        func runUnderTest() {
            underTest.run(
                sources, before: { verdicts.step(reference: false, $0) },
                outcome: { i, o in
                    verdicts.set(reference: false, i, FailureSignature(o) == signature ? o : nil)
                })
        }
        guard let reference else {
            runUnderTest()
            return verdicts.answer()
        }
        let referenceRunner = ConformanceRunner(adapter: reference, replay: replay)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            referenceRunner.run(
                sources, before: { verdicts.step(reference: true, $0) },
                outcome: { i, o in
                    verdicts.set(reference: true, i, o.status == .passed ? o : nil)
                })
            done.signal()
        }
        thread.stackSize = 16 << 20
        thread.start()
        runUnderTest()
        done.wait()
        return verdicts.answer()
    }
}

/// What the two replays of `ShrinkOracle.firstFailing` have found so far, shared between them.
/// `@unchecked Sendable`: every field is guarded by `lock`.
final class CandidateVerdicts: @unchecked Sendable {
    private let lock = ConditionLock()
    /// Per candidate: nil while not replayed; the outcome when it fails the same way (adapter
    /// under test) or passes (reference); `.none` inside when it does not.
    private var underTest: [TraceOutcome??]
    private var reference: [Bool?]

    init(count: Int, checksReference: Bool) {
        underTest = Array(repeating: nil, count: count)
        reference = Array(repeating: checksReference ? nil : true, count: count)
    }

    func set(reference isReference: Bool, _ i: Int, _ outcome: TraceOutcome?) {
        lock.withLock {
            if isReference { reference[i] = outcome != nil } else { underTest[i] = .some(outcome) }
        }
    }

    /// Whether replay `reference` should replay candidate `i`.
    func step(reference isReference: Bool, _ i: Int) -> ConformanceRunner.Step {
        lock.withLock {
            switch decided() {
            case .found, .none: return .stop
            case .open(let first):
                if i < first { return .skip }
                let ruledOut = isReference ? underTest[i].map { $0 == nil } ?? false : reference[i] == false
                return ruledOut ? .skip : .replay
            }
        }
    }

    /// The first candidate that fails the same way and passes the reference, once known.
    func answer() -> (index: Int, outcome: TraceOutcome)? {
        lock.withLock {
            if case .found(let i, let o) = decided() { return (i, o) }
            return nil
        }
    }

    private enum Decision {
        case found(Int, TraceOutcome)
        case none
        /// Undecided; candidates before `first` are ruled out.
        case open(first: Int)
    }

    private func decided() -> Decision {
        for i in underTest.indices {
            if reference[i] == false { continue }
            guard let u = underTest[i] else { return .open(first: i) }
            guard let o = u else { continue }
            guard reference[i] == true else { return .open(first: i) }
            return .found(i, o)
        }
        return .none
    }
}

/// Shrinks a failing trace to a small one that fails the same way (delta debugging over its
/// events, removing each chosen event together with everything that needs it).
public struct TraceShrinker: Sendable {
    /// Judges candidates.
    public var oracle: ShrinkOracle
    /// Stop after this many seconds with the best trace so far.
    public var timeLimit: Double
    /// Called with progress lines.
    public var log: (@Sendable (String) -> Void)?

    /// Creates a shrinker.
    public init(oracle: ShrinkOracle, timeLimit: Double = 60, log: (@Sendable (String) -> Void)? = nil) {
        self.oracle = oracle
        self.timeLimit = timeLimit
        self.log = log
    }

    /// The result of shrinking.
    public struct Result: Sendable {
        /// The smallest failing trace found.
        public var events: [TraceEvent]
        /// Its replay against the adapter under test.
        public var outcome: TraceOutcome?
        /// Candidate traces tried.
        public var tries: Int
    }

    /// Shrinks `events`, whose first divergence is at `divergenceIndex` (nil: unknown).
    ///
    /// Stages: the backward slice of the divergent call (without, then with, its process's
    /// earlier calls); whole processes (each spawn with everything that needs it); delta
    /// debugging over events. Candidates have their resource ids renumbered densely
    /// (`compactingResourceIDs`) once a compacted slice is seen to fail the same way, so that
    /// the replay does not create the resources of the takes that were cut.
    public func shrink(_ original: [TraceEvent], divergenceIndex: Int?) -> Result {
        let deadline = MonotonicClock.deadline(after: timeLimit)
        var tries = 0
        // Everything after the first divergence can go; so can events the replay never sends.
        let cut = divergenceIndex.map { min($0 + 1, original.count) } ?? original.count
        let events = Array(original[..<cut]).filter(TraceDependencies.isReplayed)
        let deps = TraceDependencies(events)
        var best: (kept: [Int], outcome: TraceOutcome?) = (Array(events.indices), nil)
        var compact = false
        func materialize(_ kept: [Int], compact: Bool) -> [TraceEvent] {
            let picked = kept.map { events[$0] }
            return compact ? Self.compactingResourceIDs(picked) : picked
        }
        func materialize(_ kept: [Int]) -> [TraceEvent] { materialize(kept, compact: compact) }
        /// The first of `candidates` that fails the same way, tried in batches of 16.
        func firstFailing(_ candidates: [[Int]]) -> (kept: [Int], outcome: TraceOutcome)? {
            var offset = 0
            while offset < candidates.count && MonotonicClock.now() < deadline {
                let batch = Array(candidates[offset..<min(offset + 16, candidates.count)])
                tries += batch.count
                if let (i, o) = oracle.firstFailing(batch.map(materialize)) { return (batch[i], o) }
                offset += 16
            }
            return nil
        }

        // First try: only what the divergent call needs, then also its process's earlier calls;
        // each with compacted resource ids first.
        let target = events.count - 1
        if target >= 0, let divergentPid = events.last?.pid {
            var wanted = [target]
            for (i, e) in events.enumerated() where e.pid == divergentPid { wanted.append(i) }
            let sliceOnly = deps.backwardClosure(of: [target]).sorted()
            let slice = deps.backwardClosure(of: wanted).sorted()
            var slices = [sliceOnly]
            if slice != sliceOnly { slices.append(slice) }
            for s in slices where s.count < events.count && best.outcome == nil && MonotonicClock.now() < deadline {
                for c in [true, false] {
                    tries += 1
                    if let (_, o) = oracle.firstFailing([materialize(s, compact: c)]) {
                        best = (s, o)
                        compact = c
                        log?("slice of \(s.count) events still fails")
                        break
                    }
                }
            }
        }
        // Whole processes: drop a spawn and everything that needs it, smallest result first,
        // until no process can go.
        while MonotonicClock.now() < deadline {
            let keptSet = Set(best.kept)
            let candidates = best.kept.filter { events[$0].kind == .spawn }
                .map { spawn -> [Int] in
                    let gone = deps.closure(removing: [spawn], from: keptSet)
                    return best.kept.filter { !gone.contains($0) }
                }
                .filter { !$0.isEmpty && $0.last == best.kept.last }
                .sorted { $0.count < $1.count }
            guard let (kept, o) = firstFailing(candidates) else { break }
            best = (kept, o)
            log?("\(best.kept.count) events still fail (a process removed)")
        }
        // ddmin on complements.
        var n = 2
        while best.kept.count >= 2 && MonotonicClock.now() < deadline {
            let kept = best.kept
            let keptSet = Set(kept)
            let chunk = (kept.count + n - 1) / n
            var candidates: [[Int]] = []
            var start = 0
            while start < kept.count {
                let removed = Array(kept[start..<min(start + chunk, kept.count)])
                let gone = deps.closure(removing: removed, from: keptSet)
                let rest = kept.filter { !gone.contains($0) }
                if !rest.isEmpty && rest.count < kept.count { candidates.append(rest) }
                start += chunk
            }
            // Smallest first: the biggest cut that still fails wins.
            candidates.sort { $0.count < $1.count }
            if let (k, o) = firstFailing(candidates) {
                best = (k, o)
                log?("\(best.kept.count) events still fail")
                n = max(n - 1, 2)
                continue
            }
            if n >= kept.count { break }
            n = min(n * 2, kept.count)
        }
        // Renumbered resource ids, if the slice did not already settle that.
        if !compact && MonotonicClock.now() < deadline {
            tries += 1
            if let (_, o) = oracle.firstFailing([materialize(best.kept, compact: true)]) {
                compact = true
                best.outcome = o
            }
        }
        var outcome = best.outcome
        if outcome == nil {
            let report = ConformanceRunner(adapter: oracle.adapter, replay: oracle.replay)
                .run([TraceSource.events(materialize(best.kept), name: "shrunk")])
            outcome = report.outcomes.first
        }
        return Result(events: materialize(best.kept), outcome: outcome, tries: tries)
    }
}
