import Testing
import TraceFormat

@testable import LunaRuntime

/// SEMANTICS.md §3 through real guests (entries res_*). Guests hold module resources
/// (compile_module); TCP/TLS/UDP resources need the networking namespace.
@Suite("Guest §3 resources")
struct GuestResourceRuleTests {
    @Test("R-RES-1 guest: ids per kind start at 0, grow by one and are never reused")
    func rRES1() async throws {
        let run = try await runRule("res_1")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RES-2 guest: push returns the slot index 0, 1, 2, …")
    func rRES2() async throws {
        let run = try await runRule("res_2")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RES-3 guest: push_module leaves the module in the sender's table")
    func rRES3() async throws {
        let run = try await runRule("res_3")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test("R-RES-4 guest: push of an id not in the table traps")
    func rRES4() async throws {
        let run = try await runRule("res_4_traps")
        #expect(run.exit == .failure(reason: "lunatic::message::push_module"))
        #expect(!run.stdout.contains("returned"))
    }

    @Test("R-RES-5 guest: take moves the resource into the receiver's table; other slots keep their index")
    func rRES5() async throws {
        let run = try await runRule("res_5")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test(
        "R-RES-6 guest: take traps out of range, taken twice, or of the wrong kind",
        arguments: [(0, "take_module"), (1, "take_module"), (2, "take_tcp_stream")])
    func rRES6(op: Int, call: String) async throws {
        let run = try await runRule("res_6_traps", [.i32(Int32(op))])
        #expect(run.exit == .failure(reason: "lunatic::message::\(call)"))
        #expect(!run.stdout.contains("returned"))
    }

    @Test("R-RES-7 guest: a resource never taken is dropped with its message")
    func rRES7() async throws {
        let run = try await runRule("res_7")
        #expect(run.exit == .normal, "\(run.stderr)")
        let drops = run.events(.resourceDropped)
        #expect(drops.count == 1)
        #expect(drops.first?.args.at(0) == 0)  // slot 0
        #expect(drops.first?.args.at(1) == ResourceKind.module.rawValue)
    }
}
