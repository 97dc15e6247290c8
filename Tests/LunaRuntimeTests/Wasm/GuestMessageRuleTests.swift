import Testing
import TraceFormat

@testable import LunaRuntime

/// SEMANTICS.md §2 through real guests (traces/guests/rules.c, entries msg_*).
@Suite("Guest §2 messages")
struct GuestMessageRuleTests {
    @Test("R-MSG-1 guest: receive tells data (0) from LinkDied (1) messages")
    func rMSG1() async throws {
        let run = try await runRule("msg_1")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-MSG-2 guest: tag 0 is untagged, get_tag returns 0")
    func rMSG2() async throws {
        let run = try await runRule("msg_2")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-MSG-3 guest: create_data replaces the scratch message and its resources")
    func rMSG3() async throws {
        let run = try await runRule("msg_3")
        #expect(run.exit == .normal, "\(run.stderr)")
        let dropped = run.events(.messageDropped).filter { $0.args.first == DropReason.replacedInScratch.rawValue }
        #expect(dropped.count == 1)
        #expect(run.events(.resourceDropped).contains { $0.args.at(1) == ResourceKind.module.rawValue })
    }

    @Test("R-MSG-4 guest: buffer_capacity is only a hint")
    func rMSG4() async throws {
        let run = try await runRule("msg_4")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-MSG-5 guest: write_data appends at the end, not at the read position")
    func rMSG5() async throws {
        let run = try await runRule("msg_5")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-MSG-6 guest: read_data copies min(len, size - position) and returns 0 at the end")
    func rMSG6() async throws {
        let run = try await runRule("msg_6")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-MSG-7 guest: seek past the end does not trap")
    func rMSG7() async throws {
        let run = try await runRule("msg_7")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-MSG-7 guest: seek past the end, then read, traps")
    func rMSG7ReadPastEnd() async throws {
        let run = try await runRule("msg_7_read_past_end_traps")
        #expect(run.exit == .failure(reason: "lunatic::message::read_data"))
        #expect(!run.stdout.contains("returned"))
    }

    @Test("R-MSG-8 guest: data_size is the bytes written")
    func rMSG8() async throws {
        let run = try await runRule("msg_8")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    static let operations = [
        "write_data", "read_data", "seek_data", "get_tag", "data_size", "push_module", "take_module",
        "push_tcp_stream", "take_tcp_stream", "push_tls_stream", "take_tls_stream", "push_udp_socket",
        "take_udp_socket",
    ]

    @Test("R-MSG-9 guest: every data operation traps on an empty scratch area", arguments: 0..<13)
    func rMSG9(op: Int) async throws {
        let run = try await runRule("msg_9_traps", [.i32(Int32(op))])
        #expect(run.exit == .failure(reason: "lunatic::message::\(Self.operations[op])"))
        #expect(!run.stdout.contains("returned"))
        // the trap is recorded as the call's result
        #expect(run.trace.events.contains { $0.result.trapReason == "lunatic::message::\(Self.operations[op])" })
    }

    @Test("R-MSG-10 guest: get_tag of a LinkDied message returns the link tag")
    func rMSG10GetTag() async throws {
        let run = try await runRule("msg_10", [.i32(3)])
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test(
        "R-MSG-10 guest: other operations trap on a LinkDied message",
        arguments: [0, 1, 2, 4, 5, 6, 8, 10, 12])
    func rMSG10Traps(op: Int) async throws {
        let run = try await runRule("msg_10", [.i32(Int32(op))])
        #expect(run.exit == .failure(reason: LunaTrap.linkDiedInScratch))
        #expect(!run.stdout.contains("returned"))
    }

    @Test(
        "R-MSG-10 guest: push of a TCP/TLS/UDP id that is not in the table traps on the id first",
        arguments: [7, 9, 11])
    func rMSG10PushMissingResource(op: Int) async throws {
        let run = try await runRule("msg_10", [.i32(Int32(op))])
        #expect(run.exit == .failure(reason: "lunatic::message::\(Self.operations[op])"))
    }
}
