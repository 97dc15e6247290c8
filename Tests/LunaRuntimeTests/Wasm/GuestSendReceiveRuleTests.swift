import Testing
import TraceFormat

@testable import LunaRuntime

/// SEMANTICS.md §4 and §5 through real guests (entries send_* and recv_*).
@Suite("Guest §4–5 sending and receiving")
struct GuestSendReceiveRuleTests {
    @Test("R-SEND-1 guest: send delivers the scratch message")
    func rSEND1() async throws {
        let run = try await runRule("send_1")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-SEND-1 guest: send leaves the scratch area empty")
    func rSEND1Empties() async throws {
        let run = try await runRule("send_1_empties_scratch_traps")
        #expect(run.exit == .failure(reason: "lunatic::message::get_tag"))
    }

    @Test("R-SEND-2 guest: send to a pid that does not exist returns 0 and does not trap")
    func rSEND2() async throws {
        let run = try await runRule("send_2")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.events(.messageDropped).contains { $0.args.first == DropReason.receiverMissing.rawValue })
    }

    @Test("R-SEND-3 guest: send with an empty scratch area traps")
    func rSEND3() async throws {
        let run = try await runRule("send_3_traps")
        #expect(run.exit == .failure(reason: "lunatic::message::send::no_message"))
        #expect(!run.stdout.contains("returned"))
    }

    @Test("R-SEND-4 guest: messages from one sender arrive in order")
    func rSEND4() async throws {
        let run = try await runRule("send_4", [.i32(200)])
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.environment.exitStatus(of: 2) == .normal)  // the sender
    }

    @Test("R-SEND-5 guest: a process may send to itself")
    func rSEND5() async throws {
        let run = try await runRule("send_5")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RECV-1 guest: the mailbox is a FIFO queue")
    func rRECV1() async throws {
        let run = try await runRule("recv_1")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RECV-2 guest: a tag set takes the first match in queue order; skipped messages stay")
    func rRECV2() async throws {
        let run = try await runRule("recv_2")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.events(.receive).contains { $0.tags == [3, 2] })
    }

    @Test("R-RECV-3 guest: a tag set containing 0 does not match untagged messages")
    func rRECV3() async throws {
        let run = try await runRule("recv_3")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RECV-4 guest: receive waits for a match; non-matching arrivals are queued")
    func rRECV4() async throws {
        let run = try await runRule("recv_4")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RECV-5 guest: timeout 0 is a try-receive; a timeout waits at least its length")
    func rRECV5() async throws {
        let run = try await runRule("recv_5")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RECV-6 guest: a timeout leaves the scratch area; a message replaces it")
    func rRECV6() async throws {
        let run = try await runRule("recv_6")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RECV-7 guest: send_receive_skip_search ignores a reply already queued")
    func rRECV7() async throws {
        let run = try await runRule("recv_7")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RECV-8 guest: send_receive_skip_search returns 0 for a LinkDied message")
    func rRECV8() async throws {
        let run = try await runRule("recv_8")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RECV-8 guest: after a skip-search timeout the scratch area is empty")
    func rRECV8Timeout() async throws {
        let run = try await runRule("recv_8_timeout_traps")
        #expect(run.exit == .failure(reason: "lunatic::message::get_tag"))
    }

    @Test(
        "R-RECV-9 guest: receive traps when the tag array lies outside memory",
        arguments: [(UInt32(0xFFFF_FFF8), UInt32(2)), (UInt32(16), UInt32(0x2000_0001)), (UInt32(0x0100_0000), UInt32(1))])
    func rRECV9(ptr: UInt32, count: UInt32) async throws {
        let run = try await runGuest(
            try TestGuests.wild, "wild_receive",
            [.i32(Int32(bitPattern: ptr)), .i32(Int32(bitPattern: count))])
        #expect(run.exit == .failure(reason: "lunatic::message::receive"))
        #expect(!run.stdout.contains("returned"))
        #expect(run.events(.receive).last?.result.trapReason == "lunatic::message::receive")
    }
}
