import ConformanceKit
import Foundation

extension AllBench {
    /// P4: replay ops/s of ReplayBench's synthetic trace through the built-in adapter, against
    /// lock-step `hello` request/responses (no work) over the same kind of pipe to the same
    /// adapter, both in this run.
    func replay(_ s: Sizes, _ report: BenchReport) throws {
        let command = adapter.map { $0.split(separator: " ").map(String.init) }
            ?? [ReplayBench.siblingLunaConform(), "adapter"]
        guard FileManager.default.isExecutableFile(atPath: command[0]) || adapter != nil else {
            throw BenchFailure("P4 needs \(command[0]); build it (swift build -c release --product luna-conform) or pass --adapter")
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
        report.add(BenchRow(
            id: "P4", what: "replay ops/s, built-in adapter (\(trace.count) events, \(requests) requests)",
            figure: Measure.rate(rate),
            comparison: String(format: "lock-step request/response, no work: %@ (%.1f× slower than replay)",
                               Measure.rate(lockStep), rate / max(lockStep, 1)),
            goal: "≥ 300k/s", met: rate >= 300_000))
    }
}
