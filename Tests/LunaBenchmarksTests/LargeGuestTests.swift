import Foundation
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaBenchmarks
@testable import LunaRuntime

/// The large generated guest (~16 MB, a thousand functions) loads, runs, spawns from itself
/// with every child on the same loaded module, and its panics and loops end as they should.
@Suite("Large guest", .serialized)
struct LargeGuestTests {
    /// Built once per test run: the 16 MiB data segment of the benchmark's guest with 1,000
    /// functions instead of 4,000 (clang and the debug build's validation of every function
    /// would otherwise hold both CPUs of a small CI machine for a minute, starving the timed
    /// waits of other suites).
    static let module: Result<GuestModule, any Error> = Result {
        try GuestModule(bytes: try LargeGuest.build(functions: 1000), name: "large.wasm")
    }

    @Test("the generated module is large and holds its data segment")
    func size() async throws {
        let module = try Self.module.get()
        #expect(module.byteCount > 16 << 20)
        #expect(module.exportedFunctions.contains("work"))
        let env = Environment()
        let pid = try env.spawnGuest(module: module, entry: "check_data")
        #expect(await env.waitForExit(of: pid, timeout: 120) == .normal)
    }

    @Test("an instance the pool prepared holds the data segment and runs the guest")
    func pooled() async throws {
        let module = try Self.module.get()
        let pool = try #require(module.pool)
        #expect(pool.prepareNow())
        let taken = pool.takenCount
        let env = Environment()
        let pid = try env.spawnGuest(module: module, entry: "check_data")
        #expect(await env.waitForExit(of: pid, timeout: 120) == .normal)
        #expect(pool.takenCount == taken + 1)
    }

    @Test("a guest spawns children from its own module; every child runs the same loaded module")
    func spawnChildren() async throws {
        let module = try Self.module.get()
        let trace = TraceCollector()
        let env = Environment(trace: trace)
        let pid = try env.spawnGuest(module: module, entry: "spawn_children", params: [.i32(3)])
        #expect(await env.waitForExit(of: pid, timeout: 300) == .normal)
        #expect(await env.waitUntilAllExited(timeout: 60))
        let children = trace.events.filter { $0.kind == .spawn && $0.pid == pid }
        #expect(children.count == 3)
        // Every process reported the environment-wide id of its module: one id, one module.
        let ids = Set(trace.events.filter { $0.kind == .distributedCall && $0.text == "module_id" }.compactMap(\.result.value))
        #expect(ids.count == 1)
        #expect(env.guestModuleIDs.module(UInt64(ids.first ?? 0)) === module)
    }

    @Test("a chain of guests each spawned by the previous one reaches its end")
    func chain() async throws {
        let module = try Self.module.get()
        let env = Environment()
        let root = env.spawn(entry: "root") { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        try env.spawnGuest(module: module, entry: "chain", params: [.i32(5), .i64(Int64(root))])
        #expect(await env.waitForExit(of: root, timeout: 300) == .normal)
        #expect(await env.waitUntilAllExited(timeout: 60))
    }

    @Test("a panicking guest prints its message and fails with the trap")
    func panic() async throws {
        let module = try Self.module.get()
        let output = CapturedGuestOutput()
        let env = Environment()
        let pid = try env.spawnGuest(module: module, entry: "panic", options: GuestOptions(output: output))
        let exit = await env.waitForExit(of: pid, timeout: 120)
        guard case .failure(let reason) = exit else {
            Issue.record("panic ended with \(String(describing: exit))")
            return
        }
        #expect(reason.contains("unreachable"))
        #expect(output.stderr.contains("panicked at 'boom'"))
    }

    @Test("a looping large guest is ended by kill")
    func killLoop() async throws {
        // On a thread of its own: a pool kept busy by other tests would kill late, and the
        // looping guest would slow every other test meanwhile.
        try await offPool {
            let module = try Self.module.get()
            let trace = TraceCollector()
            let env = Environment(trace: trace)
            let pid = try env.spawnGuest(module: module, entry: "spin")
            // Wait until it runs (its start is recorded when its thread begins).
            for _ in 0..<6000 where !trace.events.contains(where: { $0.kind == .start && $0.pid == pid }) {
                usleep(10_000)
            }
            env.kill(pid)
            #expect(env.waitForExitBlocking(of: pid, timeout: 60) == .killed)
        }
    }

    @Test("memory.grow one page at a time: every grow succeeds")
    func grow() async throws {
        let module = try Self.module.get()
        let env = Environment()
        let watcher = env.spawn(entry: "watcher") { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let pid = try env.spawnGuest(module: module, entry: "grow_touch_report", params: [.i32(200), .i64(Int64(watcher))])
        #expect(await env.waitForExit(of: watcher, timeout: 300) == .normal)
        env.kill(pid)
        #expect(await env.waitForExit(of: pid, timeout: 60) == .killed)
    }
}
