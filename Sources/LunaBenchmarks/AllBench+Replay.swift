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
        let runner = ConformanceRunner(adapter: .init(command: command), replay: .init(callTimeout: 10, traceTimeout: 3600))
        var replayRates: [Double] = [], lockStepRates: [Double] = []
        var requests = 0
        for _ in 0..<s.repeats {
            let t0 = Measure.now()
            let result = runner.run([.events(trace, name: "synthetic-\(trace.count)")])
            let seconds = Measure.seconds(since: t0)
            guard let outcome = result.outcomes.first, outcome.status == .passed else {
                throw BenchFailure("P4: the synthetic trace did not pass:\n" + result.text())
            }
            requests = outcome.requestCount
            replayRates.append(Double(requests) / seconds)

            let client = try AdapterClient(options: .init(command: command))
            defer { client.terminate() }
            let l0 = Measure.now()
            for _ in 0..<s.lockStep {
                let id = client.request("hello", "\"protocol\":1")
                try client.flush()
                guard try client.response(for: id, deadline: .max) != nil else { throw BenchFailure("P4: no answer to hello") }
            }
            lockStepRates.append(Double(s.lockStep) / Measure.seconds(since: l0))
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
