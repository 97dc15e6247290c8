import Foundation
import Testing
import TraceFormat

@testable import LunaRuntime

/// A process's config is enforced as lunatic enforces it: permissions of the calling process,
/// `max_memory` on linear memory, `max_fuel` on executed instructions.
@Suite("lunatic::process config enforcement")
struct ProcessConfigEnforcementTests {
    /// `parent(name_ptr, name_len, max_memory, max_fuel)` spawns export NAME with a new config
    /// (every permission off, as lunatic's `create_config`), setting max_memory when not 0.
    static let wat = """
        (module
          (import "lunatic::process" "spawn" (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
          (import "lunatic::process" "create_config" (func $create_config (result i64)))
          (import "lunatic::process" "config_set_max_memory" (func $set_mem (param i64 i64)))
          (import "lunatic::process" "config_set_max_fuel" (func $set_fuel (param i64 i64)))
          (import "lunatic::process" "compile_module" (func $compile (param i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 32) "spawn")
          (data (i32.const 80) "\\00asm\\01\\00\\00\\00")
          (func (export "parent") (param $name i32) (param $len i32) (param $mem i64) (param $fuel i64)
            (local $cfg i64)
            (local.set $cfg (call $create_config))
            (if (i64.ne (local.get $mem) (i64.const 0)) (then (call $set_mem (local.get $cfg) (local.get $mem))))
            (call $set_fuel (local.get $cfg) (local.get $fuel))
            (drop (call $spawn (i64.const 0) (local.get $cfg) (i64.const -1) (local.get $name) (local.get $len)
                               (i32.const 0) (i32.const 0) (i32.const 200))))
          (func (export "create_config") (if (i64.ne (call $create_config) (i64.const -1)) (then unreachable)))
          (func (export "compile")
            (i64.store (i32.const 200) (i64.const 77))
            (if (i32.ne (call $compile (i32.const 80) (i32.const 8) (i32.const 200)) (i32.const -1)) (then unreachable))
            (if (i64.ne (i64.load (i32.const 200)) (i64.const 77)) (then unreachable)))
          (func (export "spawn") (drop (call $spawn (i64.const 0) (i64.const -1) (i64.const -1) (i32.const 32)
                                                   (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 200))))
          (func (export "grow_fails") (if (i32.ne (memory.grow (i32.const 10)) (i32.const -1)) (then unreachable)))
          (func (export "spin") (loop $l (br $l)))
          (func (export "count") (local $i i32)
            (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
                     (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))))
        """

    /// Runs `parent` for child entry `entry`; returns the child's exit.
    static func child(_ entry: String, maxMemory: Int64 = 0, maxFuel: Int64 = 0) async throws -> ProcessExit? {
        // The child's entry name goes into memory at 256 with one more data segment.
        let withName = wat.replacingOccurrences(
            of: "(memory (export \"memory\") 1)",
            with: "(memory (export \"memory\") 1) (data (i32.const 256) \"\(entry)\")")
        let module = try GuestModule(wat: withName, name: "config-\(entry)")
        let run = try await runGuest(
            module, "parent", [.i32(256), .i32(Int32(entry.utf8.count)), .i64(maxMemory), .i64(maxFuel)])
        #expect(run.exit == .normal, "\(run.failureReason ?? "")")
        let child = try #require(run.events(.spawn).first { $0.pid == run.pid }?.args.at(0))
        return run.environment.exitStatus(of: UInt64(child))
    }

    @Test("a process whose config lacks the spawn permission traps in spawn")
    func spawnPermission() async throws {
        #expect(try await Self.child("spawn") == .failure(reason: "Process doesn't have permissions to spawn sub-processes"))
    }

    @Test(
        "without the permission, compile_module and create_config return -1 (lunatic's answer, no trap)",
        arguments: ["compile", "create_config"])
    func permissionAnswers(entry: String) async throws {
        // The entries trap (unreachable) unless the call returned -1 and wrote nothing.
        #expect(try await Self.child(entry) == .normal)
    }

    @Test("max_memory bounds memory.grow")
    func maxMemory() async throws {
        #expect(try await Self.child("grow_fails", maxMemory: 2 * 65536) == .normal)
        // Without the limit the same growth succeeds, and the child reaches `unreachable`.
        if case .failure = try await Self.child("grow_fails") {} else { Issue.record("growth was denied without a limit") }
    }

    @Test("max_fuel bounds executed instructions (units of 100 000)")
    func maxFuel() async throws {
        #expect(try await Self.child("count", maxFuel: 1) == .normal)
        guard case .failure = try await Self.child("spin", maxFuel: 1) else {
            Issue.record("a spinning process with one unit of fuel did not trap")
            return
        }
    }
}
