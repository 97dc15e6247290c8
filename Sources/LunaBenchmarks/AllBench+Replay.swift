import ConformanceKit
import Foundation

extension AllBench {
    /// P4: replay ops/s of ReplayBench's synthetic trace through the built-in adapter, against
    /// lock-step `hello` request/responses (no work) over the same kind of pipe to the same
    /// adapter, both in this run.
    func replay(_ s: Sizes, _ report: BenchReport) throws {
        let command =
            adapter.map { $0.split(separator: " ").map(String.init) }
            ?? [ReplayBench.siblingLunaConform(), "adapter"]
        guard FileManager.default.isExecutableFile(atPath: command[0]) || adapter != nil else {
            throw BenchFailure(
                "P4 needs \(command[0]); build it (swift build -c release --product luna-conform) or pass --adapter")
        }
        let trace = ReplayBench.syntheticTrace(events: s.events)
        var replayRates: [Double] = [], lockStepRates: [Double] = []
        var requests = 0
        for _ in 0..<s.repeats {
            let replay = try ReplayBench.timeReplay(trace, command: command)
            requests = replay.requests
            replayRates.append(Double(requests) / replay.seconds)
            lockStepRates.append(Double(s.lockStep) / (try ReplayBench.timeLockStep(s.lockStep, command: command)))
        }
        let rate = Measure.median(replayRates), lockStep = Measure.median(lockStepRates)
        report.add(
            BenchRow(
                id: "P4", what: "replay ops/s, built-in adapter (\(trace.count) events, \(requests) requests)",
                figure: Measure.rate(rate),
                comparison: String(
                    format: "lock-step request/response, no work: %@ (%.1f× slower than replay)",
                    Measure.rate(lockStep), rate / max(lockStep, 1)),
                goal: "≥ 300k/s", met: rate >= 300_000))
        try replayScaling(s, report, command: command, singleChain: rate)
    }

    /// P4 scaling: replay ops/s of a recorded trace in which 1,000 processes wait at once
    /// (`ReplayBench.waitersTrace`), next to the same workload recorded with one client (a
    /// single chain of blocking calls) and to the single-chain synthetic figure above.
    func replayScaling(_ s: Sizes, _ report: BenchReport, command: [String], singleChain: Double) throws {
        let waiters = s.quick ? 50 : 1_000
        let many = try ReplayBench.waitersTrace(clients: waiters, events: s.events)
        let one = try ReplayBench.waitersTrace(clients: 1, events: s.events)
        var manyRates: [Double] = [], oneRates: [Double] = []
        var manyRequests = 0, oneRequests = 0
        for _ in 0..<s.repeats {
            let m = try ReplayBench.timeReplay(many, command: command)
            manyRequests = m.requests
            manyRates.append(Double(m.requests) / m.seconds)
            let o = try ReplayBench.timeReplay(one, command: command)
            oneRequests = o.requests
            oneRates.append(Double(o.requests) / o.seconds)
        }
        let manyRate = Measure.median(manyRates), oneRate = Measure.median(oneRates)
        report.add(
            BenchRow(
                id: "P4",
                what:
                    "replay ops/s, \(waiters) processes waiting at once (recorded skip-search clients of one server, \(many.count) events, \(manyRequests) requests)",
                figure: Measure.rate(manyRate),
                comparison: String(
                    format:
                        "the same workload with 1 client (%d events, %d requests): %@ (%.2f× it); synthetic single chain above: %@ (%.2f× it)",
                    one.count, oneRequests, Measure.rate(oneRate), manyRate / max(oneRate, 1),
                    Measure.rate(singleChain), manyRate / max(singleChain, 1)),
                goal: "", met: nil))
    }
}
