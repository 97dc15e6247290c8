import Foundation
import Testing
import TraceFormat

@testable import LunaRuntime

/// SEMANTICS.md §6 through real guests (entries proc_*).
@Suite("Guest §6 processes, links and deaths")
struct GuestProcessRuleTests {
    @Test("R-PROC-1 guest: pids start at 1 and grow by one per spawn")
    func rPROC1() async throws {
        let run = try await runRule("proc_1")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.pid == 1)
        #expect(run.events(.spawn).map { $0.args.at(0) } == [1, 2, 3])
    }

    @Test("R-PROC-2 guest: returning from the entry is a normal end")
    func rPROC2Normal() async throws {
        let run = try await runRule("idle")
        #expect(run.exit == .normal)
    }

    @Test("R-PROC-2 guest: a trap in guest code is a failure, recorded as a trap event")
    func rPROC2Trap() async throws {
        let run = try await runRule("trapper")
        guard case .failure(let reason) = run.exit else {
            Issue.record("expected failure, got \(run.exit)")
            return
        }
        #expect(reason.contains("unreachable"))
        #expect(run.events(.trap).map(\.text) == [reason])
    }

    @Test("R-PROC-2 guest: kill ends a process as killed; kill of a missing pid does nothing")
    func rPROC2Kill() async throws {
        let run = try await runRule("proc_2_kill_child")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.environment.exitStatus(of: 2) == .killed)
        #expect(!run.stdout.contains("returned"))
        let missing = try await runRule("proc_2_kill_missing")
        #expect(missing.exit == .normal)
    }

    @Test("R-PROC-3 guest: link to a missing pid queues a LinkDied message (die_when_link_dies off)")
    func rPROC3Message() async throws {
        let run = try await runRule("proc_3_message")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-PROC-3 guest: link to a missing pid returns, then the caller dies at its next wait (die_when_link_dies on)")
    func rPROC3Dies() async throws {
        let run = try await runRule("proc_3_dies")
        #expect(run.exit == .linkDied(from: 1_000_000))
        #expect(run.stdout == "link returned\n")
        #expect(run.events(.sleepMs).isEmpty)
    }

    @Test("R-PROC-4 guest: a failing child notifies its parent with the link tag")
    func rPROC4ChildFails() async throws {
        let run = try await runRule("proc_4_child_fails")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.environment.exitStatus(of: 2).map { if case .failure = $0 { true } else { false } } == true)
        #expect(run.events(.linkDied).contains { $0.pid == 1 && $0.args.at(1) == 21 && $0.args.at(2) == 0 })
    }

    @Test("R-PROC-4 guest: a failing parent notifies its child with tag 0")
    func rPROC4ParentFails() async throws {
        let run = try await runRule("proc_4_parent_fails")
        #expect(run.failureReason?.contains("unreachable") == true)
        #expect(run.environment.exitStatus(of: 2) == .normal)
        #expect(run.stdout == "child got link tag 0\n")
    }

    @Test("R-PROC-5 guest: deaths cascade through links")
    func rPROC5Cascade() async throws {
        let run = try await runRule("proc_5_cascade")
        #expect(run.exit == .linkDied(from: 2))
        #expect(run.environment.exitStatus(of: 2) == .linkDied(from: 3))
        #expect(run.environment.exitStatus(of: 3).map { if case .failure = $0 { true } else { false } } == true)
        #expect(!run.stdout.contains("returned"))
    }

    @Test("R-PROC-5 guest: a normal end notifies no one")
    func rPROC5NormalEnd() async throws {
        let run = try await runRule("proc_5_normal_end")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-PROC-6 guest: unlink removes the link on both sides")
    func rPROC6() async throws {
        let run = try await runRule("proc_6")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.environment.exitStatus(of: 2).map { if case .failure = $0 { true } else { false } } == true)
    }

    @Test("R-PROC-7 guest: messages left in the mailbox and scratch area are dropped at the end")
    func rPROC7() async throws {
        let run = try await runRule("proc_7")
        #expect(run.exit == .normal, "\(run.stderr)")
        let reasons = run.events(.messageDropped).filter { $0.pid == 1 }.compactMap { $0.args.first }
        #expect(reasons.filter { $0 == DropReason.leftInMailbox.rawValue }.count == 2)
        #expect(reasons.filter { $0 == DropReason.leftInScratch.rawValue }.count == 1)
    }

    @Test(
        "R-PROC-8 guest: killed while blocked, a call never returns",
        arguments: ["proc_8_receive", "proc_8_sleep", "proc_8_skip_search"])
    func rPROC8(entry: String) async throws {
        let environment = Environment()
        let output = CapturedGuestOutput()
        let pid = try environment.spawnGuest(
            module: try TestGuests.rules, entry: entry,
            options: GuestOptions(output: output))
        try await Task.sleep(nanoseconds: 200_000_000)  // let it block
        let killer = environment.spawn { context in try context.kill(pid) }
        let exit = await environment.waitForExit(of: pid, timeout: 10)
        #expect(exit == .killed)
        _ = await environment.waitForExit(of: killer, timeout: 10)
        #expect(output.stdout == "")
    }

    @Test("R-PROC-9 guest: die_when_link_dies applies to link deaths after the call")
    func rPROC9() async throws {
        let run = try await runRule("proc_9")
        #expect(run.stdout == "first link death queued\n")
        #expect(run.exit == .linkDied(from: 3))
    }
}
