import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

@Suite("stats: counts, waits and percentiles")
struct StatisticsTests {
    @Test("counts per call, messages, drops, deaths on the postmortem scenario")
    func postmortemFigures() {
        let stats = TraceStatistics()
        for e in Postmortem.events() { stats.observe(e) }
        #expect(stats.perKind[.send] == 5)
        #expect(stats.messagesCreated == 6)
        #expect(stats.messagesSent == 5)
        #expect(stats.messagesReceived == 1)
        #expect(stats.receiveTimeouts == 1)
        #expect(stats.dropped[DropReason.receiverMissing.rawValue] == 2)
        #expect(stats.dropped[DropReason.leftInMailbox.rawValue] == 2)
        #expect(stats.deaths[ExitCode.failure.rawValue] == 1)
        #expect(stats.deaths[ExitCode.normal.rawValue] == 2)
        #expect(stats.receiveWait.percentile(50) == 2_000_000)
        let out = StringOutput()
        stats.write(to: out, processLimit: nil)
        #expect(out.text.contains("dropped            4 (receiver_missing 2, left_in_mailbox 2)"))
        #expect(out.text.contains("failure (unreachable), 2 queued at exit  [worker]"))
    }

    @Test("percentiles are exact for small sets and within 1.6 % after folding into buckets")
    func percentiles() {
        var exact = DurationPercentiles()
        for v in 1...100 { exact.add(UInt64(v)) }
        #expect(exact.percentile(50) == 50)
        #expect(exact.percentile(99) == 99)
        #expect(exact.percentile(100) == 100)

        var folded = DurationPercentiles(exactLimit: 1000)
        for v in 1...1_000_000 { folded.add(UInt64(v) * 1000) }
        for p in [50.0, 90, 99] {
            let truth = Double(p / 100 * 1_000_000) * 1000
            let got = Double(folded.percentile(p)!)
            #expect(abs(got - truth) / truth < 0.016, "p\(p): \(got) vs \(truth)")
        }
        #expect(folded.maximum == 1_000_000_000)
    }
}
