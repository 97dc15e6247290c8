import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat
import WAT

@testable import LunaRuntime

/// Instances prepared ahead of their processes (`InstancePool`) must behave exactly as
/// instances made by the process itself: separate memories, the process's config limits, host
/// functions acting for the process that took the instance, no guest code before the process
/// runs, and no pool where instantiation could be observed.
@Suite("Prepared instance pools")
struct InstancePoolTests {
    static let wat = """
        (module
          \(GuestWAT.messageImports)
          (memory (export "memory") 1)
          (data (i32.const 16) "\\2a")
          (func $tell (param $to i64)
            (call $create_data (i64.const 1) (i64.const 0))
            (drop (call $send (local.get $to))))
          ;; traps unless the initial byte is intact, overwrites it, tells `to`, waits forever
          (func (export "claim") (param $to i64)
            (if (i32.ne (i32.load8_u (i32.const 16)) (i32.const 42)) (then unreachable))
            (i32.store8 (i32.const 16) (i32.const 7))
            (call $tell (local.get $to))
            (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1))))
          ;; grows one page at a time until refused; traps unless the memory then has `pages`
          (func (export "grow_to") (param $pages i32)
            (loop $l (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then (br $l))))
            (if (i32.ne (memory.size) (local.get $pages)) (then unreachable)))
          (func (export "spin") (loop $l (br $l)))
          (func (export "tell") (param $to i64) (call $tell (local.get $to))))
        """

    /// A pooled module whose pool has `count` instances ready (made on this thread: the
    /// preparer's queue may hold other suites' modules).
    static func filled(_ count: Int = 2) throws -> (GuestModule, InstancePool) {
        let module = try GuestModule(wat: wat, name: "pooled")
        let pool = try #require(module.pool)
        for _ in 0..<count { #expect(pool.prepareNow()) }
        #expect(pool.readyCount == count)
        return (module, pool)
    }

    /// Runs "spin" with `settings` from a filled pool and from an unpooled module: both must
    /// fail, the same way. Returns the pool's taken count before and after.
    static func failsAsUnpooled(_ settings: GuestConfig.Settings) async throws -> (after: Int, before: Int) {
        let (module, pool) = try Self.filled(1)
        let unpooled = try GuestModule(bytes: try wat2wasm(Self.wat), name: "pooled", memoryImages: true, pooling: false)
        let taken = pool.takenCount
        let env = Environment()
        let pooledExit = await env.waitForExit(of: Self.start(env, module, "spin", settings: settings), timeout: 20)
        let plainExit = await env.waitForExit(of: Self.start(env, unpooled, "spin", settings: settings), timeout: 20)
        if case .failure = plainExit {} else { Issue.record("expected a failure, got \(String(describing: plainExit))") }
        #expect(pooledExit == plainExit)
        return (pool.takenCount, taken)
    }

    /// Starts `entry` of `module` as a guest-spawned process would be, with `settings`.
    static func start(
        _ env: Environment, _ module: GuestModule, _ entry: String, _ params: [GuestValue] = [],
        settings: GuestConfig.Settings = GuestConfig.permissive().settings
    ) -> ProcessID {
        env.startGuest(
            module: module, entry: entry, params: params, link: 0, parent: nil,
            options: GuestOptions(output: CapturedGuestOutput()), config: GuestConfig(settings),
            moduleID: -1, configID: -1)
    }

    /// A native process that ends normally once `count` messages reached it.
    static func watcher(_ env: Environment, expecting count: Int) -> ProcessID {
        env.spawn(entry: "watcher") { p in
            for _ in 0..<count { _ = try await p.receive(tags: [], timeoutMs: .max) }
        }
    }

    @Test("two processes from one pool have separate memories, both starting from the image")
    func isolation() async throws {
        let (module, pool) = try Self.filled(2)
        let taken = pool.takenCount
        let env = Environment()
        let watcher = Self.watcher(env, expecting: 2)
        let first = Self.start(env, module, "claim", [.i64(Int64(watcher))])
        let second = Self.start(env, module, "claim", [.i64(Int64(watcher))])
        #expect(await env.waitForExit(of: watcher, timeout: 20) == .normal)
        #expect(pool.takenCount == taken + 2)
        env.kill(first)
        env.kill(second)
        #expect(await env.waitForExit(of: first, timeout: 20) == .killed)
        #expect(await env.waitForExit(of: second, timeout: 20) == .killed)
        // A process after them still sees the image, not their writes.
        let watcher2 = Self.watcher(env, expecting: 1)
        let third = Self.start(env, module, "claim", [.i64(Int64(watcher2))])
        #expect(await env.waitForExit(of: watcher2, timeout: 20) == .normal)
        env.kill(third)
        #expect(await env.waitForExit(of: third, timeout: 20) == .killed)
    }

    @Test("a pooled instance's host functions act for the process that took it")
    func bindsLate() async throws {
        let (module, pool) = try Self.filled(1)
        let taken = pool.takenCount
        let trace = TraceCollector()
        let env = Environment(trace: trace)
        let watcher = Self.watcher(env, expecting: 1)
        let pid = Self.start(env, module, "tell", [.i64(Int64(watcher))])
        #expect(await env.waitForExit(of: pid, timeout: 20) == .normal)
        #expect(await env.waitForExit(of: watcher, timeout: 20) == .normal)
        #expect(pool.takenCount == taken + 1)
        let sends = trace.events.filter { $0.kind == .send }
        #expect(sends.count == 1)
        #expect(sends.first?.pid == pid)
    }

    @Test("max_memory applies to a pooled instance's growth")
    func memoryLimit() async throws {
        let (module, pool) = try Self.filled(1)
        let taken = pool.takenCount
        let env = Environment()
        var settings = GuestConfig.permissive().settings
        settings.maxMemory = 3 * 65536
        let pid = Self.start(env, module, "grow_to", [.i32(3)], settings: settings)
        #expect(await env.waitForExit(of: pid, timeout: 20) == .normal)
        #expect(pool.takenCount == taken + 1)
    }

    @Test("a max_memory below the initial memory fails the process as without a pool")
    func initialMemoryOverLimit() async throws {
        var settings = GuestConfig.permissive().settings
        settings.maxMemory = 1000
        let (taken, pooled) = try await Self.failsAsUnpooled(settings)
        #expect(taken == pooled)
    }

    @Test("max_fuel applies to a pooled instance")
    func fuelLimit() async throws {
        var settings = GuestConfig.permissive().settings
        settings.maxFuel = 1
        let (taken, pooled) = try await Self.failsAsUnpooled(settings)
        #expect(taken == pooled + 1)
    }

    @Test("a process killed before its first instruction runs no guest code")
    func killedBeforeStart() async throws {
        let (module, _) = try Self.filled(1)
        let env = Environment()
        let watcher = Self.watcher(env, expecting: 1)
        let gate = ConditionLock()
        final class Flags: @unchecked Sendable { var entered = false, open = false }
        let flags = Flags()
        // The process's thread is past the environment's own check before the kill, so that
        // `run` itself meets the pending death.
        let pid = env.spawnThread(entry: "tell") { context in
            gate.lock()
            flags.entered = true
            gate.broadcast()
            while !flags.open { gate.wait(untilMonotonicNs: nil) }
            gate.unlock()
            let process = GuestProcess(
                context: context, module: module, options: GuestOptions(output: CapturedGuestOutput()),
                config: GuestConfig.permissive())
            try process.run(entry: "tell", params: [.i64(Int64(watcher))])
        }
        gate.lock()
        while !flags.entered { gate.wait(untilMonotonicNs: MonotonicClock.deadline(after: 20)) }
        gate.unlock()
        env.kill(pid)
        gate.lock()
        flags.open = true
        gate.broadcast()
        gate.unlock()
        #expect(await env.waitForExit(of: pid, timeout: 20) == .killed)
        // The guest never told the watcher; it is still waiting.
        #expect(env.kill(all: [watcher]) == [watcher])
        #expect(await env.waitForExit(of: watcher, timeout: 20) == .killed)
    }

    @Test("modules whose instantiation could be observed get no pool")
    func notPooled() throws {
        let withStart = try GuestModule(
            wat: """
                (module
                  (memory (export "memory") 1)
                  (func $init (i32.store (i32.const 0) (i32.const 1)))
                  (start $init)
                  (func (export "main")))
                """)
        #expect(withStart.pool == nil)
        let unexported = try GuestModule(wat: "(module (memory 1) (func (export \"main\")))")
        #expect(unexported.pool == nil)
        #expect(try GuestModule(wat: Self.wat).pool != nil)
    }

    @Test("the preparer fills a pool in the background, up to its capacity")
    func backgroundFill() async throws {
        // A preparer of its own at nice 0: the shared one (nice 19, other suites' modules in its
        // queue) may not run for minutes while the whole suite keeps both CPUs busy.
        let module = try GuestModule(
            bytes: try wat2wasm(Self.wat), name: "pooled", memoryImages: true, pooling: true,
            preparer: InstancePreparer(niceness: 0))
        let pool = try #require(module.pool)
        pool.fill()
        #expect(await eventually(120) { pool.readyCount == pool.capacity })
        let env = Environment()
        let watcher = Self.watcher(env, expecting: 1)
        let pid = Self.start(env, module, "tell", [.i64(Int64(watcher))])
        #expect(await env.waitForExit(of: pid, timeout: 20) == .normal)
        #expect(pool.takenCount == 1)
    }

    @Test("a module's idle instances are freed with it")
    func freedWithModule() async throws {
        final class Weak: @unchecked Sendable { weak var pool: InstancePool? }
        let weak = Weak()
        do {
            let (module, pool) = try Self.filled(InstancePool.defaultCapacity)
            weak.pool = pool
            #expect(module.pool === pool)
        }
        #expect(await eventually(20) { weak.pool == nil })
    }
}
