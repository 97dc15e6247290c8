import ConformanceFuzz
import ConformanceKit
import LunaTestSupport
import Testing

/// `fuzz --known-causes`: the open causes of an adapter are reported, not failures, and only
/// those; a trace Luna itself got wrong still fails.
@Suite("Fuzzing with known causes", .serialized)
struct KnownCauseTests {
    static func outcome(_ category: DivergenceCategory, _ rule: String, _ call: String) -> TraceOutcome {
        TraceOutcome(
            name: "t", status: .failed,
            divergences: [
                Divergence(category: category, rule: rule, eventIndex: 3, pid: 2, call: call, expected: "", got: "")
            ])
    }

    @Test("a cause matches the first divergence's category, rule and call (or any call with *)")
    func matching() throws {
        let causes = try KnownCause.parse(
            """
            # label category rule call
            1  wrong-exit  R-PROC-2  kill   # the caller's own kill
            8  lost-message R-SEND-1 *
            6  adapter-hung - *
            """, source: "known")
        #expect(causes.map(\.label) == ["1", "8", "6"])
        #expect(causes[0].matches(Self.outcome(.wrongExit, "R-PROC-2", "kill")))
        #expect(!causes[0].matches(Self.outcome(.wrongExit, "R-PROC-2", "link")))
        #expect(!causes[0].matches(Self.outcome(.wrongExit, "R-PROC-5", "kill")))
        #expect(causes[1].matches(Self.outcome(.lostMessage, "R-SEND-1", "receive")))
        var passed = Self.outcome(.lostMessage, "R-SEND-1", "receive")
        passed.status = .passed
        #expect(!causes[1].matches(passed))
        let hung = TraceOutcome(name: "t", status: .failed, adapterFailure: AdapterFailure(.hung, "no answer"))
        #expect(causes[2].matches(hung))
        #expect(!causes[0].matches(hung))
    }

    @Test("a malformed line or an unknown category is an error naming the file and line")
    func errors() {
        #expect(throws: KnownCauseError.self) { try KnownCause.parse("1 wrong-exit R-PROC-2", source: "f") }
        do {
            _ = try KnownCause.parse("\n1 no-such-category R-PROC-2 kill", source: "f")
            Issue.record("no error")
        } catch {
            #expect(error.description.hasPrefix("f:2:"), "\(error)")
        }
    }

    @Test(
        "a workload that diverges by a listed cause is reported and skipped; unlisted, or diverging on the reference too, it fails"
    )
    func listedAndUnlisted() async throws {
        var options = Fuzzer.Options(adapter: FuzzSupport.builtin + ["--fault", "ignore-tags"])
        options.reference = FuzzSupport.python
        options.generator = FuzzSupport.clearOfKnownIssues
        options.count = 40
        options.shrink = false
        let unlisted = options
        let first = await offPool { Fuzzer(options: unlisted).run() }
        let f = try #require(first.failure, "ignore-tags was not found in 40 workloads")
        let d = try #require(f.outcome.firstCauses.first)

        // Listed: that seed is reported as the cause, and the run goes on past it.
        options.seed = f.seed
        options.count = 3
        options.knownCauses = [KnownCause(label: "tags", category: d.category.rawValue, rule: d.rule, call: d.call)]
        let listed = options
        let second = await offPool { Fuzzer(options: listed).run() }
        #expect(second.knownCauseHits.contains { $0.seed == f.seed && $0.cause.label == "tags" })
        #expect(second.outcomes.count == 3 || second.failure != nil)
        #expect(second.outcomes.first?.status == .skipped)

        // A reference that diverges on the trace too (here: the same fault) makes it Luna's: a
        // failure, listed or not.
        options.reference = FuzzSupport.builtin + ["--fault", "ignore-tags"]
        options.count = 1
        let luna = options
        let third = await offPool { Fuzzer(options: luna).run() }
        #expect(third.failure?.seed == f.seed)
        #expect(third.knownCauseHits.isEmpty)
    }
}
