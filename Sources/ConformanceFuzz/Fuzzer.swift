import ConformanceKit
import Foundation
import LunaSupport
import TraceFormat

/// The fuzzing loop: generate seeded workloads, record each on LunaRuntime, replay the traces
/// against an adapter, and on the first divergence shrink it and write the minimal case.
public struct Fuzzer: Sendable {
    /// What to run.
    public struct Options: Sendable {
        /// The adapter under test.
        public var adapter: [String]
        /// A reference adapter (LunaRuntime's built-in one) whose answers the minimal case
        /// lists as expected and which validates trace-level shrinking; nil = none.
        public var reference: [String]?
        /// The first seed.
        public var seed: UInt64 = 1
        /// Stop after this many workloads (nil: only the time limit).
        public var count: Int?
        /// Stop after this many seconds (nil: only the count).
        public var time: Double?
        /// This shard (index, count): workload k of the run has seed `seed + index + k·count`.
        public var shard: (index: Int, count: Int) = (0, 1)
        /// Where to write minimal cases (nil: nowhere).
        public var outputDirectory: String?
        /// Replay limits.
        public var replay = ReplayOptions(callTimeout: 2, traceTimeout: 60)
        /// Generator knobs.
        public var generator = WorkloadGenerator.Options()
        /// Workloads recorded and replayed per adapter process.
        public var batch = 32
        /// Workloads recorded at the same time, and adapter processes replaying at the same time.
        /// Most of a workload's time is waiting (timeouts that really elapse, round trips to the
        /// adapter), so a few at once go faster even on few cores.
        public var jobs = 4
        /// Whether a workload that fails against the adapter but also diverges on the reference
        /// counts as a divergence of Luna itself (recorder, replay engine or reference), is
        /// listed as such and does not stop the run. With `knownCauses` it stops the run instead:
        /// such a run is meant to fail on everything but the causes it lists.
        public var filterWithReference = true
        /// Open causes of the adapter under test: a workload whose first divergence matches one,
        /// and whose trace the reference (if any) replays cleanly, is reported as that cause and
        /// skipped; the run goes on.
        public var knownCauses: [KnownCause] = []
        /// Run the trap-free ring workload of this many rounds (`Workload.ring`) for every seed
        /// instead of generated ones: a long trace for soak tests and shrinking benchmarks.
        public var ringRounds: Int?
        /// Whether to shrink a failure.
        public var shrink = true
        /// Seconds for each of the two shrinking stages.
        public var shrinkTime: Double = 30

        /// Options for `adapter`.
        public init(adapter: [String]) { self.adapter = adapter }
    }

    /// A divergence found, shrunk.
    public struct Failure: Sendable {
        /// The workload's seed.
        public var seed: UInt64
        /// The first divergence's category and rule.
        public var signature: FailureSignature
        /// The replay of the original workload.
        public var outcome: TraceOutcome
        /// The shrunk workload (nil when not shrunk).
        public var shrunkWorkload: Workload?
        /// The shrunk trace and its replay.
        public var shrunkEvents: [TraceEvent]
        public var shrunkOutcome: TraceOutcome?
        /// The minimal case's files, when written.
        public var files: MinimalCase.Files?
        /// Seconds from the start of the run until the failing replay.
        public var foundAfter: Double
        /// Seconds spent shrinking.
        public var shrinkSeconds: Double
        /// Smaller workloads that failed the same way while shrinking (nil when not shrunk; 0:
        /// the failure never came back, so `shrunkWorkload` is the original).
        public var shrinkReproductions: Int? = nil
    }

    /// What a run did.
    public struct Result: Sendable {
        /// One outcome per workload replayed, named `seed N`.
        public var outcomes: [TraceOutcome]
        /// The first failure, shrunk.
        public var failure: Failure?
        /// Wall time of the whole run (shrinking included).
        public var seconds: Double
        /// Wall time of generating, recording and replaying (no shrinking).
        public var fuzzSeconds: Double
        /// Wall time the recording thread spent recording batches (it overlaps the replay).
        public var recordingSeconds: Double = 0
        /// Wall time spent replaying batches (on the reference adapter too, when it is asked).
        public var replaySeconds: Double = 0
        /// Workloads that diverged on the reference adapter too (Luna's own divergences), with
        /// the reference's outcome.
        public var referenceFailures: [(seed: UInt64, outcome: TraceOutcome)] = []
        /// Workloads that hit a known cause of the adapter (`Options.knownCauses`).
        public var knownCauseHits: [(seed: UInt64, cause: KnownCause, outcome: TraceOutcome)] = []
    }

    /// The options.
    public var options: Options
    /// Progress lines.
    public var log: (@Sendable (String) -> Void)?

    /// A fuzzer.
    public init(options: Options, log: (@Sendable (String) -> Void)? = nil) {
        self.options = options
        self.log = log
    }

    /// The seed of workload `k` of this run.
    public func seed(_ k: Int) -> UInt64 {
        options.seed &+ UInt64(options.shard.index) &+ UInt64(k) &* UInt64(max(options.shard.count, 1))
    }

    /// Runs until the count or time is used up, or a workload fails.
    public func run(progress: ((TraceOutcome) -> Void)? = nil) -> Result {
        let start = MonotonicClock.now()
        let deadline = options.time.map { MonotonicClock.deadline(after: $0) }
        let generator = WorkloadGenerator(options: options.generator)
        let recorder = WorkloadRecorder(deadline: options.ringRounds == nil ? 5 : 300)
        var outcomes: [TraceOutcome] = []
        var referenceFailures: [(seed: UInt64, outcome: TraceOutcome)] = []
        var knownCauseHits: [(seed: UInt64, cause: KnownCause, outcome: TraceOutcome)] = []
        var failing: (Workload, [TraceEvent], TraceOutcome)? = nil
        // Recording runs one batch ahead on its own thread, so that it overlaps the replay.
        let producer = BatchProducer()
        let opts = options
        let fuzzer = self
        var replayNs: UInt64 = 0
        let thread = Thread {
            var k = 0
            func more() -> Bool {
                if let c = opts.count, k >= c { return false }
                if let deadline, MonotonicClock.now() >= deadline { return false }
                return opts.count != nil || deadline != nil
            }
            while more() && !producer.stopped {
                // Small batches first, so that a failure among the first seeds is reported at once.
                let size = min(opts.batch, 2 << min(k / 8, 4))
                var workloads: [Workload] = []
                while workloads.count < size && more() {
                    let seed = fuzzer.seed(k)
                    workloads.append(
                        opts.ringRounds.map { Workload.ring(processes: 4, rounds: $0, seed: seed) }
                            ?? generator.generate(seed: seed))
                    k += 1
                }
                let started = MonotonicClock.now()
                let recordings = Parallel.map(workloads, jobs: opts.jobs) { recorder.record($0) }
                producer.addRecording(MonotonicClock.now() - started)
                if !producer.put(Array(zip(workloads, recordings))) { break }
            }
            producer.finish()
        }
        thread.stackSize = 8 << 20
        thread.start()
        defer { producer.stop() }
        while failing == nil, let recorded = producer.take() {
            var batch: [(Workload, [TraceEvent])] = []
            var sources: [TraceSource] = []
            for (w, r) in recorded {
                if !r.endedCleanly {
                    // LunaRuntime itself did not finish the workload: a bug in Luna, reported as such.
                    let o = TraceOutcome(
                        name: "seed \(w.seed)", status: .failed,
                        note: "LunaRuntime did not end this workload within \(recorder.deadline) s (\(r.processStates))")
                    outcomes.append(o)
                    progress?(o)
                    failing = (w, r.events, o)
                    break
                }
                batch.append((w, r.events))
                sources.append(TraceSource.events(r.events, name: "seed \(w.seed)"))
            }
            if sources.isEmpty { break }
            let replayStarted = MonotonicClock.now()
            defer { replayNs += MonotonicClock.now() - replayStarted }
            let report = Self.replay(
                sources, adapter: .init(command: options.adapter), replay: options.replay, jobs: options.jobs)
            var failed = zip(batch, report.outcomes).filter { $0.1.countsAsFailure }.map(\.0.0.seed)
            var referenceOutcomes: [UInt64: TraceOutcome] = [:]
            if let reference = options.reference, options.filterWithReference, !failed.isEmpty {
                let again = batch.filter { failed.contains($0.0.seed) }
                let r = Self.replay(
                    again.map { TraceSource.events($0.1, name: "seed \($0.0.seed)") }, adapter: .init(command: reference),
                    replay: options.replay, jobs: options.jobs)
                for (b, o) in zip(again, r.outcomes) where o.countsAsFailure { referenceOutcomes[b.0.seed] = o }
                failed.removeAll { referenceOutcomes[$0] != nil }
            }
            for (b, o) in zip(batch, report.outcomes) {
                var o = o
                if let ro = referenceOutcomes[b.0.seed] {
                    referenceFailures.append((b.0.seed, ro))
                    log?(
                        "seed \(b.0.seed): the reference adapter diverges too (\(FailureSignature(ro).map(\.description) ?? "?")): a divergence of Luna, not of the adapter"
                    )
                    if options.knownCauses.isEmpty {
                        o.status = .skipped
                        o.note = "the reference adapter diverges on this trace too: " + (ro.firstCauses.first?.line ?? ro.note)
                    } else {
                        o.note =
                            "the reference adapter diverges on this trace too (a divergence of Luna itself): "
                            + (ro.firstCauses.first?.line ?? ro.note)
                    }
                } else if o.countsAsFailure, let cause = options.knownCauses.first(where: { $0.matches(o) }) {
                    knownCauseHits.append((b.0.seed, cause, o))
                    o.status = .skipped
                    o.note =
                        "known cause \(cause.label) of this adapter: "
                        + (o.firstCauses.first?.line ?? o.adapterFailure?.description ?? o.note)
                }
                outcomes.append(o)
                progress?(o)
                if failing == nil, o.countsAsFailure { failing = (b.0, b.1, o) }
            }
        }
        let fuzzSeconds = Double(MonotonicClock.now() - start) / 1e9
        producer.stop()
        var result = Result(
            outcomes: outcomes, failure: nil, seconds: 0, fuzzSeconds: fuzzSeconds,
            recordingSeconds: Double(producer.recordingNs) / 1e9, replaySeconds: Double(replayNs) / 1e9,
            referenceFailures: referenceFailures, knownCauseHits: knownCauseHits)
        if let (w, events, o) = failing, let signature = FailureSignature(o) {
            result.failure = handle(w, events, o, signature, foundAfter: fuzzSeconds)
        }
        result.seconds = Double(MonotonicClock.now() - start) / 1e9
        return result
    }

    /// Replays `sources` through up to `jobs` adapter processes at once, each taking the next
    /// source nobody has taken yet (so one slow replay does not hold up the sources behind it);
    /// the outcomes come back in the order of `sources`.
    static func replay(
        _ sources: [TraceSource], adapter: AdapterClient.Options, replay: ReplayOptions, jobs: Int
    ) -> ConformanceReport {
        let parts = max(1, min(jobs, sources.count))
        let runner = ConformanceRunner(adapter: adapter, replay: replay)
        if parts == 1 { return runner.run(sources) }
        let claims = ResultSlots<Bool>(count: sources.count)
        let outcomes = ResultSlots<TraceOutcome>(count: sources.count)
        _ = Parallel.map(Array(0..<parts), jobs: parts) { _ in
            runner.run(sources, before: { claims.claim($0, true) ? .replay : .skip }, outcome: { outcomes.set($0, $1) })
        }
        return ConformanceReport(adapterCommand: adapter.command, adapterName: nil, outcomes: outcomes.all())
    }

    /// Shrinks a failing workload and writes its minimal case.
    func handle(
        _ w: Workload, _ events: [TraceEvent], _ o: TraceOutcome, _ signature: FailureSignature,
        foundAfter: Double
    ) -> Failure {
        let started = MonotonicClock.now()
        var failure = Failure(
            seed: w.seed, signature: signature, outcome: o, shrunkWorkload: nil, shrunkEvents: events,
            shrunkOutcome: o, files: nil, foundAfter: foundAfter, shrinkSeconds: 0)
        let adapter = AdapterClient.Options(command: options.adapter)
        if let dir = options.outputDirectory {
            // The trace that failed, as recorded: a race may not come back when the seed reruns.
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try? MinimalCase.writeTrace(events, to: (dir as NSString).appendingPathComponent("seed-\(w.seed).original.trace"))
        }
        if options.shrink && !o.divergences.isEmpty || options.shrink && o.adapterFailure != nil {
            log?("shrinking seed \(w.seed) (\(signature))")
            var ws = WorkloadShrinker(
                adapter: adapter, replay: options.replay, signature: signature,
                timeLimit: options.shrinkTime)
            ws.jobs = options.jobs
            let r = ws.shrink(w, events: events, outcome: o)
            failure.shrunkWorkload = r.workload
            failure.shrinkReproductions = r.reproductions
            failure.shrunkEvents = r.events
            failure.shrunkOutcome = r.outcome
            log?(
                "workload: \(w.stepCount) → \(r.workload.stepCount) steps, \(w.processes.count) → \(r.workload.processes.count) processes (\(r.tries) tries)"
            )
            let index = r.outcome.firstCauses.first?.eventIndex ?? r.outcome.divergences.first?.eventIndex
            let oracle = ShrinkOracle(
                adapter: adapter, reference: options.reference.map { .init(command: $0) },
                replay: options.replay, signature: signature)
            let t = TraceShrinker(oracle: oracle, timeLimit: options.shrinkTime).shrink(r.events, divergenceIndex: index)
            if let to = t.outcome, FailureSignature(to) == signature {
                failure.shrunkEvents = t.events
                failure.shrunkOutcome = to
            }
            log?("trace: \(r.events.count) → \(failure.shrunkEvents.count) events (\(t.tries) tries)")
        }
        failure.shrinkSeconds = Double(MonotonicClock.now() - started) / 1e9
        if let dir = options.outputDirectory {
            let header =
                [
                    "luna-conform fuzz: seed \(w.seed) diverges: \(signature)",
                    "adapter: \(options.adapter.joined(separator: " "))",
                ] + (failure.shrunkOutcome?.firstCauses.first.map { ["first cause: " + $0.line] } ?? [])
            failure.files = try? MinimalCase.write(
                events: failure.shrunkEvents, workload: failure.shrunkWorkload,
                header: header, adapter: options.adapter, reference: options.reference,
                replay: options.replay, directory: dir, base: "seed-\(w.seed)")
        }
        return failure
    }
}

/// Batches of recorded workloads handed from the recording thread to the replaying one, at
/// most one batch ahead. `@unchecked Sendable`: every field is guarded by `cond`.
final class BatchProducer: @unchecked Sendable {
    private let cond = ConditionLock()
    private var items: [[(Workload, WorkloadRecorder.Recording)]] = []
    private var done = false
    private var stopFlag = false
    private var recording: UInt64 = 0

    /// Nanoseconds the producer has spent recording.
    var recordingNs: UInt64 { cond.lock(); defer { cond.unlock() }; return recording }
    func addRecording(_ ns: UInt64) { cond.lock(); recording += ns; cond.unlock() }

    var stopped: Bool { cond.lock(); defer { cond.unlock() }; return stopFlag }

    /// Hands over a batch; false when the consumer has stopped.
    func put(_ batch: [(Workload, WorkloadRecorder.Recording)]) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        while items.count >= 1 && !stopFlag { cond.wait(untilMonotonicNs: nil) }
        if stopFlag { return false }
        items.append(batch)
        cond.broadcast()
        return true
    }

    /// The next batch, or nil when the producer has finished.
    func take() -> [(Workload, WorkloadRecorder.Recording)]? {
        cond.lock()
        defer { cond.unlock() }
        while items.isEmpty && !done { cond.wait(untilMonotonicNs: nil) }
        if items.isEmpty { return nil }
        let b = items.removeFirst()
        cond.broadcast()
        return b
    }

    func finish() { cond.lock(); done = true; cond.broadcast(); cond.unlock() }

    /// Tells the producer to stop and waits until it has.
    func stop() {
        cond.lock()
        stopFlag = true
        cond.broadcast()
        while !done { cond.wait(untilMonotonicNs: nil) }
        cond.unlock()
    }
}

/// Runs work on a few threads at once.
enum Parallel {
    /// `transform` of every element, computed on up to `jobs` threads (the calling one too),
    /// each taking the next element nobody has taken; the results come back in order.
    static func map<T: Sendable, R: Sendable>(_ items: [T], jobs: Int, _ transform: @escaping @Sendable (T) -> R) -> [R] {
        let threads = max(1, min(jobs, items.count))
        if threads <= 1 { return items.map(transform) }
        let results = ResultSlots<R>(count: items.count)
        let work: @Sendable () -> Void = {
            while let i = results.takeIndex() { results.set(i, transform(items[i])) }
        }
        let group = DispatchGroup()
        for _ in 1..<threads {
            group.enter()
            let thread = Thread {
                work()
                group.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        work()
        group.wait()
        return results.all()
    }
}

/// Results filled in by several threads. `@unchecked Sendable`: guarded by `lock`.
final class ResultSlots<R>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var slots: [R?]
    private var taken = 0
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    /// The next index no thread has taken yet, if any.
    func takeIndex() -> Int? {
        lock.withLock {
            guard taken < slots.count else { return nil }
            taken += 1
            return taken - 1
        }
    }
    func set(_ i: Int, _ r: R) { lock.withLock { slots[i] = r } }
    /// Fills slot `i` if it is empty; returns whether this call did.
    func claim(_ i: Int, _ r: R) -> Bool {
        lock.withLock {
            if slots[i] != nil { return false }
            slots[i] = r
            return true
        }
    }
    func all() -> [R] { lock.withLock { slots.map { $0! } } }
}
