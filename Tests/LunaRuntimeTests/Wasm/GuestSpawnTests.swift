import Testing
import TraceFormat

@testable import LunaRuntime

/// Spawning guests from guests and from the host: params, modules as resources, ping-pong.
@Suite("Guest spawning and modules")
struct GuestSpawnTests {
    @Test("ping-pong between two guests, with skip-search and with selective receive")
    func pingPong() async throws {
        let environment = Environment()
        let output = CapturedGuestOutput()
        let options = GuestOptions(output: output)
        let module = try TestGuests.pingpong
        let pong = try environment.spawnGuest(module: module, entry: "pong", options: options)
        let ping = try environment.spawnGuest(
            module: module, entry: "ping",
            params: [.i64(Int64(pong)), .i32(300)], options: options)
        #expect(await environment.waitForExit(of: ping, timeout: 30) == .normal)
        #expect(await environment.waitForExit(of: pong, timeout: 30) == .normal)

        let pong2 = try environment.spawnGuest(module: module, entry: "pong", options: options)
        let ping2 = try environment.spawnGuest(
            module: module, entry: "ping_receive",
            params: [.i64(Int64(pong2)), .i32(300)], options: options)
        #expect(await environment.waitForExit(of: ping2, timeout: 30) == .normal)
        #expect(await environment.waitForExit(of: pong2, timeout: 30) == .normal)
        #expect(output.stderr == "")
    }

    @Test("spawn passes i32 and i64 params in lunatic's 17-byte encoding")
    func spawnParams() async throws {
        let run = try await runRule("spawn_params")
        #expect(run.exit == .normal, "\(run.stderr)")
    }

    @Test(
        "spawn traps on an unknown param type byte and on a length not a multiple of 17",
        arguments: [(0, "Unsupported type ID"), (1, "Params array must be in chunks of 17 bytes, but 3 bytes remained")])
    func spawnBadParams(op: Int, reason: String) async throws {
        let run = try await runRule("spawn_bad_params_traps", [.i32(Int32(op))])
        #expect(run.exit == .failure(reason: reason))
        #expect(run.events(.spawn).map(\.result) == [.value(0), .trap(reason)])  // no child spawned
    }

    @Test("a module compiled in one process is pushed, taken in another and spawned from there")
    func modulePushTakeSpawn() async throws {
        let run = try await runRule("modules_a")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.stdout == "grandchild 3 ran the module\n")
        #expect(run.environment.exitStatus(of: 2) == .normal)
        #expect(run.environment.exitStatus(of: 3) == .normal)
        let spawns = run.events(.spawn)
        #expect(spawns.last?.pid == 2)
        #expect(spawns.last?.args.at(2) == 0)  // module id 0 in process 2's table
        #expect(spawns.last?.text == "child_entry")
        #expect(run.events(.takeModule).first?.result.value == 0)
    }

    @Test("compile_module of bad bytes returns 1 and an error the guest can read")
    func compileError() async throws {
        let run = try await runRule("compile_error")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.stdout.contains("invalid WebAssembly"))
    }

    @Test("lunatic::version and environment_id")
    func versions() async throws {
        let run = try await runRule("versions")
        #expect(run.stdout == "0.12.0 env 1\n")
    }

    @Test("a guest spawning a missing entry gets a child that fails")
    func missingEntryFromGuest() async throws {
        let module = try GuestModule(
            wat: """
                (module
                  (import "lunatic::process" "spawn"
                    (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
                  (memory (export "memory") 1)
                  (data (i32.const 0) "nope")
                  (func (export "main") (result i32)
                    (call $spawn (i64.const 0) (i64.const -1) (i64.const -1)
                      (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 64))))
                """)
        let environment = Environment()
        let pid = try environment.spawnGuest(module: module, entry: "main")
        #expect(await environment.waitForExit(of: pid, timeout: 10) == .normal)
        #expect(await environment.waitForExit(of: 2, timeout: 10) == .failure(reason: "Function 'nope' not found"))
    }

    @Test(
        "spawn and distributed::spawn with an id out-pointer outside memory trap before any child exists",
        arguments: ["lunatic::process", "lunatic::distributed"])
    func spawnBadIDPointer(namespace: String) async throws {
        let module = try GuestModule(
            wat: """
                (module
                  (import "\(namespace)" "spawn"
                    (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
                  (import "lunatic::distributed" "module_id" (func $module_id (result i64)))
                  (import "lunatic::process" "sleep_ms" (func $sleep (param i64)))
                  (memory (export "memory") 1)
                  (data (i32.const 0) "child")
                  (func (export "child") (call $sleep (i64.const 600000)))
                  (func (export "main")
                    (drop (call $spawn (i64.const 0) (i64.const -1)
                      \(namespace == "lunatic::process" ? "(i64.const -1)" : "(call $module_id)")
                      (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 65532)))))
                """)
        let run = try await runGuest(module, "main", timeout: 10)
        defer { for pid in run.environment.liveProcesses { run.environment.kill(pid) } }
        guard case .failure = run.exit else {
            Issue.record("spawn with a bad id pointer returned: \(run.exit)")
            return
        }
        #expect(run.environment.liveCount == 0)
        // Only the host's spawn of main succeeded; the guest's spawn is recorded as its trap.
        #expect(run.events(.spawn).filter { $0.result == .value(0) }.count == 1)
        #expect(run.events(.start).count == 1)
    }

    @Test("the host API rejects a missing entry and wrong parameter types up front")
    func hostSpawnChecks() throws {
        let environment = Environment()
        let module = try TestGuests.rules
        #expect(throws: GuestSpawnError.entryNotFound(module: "rules.wasm", entry: "nope")) {
            try environment.spawnGuest(module: module, entry: "nope")
        }
        #expect(throws: GuestSpawnError.parameterMismatch(entry: "send_4", expected: "i32", given: "i64")) {
            try environment.spawnGuest(module: module, entry: "send_4", params: [.i64(1)])
        }
        #expect(environment.liveCount == 0)
    }

    @Test("spawn params encode and decode symmetrically")
    func paramsRoundTrip() throws {
        let values: [GuestValue] = [
            .i32(-7), .i64(.min), .i64(0x1122_3344_5566_7788),
            .v128(Array(0..<16)), .i32(.max),
        ]
        let bytes = GuestValue.encodeSpawnParams(values)
        #expect(bytes.count == 17 * values.count)
        let decoded = try bytes.withUnsafeBytes { try GuestValue.decodeSpawnParams($0) }
        #expect(decoded == values)
    }
}
