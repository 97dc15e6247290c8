import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// A guest executing WebAssembly without host calls is stopped by a kill or a link death, as in
/// lunatic; an ended guest's state, store and memory are freed.
@Suite("Stopping and freeing guests")
struct GuestKillTests {
    static let wat = """
        (module
          \(GuestWAT.messageImports)
          (memory (export "memory") 1)
          \(GuestWAT.readyFunction)
          ;; tells `to` it is running, then loops forever without host calls
          (func (export "spin") (param $to i64)
            (call $ready (local.get $to))
            (loop $l (br $l)))
          ;; the same, in a loop that calls a function each round
          (func $step (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
          (func (export "spin_calls") (param $to i64) (local $i i32)
            (call $ready (local.get $to))
            (loop $l (local.set $i (call $step (local.get $i))) (br $l)))
          )
        """

    // These tests wait on a thread of their own (`offPool`, blocking waits), not on the task
    // pool: a looping guest burns a CPU until the test kills it, and a test awaiting on a pool
    // that other tests keep busy would kill late, while its guests slow every other test down
    // (forty of them did, for minutes, on a loaded two-core machine).

    /// Spawns `entry` and waits until it reported that it runs.
    static func spinning(_ env: Environment, _ entry: String) throws -> ProcessID {
        let module = try GuestModule(wat: wat, name: "spin")
        let ready = env.spawn(entry: "ready") { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let pid = try env.spawnGuest(module: module, entry: entry, params: [.i64(Int64(ready))])
        #expect(env.waitForExitBlocking(of: ready, timeout: 60) == .normal)
        return pid
    }

    @Test("kill ends a guest looping without host calls", arguments: ["spin", "spin_calls"])
    func killLoop(entry: String) async throws {
        try await offPool {
            let env = Environment()
            let pid = try Self.spinning(env, entry)
            env.kill(pid)
            #expect(env.waitForExitBlocking(of: pid, timeout: 20) == .killed)
        }
    }

    /// Spawns `count` guests of `module` running `entry(i)`, each of which tells a ready
    /// process it runs; once all have, kills them one by one in an order shuffled by `seed`
    /// (unrelated to the order they end in, so the interrupter's set of guests being stopped
    /// loses members from its middle) and checks that each ends killed, within one minute for
    /// all of them, so that a stuck kill fails in a minute.
    static func killAllShuffled(
        _ env: Environment, _ module: GuestModule, count: Int, seed: UInt64, entry: (Int) -> String
    ) throws {
        let ready = env.spawn(entry: "ready") { p in
            for _ in 0..<count { _ = try await p.receive(tags: [], timeoutMs: .max) }
        }
        var pids: [ProcessID] = []
        for i in 0..<count { pids.append(try env.spawnGuest(module: module, entry: entry(i), params: [.i64(Int64(ready))])) }
        #expect(env.waitForExitBlocking(of: ready, timeout: 120) == .normal, "seed \(seed)")
        var rng = SplitMix(seed: seed)
        for pid in pids.shuffled(using: &rng) { env.kill(pid) }
        let end = MonotonicClock.now() &+ 60_000_000_000
        for pid in pids {
            let left = Double(end &- min(end, MonotonicClock.now())) / 1e9
            #expect(env.waitForExitBlocking(of: pid, timeout: left) == .killed, "seed \(seed), pid \(pid)")
        }
    }

    @Test("forty looping guests killed one by one in a shuffled order all end killed")
    func killManyLooping() async throws {
        try await offPool {
            let module = try GuestModule(wat: Self.wat, name: "spin")
            try Self.killAllShuffled(Environment(), module, count: 40, seed: 7) { $0 % 2 == 0 ? "spin" : "spin_calls" }
        }
    }

    /// Guests blocked in `receive` tell `to` they are waiting, then wait forever.
    static let blockedWAT = """
        (module
          \(GuestWAT.messageImports)
          (memory (export "memory") 1)
          \(GuestWAT.readyFunction)
          (func (export "wait") (param $to i64)
            (call $ready (local.get $to))
            (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))))
        """

    @Test("rounds of blocked guests killed one by one all end killed, each round after the last")
    func killBlockedRounds() async throws {
        // A guest killed while waiting in its mailbox ends through its wait, without the
        // interrupter; four rounds in one environment check that each round's kills still end
        // their guests whatever the earlier rounds left behind.
        try await offPool {
            let env = Environment()
            let module = try GuestModule(wat: Self.blockedWAT, name: "blocked")
            for round in 0..<4 { try Self.killAllShuffled(env, module, count: 100, seed: UInt64(round)) { _ in "wait" } }
            #expect(env.waitUntilAllExited(timeout: 60))
        }
    }

    @Test("a looping guest dies when a linked process fails")
    func linkDeathStopsLoop() async throws {
        try await offPool {
            let env = Environment()
            let pid = try Self.spinning(env, "spin")
            let failing = env.spawn(entry: "linker") { p in
                try p.link(tag: 0, to: pid)
                throw LunaTrap("linked process fails")
            }
            #expect(env.waitForExitBlocking(of: failing, timeout: 20) == .failure(reason: "linked process fails"))
            #expect(env.waitForExitBlocking(of: pid, timeout: 20) == .linkDied(from: failing))
        }
    }

    @Test("a guest's process state, store and memory are freed when it ends")
    func freedAfterExit() async throws {
        final class Weak: @unchecked Sendable { weak var process: GuestProcess? }
        let weak = Weak()
        let env = Environment()
        let module = try GuestModule(
            wat: """
                (module
                  (import "lunatic::process" "process_id" (func $pid (result i64)))
                  (memory (export "memory") 1)
                  (func (export "main") (drop (call $pid))))
                """)
        let pid = env.spawnThread(entry: "main") { context in
            let process = GuestProcess(
                context: context, module: module, options: GuestOptions(),
                config: GuestConfig.permissive())
            weak.process = process
            try process.run(entry: "main", params: [])
        }
        #expect(await env.waitForExit(of: pid, timeout: 20) == .normal)
        #expect(weak.process == nil)
    }

    @Test("custom sections are dropped at load; a malformed section list is left to the parser")
    func customSectionsDropped() throws {
        // (module (func (export "f"))) with a custom section "name" of two bytes before the type section.
        let plain: [UInt8] = [
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
            0x03, 0x02, 0x01, 0x00,
            0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,
            0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
        ]
        var withCustom = Array(plain[0..<8])
        withCustom += [0x00, 0x07, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0xaa, 0xbb]
        withCustom += plain[8...]
        #expect(GuestModule.withoutCustomSections(withCustom) == plain)
        #expect(GuestModule.withoutCustomSections(plain) == plain)
        let truncated = Array(withCustom.prefix(12))
        #expect(GuestModule.withoutCustomSections(truncated) == truncated)
        #expect(try GuestModule(bytes: withCustom).exportedFunctions == ["f"])
    }
}
