import ConformanceFuzz
import ConformanceKit
import LunaTestSupport
import Testing
import TraceFormat

/// Divergences of Luna itself that the fuzzer found (docs/FUZZING.md): the smallest workloads
/// that showed them, recorded on LunaRuntime and replayed on the Python adapter (an independent
/// implementation of the protocol's synchronous model), which must agree with the recording.
@Suite("Fuzzing: Luna's own divergences stay fixed", .serialized)
struct LunaDivergenceTests {
    static func replayOnPython(_ w: Workload) async -> (WorkloadRecorder.Recording, TraceOutcome?) {
        await offPool {
            let r = WorkloadRecorder().record(w)
            let report = ConformanceRunner(
                adapter: .init(command: FuzzSupport.python),
                replay: .init(callTimeout: 3, traceTimeout: 30)
            )
            .run([.events(r.events, name: "workload")])
            return (r, report.outcomes.first)
        }
    }

    static func failures(_ o: TraceOutcome?) -> String {
        o.map { ConformanceReport.textLines($0).joined(separator: "\n") } ?? "no outcome"
    }

    @Test("R-PROC-8: a process woken by a message and killed before it runs returned the message first")
    func wokenThenKilled() async throws {
        // P0 lets P1 block in receive, then sends it a message and kills it in one go.
        let w = Workload(
            seed: 0,
            processes: [
                [
                    .spawn(child: 1, link: 0), .receive(tags: [9999], .ms(5)), .createData(tag: 2, capacity: 0),
                    .send(.process(1)), .kill(.process(1)),
                ],
                [.receive(tags: [], .forever), .readData(count: 1)],
            ])
        let (r, outcome) = await Self.replayOnPython(w)
        #expect(r.endedCleanly)
        let received = try #require(r.events.firstIndex { $0.kind == .receive && $0.pid == 3 && $0.result == .value(0) })
        let kill = try #require(r.events.firstIndex { $0.kind == .kill && $0.pid == 2 })
        #expect(received < kill, "the receive returned after the kill in the trace")
        #expect(outcome?.status == .passed, "\(Self.failures(outcome))")
    }

    @Test("R-PROC-8: a skip-search caller woken by its reply and killed before it runs returned the reply first")
    func skipSearchWokenThenKilled() async throws {
        let w = Workload(
            seed: 0,
            processes: [
                [
                    .spawn(child: 1, link: 0), .receive(tags: [3], .forever), .createData(tag: 3, capacity: 0),
                    .send(.process(1)), .kill(.process(1)),
                ],
                [.createData(tag: 3, capacity: 0), .skipSearch(.process(0), .forever), .getTag],
            ])
        let (r, outcome) = await Self.replayOnPython(w)
        #expect(r.endedCleanly)
        let returned = try #require(r.events.firstIndex { $0.kind == .sendReceiveSkipSearchReturn })
        let kill = try #require(r.events.firstIndex { $0.kind == .kill && $0.pid == 2 })
        #expect(returned < kill)
        #expect(outcome?.status == .passed, "\(Self.failures(outcome))")
    }

    @Test("R-PROC-5: kill(A); kill(B) with B linked to A: B dies of the link, as the protocol's kill has it")
    func killThenKillLinked() async throws {
        let w = Workload(
            seed: 0,
            processes: [
                [
                    .spawn(child: 1, link: 0), .spawn(child: 2, link: 0), .receive(tags: [9999], .ms(5)),
                    .kill(.process(1)), .kill(.process(2)),
                ],
                [.link(tag: 3, .process(2)), .receive(tags: [], .forever)],
                [.receive(tags: [], .forever)],
            ])
        let (r, outcome) = await Self.replayOnPython(w)
        #expect(r.endedCleanly)
        let exitB = try #require(r.events.first { $0.kind == .exit && $0.pid == 4 })
        #expect(exitB.args.at(0) == ExitCode.linkDied.rawValue, "B ended \(exitB.text)")
        #expect(outcome?.status == .passed, "\(Self.failures(outcome))")
    }

    @Test("R-PROC-5: one death's notices all go out before the deaths they cause send theirs")
    func cascadeIsBreadthFirst() async throws {
        // Killing A ends B (linked to A); X, linked to both with die_when_link_dies off, hears
        // of A first, then of B.
        let w = Workload(
            seed: 0,
            processes: [
                [
                    .spawn(child: 1, link: 0), .spawn(child: 2, link: 0), .spawn(child: 3, link: 0),
                    .receive(tags: [9999], .ms(5)), .kill(.process(1)),
                ],
                [.receive(tags: [], .forever)],
                [.link(tag: 1, .process(1)), .receive(tags: [], .forever)],
                [
                    .dieWhenLinkDies(false), .link(tag: 2, .process(1)), .link(tag: 3, .process(2)),
                    .receive(tags: [], .forever), .getTag, .receive(tags: [], .forever), .getTag,
                ],
            ])
        let (r, outcome) = await Self.replayOnPython(w)
        #expect(r.endedCleanly)
        let tags = r.events.filter { $0.kind == .getTag && $0.pid == 5 }.map(\.result)
        #expect(tags == [.value(2), .value(3)])
        #expect(outcome?.status == .passed, "\(Self.failures(outcome))")
    }

    @Test("R-PROC-3: a link to a missing pid ends the caller at its next wait under the flag in force at the link")
    func deferredNoticeKeepsItsFlag() async {
        let w = Workload(
            seed: 0,
            processes: [
                [.link(tag: 4, .missing(999)), .dieWhenLinkDies(false), .receive(tags: [], .ms(1)), .getTag]
            ])
        let (r, outcome) = await Self.replayOnPython(w)
        #expect(r.endedCleanly)
        #expect(r.events.contains { $0.kind == .exit && $0.pid == 2 && $0.args.at(0) == ExitCode.linkDied.rawValue })
        #expect(outcome?.status == .passed, "\(Self.failures(outcome))")
    }

    @Test(
        "R-RECV-8: a deferred \"no process\" notice arrives while a skip-search call waits: its LinkDied message is the reply",
        arguments: [FuzzTimeout.ms(250), .zero, .forever])
    func deferredNoticeRepliesToSkipSearch(_ timeout: FuzzTimeout) async throws {
        let w = Workload(
            seed: 0,
            processes: [
                [
                    .dieWhenLinkDies(false), .link(tag: 4, .missing(999)), .createData(tag: 0, capacity: 0),
                    .skipSearch(.missing(998), timeout), .getTag,
                ]
            ])
        let (r, outcome) = await Self.replayOnPython(w)
        #expect(r.endedCleanly)
        let ret = try #require(r.events.first { $0.kind == .sendReceiveSkipSearchReturn })
        #expect(ret.result == .value(0) && ret.message != 0, "the skip-search call timed out")
        #expect(outcome?.status == .passed, "\(Self.failures(outcome))")
        // The built-in adapter, whose dispatcher runs the call on LunaRuntime, agrees.
        let builtin = await offPool {
            ConformanceRunner(adapter: .init(command: FuzzSupport.builtin), replay: .init(callTimeout: 3, traceTimeout: 30))
                .run([.events(r.events, name: "workload")]).outcomes.first
        }
        #expect(builtin?.status == .passed, "\(Self.failures(builtin))")
    }

    @Test("R-PROC-3: a deferred notice that ends the caller ends a skip-search call before it sends its request")
    func deferredDeathBeforeSkipSearchSends() async throws {
        // P1's request would wake P0's receive, and P1's death (linked) would end P0 too; as the
        // call never sends, P0's receive times out before the death reaches it.
        let w = Workload(
            seed: 0,
            processes: [
                [.spawn(child: 1, link: 1), .receive(tags: [2], .ms(50)), .getTag],
                [.link(tag: 4, .missing(999)), .createData(tag: 2, capacity: 0), .skipSearch(.process(0), .zero)],
            ])
        let (r, outcome) = await Self.replayOnPython(w)
        #expect(r.endedCleanly)
        #expect(!r.events.contains { $0.kind == .sendReceiveSkipSearch }, "the call sent its request")
        #expect(outcome?.status == .passed, "\(Self.failures(outcome))")
    }

    @Test("R-PROC-5: a kill whose link cascade ends the caller returns on the built-in adapter; the caller ends after")
    func killEndingTheCallerReturns() async throws {
        // P0, linked to P1, kills it: P1's death ends P0 through the link, inside the kill.
        let w = Workload(
            seed: 0,
            processes: [
                [.spawn(child: 1, link: 1), .receive(tags: [9999], .ms(5)), .kill(.process(1)), .getTag],
                [.receive(tags: [], .forever)],
            ])
        let report = await offPool { () -> (WorkloadRecorder.Recording, TraceOutcome?) in
            let r = WorkloadRecorder().record(w)
            let o = ConformanceRunner(
                adapter: .init(command: FuzzSupport.builtin), replay: .init(callTimeout: 3, traceTimeout: 30)
            )
            .run([.events(r.events, name: "kill-ends-caller")]).outcomes.first
            return (r, o)
        }
        let (r, outcome) = report
        #expect(r.endedCleanly)
        #expect(r.events.contains { $0.kind == .exit && $0.pid == 2 && $0.args.at(0) == ExitCode.linkDied.rawValue })
        #expect(outcome?.status == .passed, "\(Self.failures(outcome))")
    }
}
