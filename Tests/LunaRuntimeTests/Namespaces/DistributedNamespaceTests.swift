import Testing
import TraceFormat

@testable import LunaRuntime

/// `lunatic::distributed` with single-node semantics (traces/guests/ns_namespaces.c).
@Suite("lunatic::distributed on a single node")
struct DistributedNamespaceTests {
    static var guest: GuestModule { get throws { try TestGuests.module("ns_namespaces") } }

    @Test("node 0, no other nodes, a stable module id; spawn, send and skip-search on node 0 act locally")
    func singleNode() async throws {
        let run = try await runGuest(try Self.guest, "distributed_main")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.stdout == "distributed ok\n")
        let calls = run.events(.distributedCall).filter { $0.pid == run.pid }
        let texts = Set(calls.map(\.text))
        #expect(
            texts.isSuperset(of: [
                "node_id", "nodes_count", "get_nodes", "module_id", "spawn echo", "send",
                "send_receive_skip_search",
            ]))
        #expect(calls.first { $0.text == "node_id" }?.result == .value(0))
        #expect(calls.first { $0.text == "nodes_count" }?.result == .value(0))
        #expect(calls.first { $0.text == "get_nodes" }?.result == .value(0))
        // The unknown module id reports 1 (lunatic's failed remote spawn), the known one 0.
        #expect(calls.filter { $0.text == "spawn echo" }.map(\.result) == [.value(0), .value(1)])
        // The distributed send is a real local send: the core recorded it, and the echo answered.
        let child = try #require(run.events(.spawn).first { $0.pid == run.pid }?.args.at(0))
        #expect(run.events(.send).contains { $0.pid == run.pid && $0.args.at(0) == child })
        #expect(run.events(.send).contains { $0.pid == UInt64(child) && $0.args.at(0) == Int64(run.pid) })
        #expect(run.events(.sendReceiveSkipSearchReturn).first { $0.pid == run.pid }?.result == .value(0))
        #expect(run.environment.exitStatus(of: UInt64(child)) == .normal)
    }

    @Test("a send to another node traps as lunatic without distribution")
    func remoteNodeTraps() async throws {
        let run = try await runGuest(try Self.guest, "distributed_remote_send")
        let reason = "lunatic::distributed::send: Distributed is not initialized"
        #expect(run.exit == .failure(reason: reason))
        #expect(run.events(.distributedCall).last?.result == .trap(reason))
        #expect(!run.stdout.contains("unreachable"))
    }

    @Test("distributed spawn needs the caller's can_spawn_processes permission")
    func spawnPermission() async throws {
        let run = try await runGuest(try Self.guest, "distributed_spawn_denied")
        #expect(run.exit == .normal, "\(run.stderr)")
        let child = try #require(UInt64(run.stdout.split(separator: "\n").first ?? ""))
        #expect(
            run.environment.exitStatus(of: child)
                == .failure(reason: "Process doesn't have permissions to spawn sub-processes"))
        #expect(!run.stdout.contains("spawned"))
    }

    @Test("a module importing a namespace function the runtime does not provide fails at load, naming it")
    func missingImports() {
        #expect(
            throws: GuestModuleError.missingImports(
                name: "m", imports: ["lunatic::distributed::exec_lookup_nodes", "lunatic::metrics::counter"])
        ) {
            try GuestModule(
                wat: """
                    (module
                      (import "lunatic::distributed" "node_id" (func (result i64)))
                      (import "lunatic::distributed" "exec_lookup_nodes" (func (param i32 i32 i32 i32 i32) (result i32)))
                      (import "lunatic::metrics" "counter" (func (param i32 i32 i64))))
                    """, name: "m")
        }
    }

    @Test("every function of the four namespaces loads with lunatic's exact type")
    func exactTypes() throws {
        _ = try GuestModule(
            wat: """
                (module
                  (import "lunatic::distributed" "nodes_count" (func (result i32)))
                  (import "lunatic::distributed" "get_nodes" (func (param i32 i32) (result i32)))
                  (import "lunatic::distributed" "node_id" (func (result i64)))
                  (import "lunatic::distributed" "module_id" (func (result i64)))
                  (import "lunatic::distributed" "send" (func (param i64 i64) (result i32)))
                  (import "lunatic::distributed" "send_receive_skip_search" (func (param i64 i64 i64) (result i32)))
                  (import "lunatic::distributed" "spawn" (func (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
                  (import "lunatic::registry" "put" (func (param i32 i32 i64 i64)))
                  (import "lunatic::registry" "get" (func (param i32 i32 i32 i32) (result i32)))
                  (import "lunatic::registry" "remove" (func (param i32 i32)))
                  (import "lunatic::timer" "send_after" (func (param i64 i64) (result i64)))
                  (import "lunatic::timer" "cancel_timer" (func (param i64) (result i32)))
                  (import "lunatic::wasi" "config_add_environment_variable" (func (param i64 i32 i32 i32 i32)))
                  (import "lunatic::wasi" "config_add_command_line_argument" (func (param i64 i32 i32)))
                  (import "lunatic::wasi" "config_preopen_dir" (func (param i64 i32 i32))))
                """, name: "all")
    }

    @Test("get_nodes with a pointer past the end of memory traps with lunatic's reason")
    func getNodesWildPointer() async throws {
        let module = try GuestModule(
            wat: """
                (module
                  (import "lunatic::distributed" "get_nodes" (func $get (param i32 i32) (result i32)))
                  (memory (export "memory") 1)
                  (func (export "main") (drop (call $get (i32.const 70000) (i32.const 1)))))
                """, name: "wild")
        let run = try await runGuest(module, "main")
        #expect(run.exit == .failure(reason: "lunatic::distributed::get_nodes::memory"))
    }
}
