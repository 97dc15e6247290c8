import Foundation
import LunaSupport
import TraceFormat

/// Replays traces against one adapter command, trace after trace, and collects the outcomes.
///
/// One adapter process serves many traces (with `reset` between them). When it fails (crash,
/// hang, garbage, unknown id, no handshake) the trace fails with a report that includes its last
/// stderr lines, the child is killed and reaped, and a fresh one serves the next trace.
public struct ConformanceRunner: Sendable {
    /// How to start the adapter.
    public var adapter: AdapterClient.Options
    /// Call and trace timeouts.
    public var replay: ReplayOptions
    /// Known failures.
    public var expectations: ExpectationFile?
    /// Whether a trace without its closing summary (a crashed recorder, a cut file) is replayed
    /// as far as it goes; otherwise it fails unreplayed, saying what was recovered.
    public var allowIncomplete = false

    /// Creates a runner.
    public init(adapter: AdapterClient.Options, replay: ReplayOptions = .init(), expectations: ExpectationFile? = nil) {
        self.adapter = adapter
        self.replay = replay
        self.expectations = expectations
    }

    /// Replays every source in order; `progress` sees each outcome as it is decided.
    public func run(_ sources: [TraceSource], progress: ((TraceOutcome) -> Void)? = nil) -> ConformanceReport {
        var client: AdapterClient? = nil
        var handshake: AdapterHandshake? = nil
        var outcomes: [TraceOutcome] = []
        defer { client?.terminate() }
        for source in sources {
            let started = MonotonicClock.now()
            var outcome = replayOne(source, client: &client)
            if handshake == nil { handshake = client?.handshake }
            outcome.seconds = Double(MonotonicClock.now() - started) / 1e9
            if let expectations { outcome = expectations.apply(to: outcome) }
            outcomes.append(outcome)
            progress?(outcome)
        }
        return ConformanceReport(
            adapterCommand: adapter.command, adapterName: handshake.map { "\($0.name) \($0.version)" },
            outcomes: outcomes)
    }

    /// What `run(_:before:outcome:)` does with the next source.
    public enum Step: Sendable {
        /// Replay it.
        case replay
        /// Leave it out (no outcome).
        case skip
        /// Replay nothing more.
        case stop
    }

    /// Replays sources in order through one adapter process, asking `before` about each first
    /// (so a caller can leave out sources that another run has already decided, or stop once
    /// it has its answer); `outcome` sees each replayed source's index and outcome.
    public func run(_ sources: [TraceSource], before: (Int) -> Step, outcome: (Int, TraceOutcome) -> Void) {
        var client: AdapterClient? = nil
        defer { client?.terminate() }
        loop: for (i, source) in sources.enumerated() {
            switch before(i) {
            case .replay: break
            case .skip: continue loop
            case .stop: break loop
            }
            let started = MonotonicClock.now()
            var o = replayOne(source, client: &client)
            o.seconds = Double(MonotonicClock.now() - started) / 1e9
            if let expectations { o = expectations.apply(to: o) }
            outcome(i, o)
        }
    }

    private func replayOne(_ source: TraceSource, client: inout AdapterClient?) -> TraceOutcome {
        // Plan first: a trace that cannot be read fails without touching the adapter.
        let plan: ReplayPlan
        do {
            plan = ReplayPlan(try source.makeIterator())
        } catch {
            return TraceOutcome(name: source.name, status: .failed, note: "cannot read the trace: \(error)")
        }
        if let err = source.readError {
            return TraceOutcome(name: source.name, status: .failed, note: "corrupt trace: \(err)", eventCount: plan.eventCount)
        }
        let incomplete = source.incompleteness
        if let incomplete, !allowIncomplete {
            return TraceOutcome(
                name: source.name, status: .failed,
                note: incomplete + " (not replayed; allow incomplete traces to replay the recovered events)",
                eventCount: plan.eventCount)
        }
        if client == nil {
            do {
                client = try AdapterClient(options: adapter)
            } catch {
                return TraceOutcome(name: source.name, status: .failed, adapterFailure: error, eventCount: plan.eventCount)
            }
        }
        let c = client!
        let missingKinds = plan.resourceKinds.subtracting(c.handshake.resourceKinds).sorted()
        let missingNamespaces = plan.namespaces.subtracting(c.handshake.namespaces).sorted()
        if !missingKinds.isEmpty || !missingNamespaces.isEmpty {
            var why: [String] = []
            if !missingKinds.isEmpty { why.append("resource kinds \(missingKinds.joined(separator: ", "))") }
            if !missingNamespaces.isEmpty { why.append("namespaces \(missingNamespaces.joined(separator: ", "))") }
            return TraceOutcome(
                name: source.name, status: .skipped,
                note: "the adapter does not support " + why.joined(separator: " and "),
                eventCount: plan.eventCount)
        }
        let engine = ReplayEngine(client: c, options: replay)
        var failure: AdapterFailure? = nil
        do {
            try engine.run(source, plan: plan)
        } catch {
            failure = error
            c.terminate()
            // The child has now been reaped and its stderr read to the end: take the tail again,
            // so lines written just before the failure are not lost to the reader thread's lag.
            failure?.stderrTail = c.stderrTail()
            client = nil
        }
        if failure == nil, !engine.timingDivergences.isEmpty {
            failure = confirmTimingDivergences(engine, source, plan: plan, client: &client)
        }
        if let why = engine.unreplayable, failure == nil {
            return TraceOutcome(
                name: source.name, status: .skipped, note: why, eventCount: plan.eventCount,
                requestCount: engine.requestCount)
        }
        var note = ""
        if let err = source.readError { note = "corrupt trace: \(err)" }
        let failed = failure != nil || !engine.divergences.isEmpty || !note.isEmpty
        if let incomplete, note.isEmpty { note = incomplete + " (allowed: the recovered events were replayed)" }
        return TraceOutcome(
            name: source.name, status: failed ? .failed : .passed, divergences: engine.divergences,
            adapterFailure: failure, note: note, eventCount: plan.eventCount,
            requestCount: engine.requestCount)
    }

    /// Divergences a busy machine can cause (a late timeout, a finite wait that timed out before
    /// its message came) are replayed again: one is reported only when it comes back in every
    /// one of three replays (a machine busy for a moment must not make a false alarm). When the
    /// first divergence of every process was such a one and a replay again passes cleanly, the
    /// rest followed from it and the trace passes. Returns an adapter failure met on the way.
    private func confirmTimingDivergences(
        _ engine: ReplayEngine, _ source: TraceSource, plan: ReplayPlan,
        client: inout AdapterClient?
    ) -> AdapterFailure? {
        var confirmed = Set(engine.timingDivergences.map { engine.divergences[$0].eventIndex })
        var failure: AdapterFailure? = nil
        var cleanReplay = false
        for _ in 0..<2 where !confirmed.isEmpty {
            guard let c = client else { break }
            let again = ReplayEngine(client: c, options: replay)
            do {
                try again.run(source, plan: plan)
            } catch {
                failure = error
                c.terminate()
                failure?.stderrTail = c.stderrTail()
                client = nil
                break
            }
            confirmed.formIntersection(again.timingDivergences.map { again.divergences[$0].eventIndex })
            if again.divergences.isEmpty { cleanReplay = true }
        }
        let timing = Set(engine.timingDivergences)
        let firstCauses = engine.divergences.indices.filter { !engine.divergences[$0].isConsequence }
        if cleanReplay, failure == nil,
            firstCauses.allSatisfy({ timing.contains($0) && !confirmed.contains(engine.divergences[$0].eventIndex) })
        {
            engine.divergences = []
            return nil
        }
        let drop = Set(engine.timingDivergences.filter { !confirmed.contains(engine.divergences[$0].eventIndex) })
        engine.divergences = engine.divergences.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
        return failure
    }

    /// Part `index` (1-based) of `count` of `paths`: every count-th path from the index-th, so
    /// runners given the same list cover each path exactly once and the parts differ in size by
    /// at most one.
    public static func shard(_ paths: [String], index: Int, of count: Int) -> [String] {
        paths.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    /// Expands paths: a directory stands for every trace file in it (recursively, sorted by
    /// path); a file is taken as given.
    public static func expand(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                throw ConformanceError("no such file or directory: \(path)")
            }
            if !isDir.boolValue { out.append(path); continue }
            guard let walker = fm.enumerator(atPath: path) else { throw ConformanceError("cannot list \(path)") }
            var found: [String] = []
            while let rel = walker.nextObject() as? String {
                let full = (path as NSString).appendingPathComponent(rel)
                var sub: ObjCBool = false
                if fm.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue, isTraceFile(full) { found.append(full) }
            }
            out.append(contentsOf: found.sorted())
        }
        return out
    }

    /// Whether a file starts like a trace file (the header's skippable-frame magic) or is
    /// named `*.trace`.
    public static func isTraceFile(_ path: String) -> Bool {
        if path.hasSuffix(TraceFileName.suffix) { return true }
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 4)) ?? Data()
        return head.count == 4 && [UInt8](head) == [0x50, 0x2A, 0x4D, 0x18]
    }
}

/// A usage error of luna-conform (bad path, bad option).
public struct ConformanceError: Error, Sendable, CustomStringConvertible {
    /// The message.
    public var description: String
    /// Creates one.
    public init(_ description: String) { self.description = description }
}
