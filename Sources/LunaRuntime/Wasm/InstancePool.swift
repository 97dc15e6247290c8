import LunaSupport
import Synchronization
import WasmKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An instance of a module made before any process asked for it: its own store (and engine),
/// its memory image in place, its imports bound to `binding` (no process yet).
package final class PreparedInstance: @unchecked Sendable {
    // @unchecked Sendable: made on the preparer's thread, then used by one process's thread
    // only; the hand-over goes through the pool's lock.
    package let store: Store
    package let instance: Instance
    package let binding: GuestBinding
    /// The instance's exported `memory`, if any.
    package let memory: Memory?

    init(store: Store, instance: Instance, binding: GuestBinding) {
        self.store = store
        self.instance = instance
        self.binding = binding
        self.memory = instance.exports[memory: "memory"]
    }
}

/// Instances of one module prepared in the background, so that a spawn takes a ready instance
/// instead of instantiating on the new process's critical path.
///
/// Only modules with a memory image have a pool (`GuestModule.pool`): their instantiation runs
/// no guest code and calls no host function (no start function), so making the instance
/// earlier, on another thread, is unobservable; an idle instance's memory is the shared image
/// (its pages cost nothing until written); and a failed instantiation is a property of the
/// module, so the first one turns the pool off and every process instantiates for itself,
/// reporting the error as before. A process takes a prepared instance only when its config
/// would have let instantiation succeed (`max_memory` at least the initial memory; tables are
/// not limited), and then gets its config's fuel and memory limiter on the store: WasmKit
/// reads the store's limiter at each `memory.grow`, so it applies as if set before
/// instantiation.
///
/// A pool starts filling at its module's second spawn (a module spawned once gains nothing),
/// holds at most `capacity` idle instances, and all pools together at most
/// `InstancePreparer.maxIdle` (each idle instance holds a 4 GiB address reservation and its
/// entities): once that budget is spent, the pool least recently asked for an instance gives
/// one up to the pool asking now. Idle instances are freed with the module.
package final class InstancePool: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is read and written under `lock`; `module` is
    // set once in the module's init.

    /// The most idle instances one module keeps.
    package static let defaultCapacity = 4

    /// The module the instances are of (weak: the module owns its pool).
    weak var module: GuestModule?
    /// The largest `max_memory` that instantiation would have refused: the initial memory size.
    let initialMemoryBytes: Int
    /// The most idle instances this pool keeps.
    package let capacity: Int

    private let lock = ConditionLock()
    private var ready: [PreparedInstance] = []
    private var spawns = 0
    /// Whether the preparer has this pool in its queue (or is preparing for it).
    private var queued = false
    /// Set when an instantiation failed: the module is never pooled again.
    private var disabled = false
    private var taken = 0
    /// When a process last asked this pool for an instance (or `fill` was called): the pool
    /// least recently asked gives up an idle instance when the budget is spent.
    private var lastUse: UInt64 = 0

    /// The thread that fills the pool (`InstancePreparer.shared` but in tests).
    let preparer: InstancePreparer

    init(initialMemoryBytes: Int, capacity: Int = InstancePool.defaultCapacity, preparer: InstancePreparer = .shared) {
        self.initialMemoryBytes = initialMemoryBytes
        self.capacity = capacity
        self.preparer = preparer
    }

    deinit {
        preparer.released(ready.count)
    }

    /// A prepared instance for a process whose config has `maxMemory`, or nil (the process
    /// instantiates for itself). Counts the spawn, and asks for more instances from the second.
    package func take(maxMemory: UInt64) -> PreparedInstance? {
        lock.lock()
        spawns += 1
        lastUse = MonotonicClock.now()
        var instance: PreparedInstance?
        if maxMemory >= UInt64(initialMemoryBytes) { instance = ready.popLast() }
        if instance != nil { taken += 1 }
        let refill = wantsRefill
        if refill { queued = true }
        lock.unlock()
        if instance != nil { preparer.released(1) }
        if refill { preparer.enqueue(self) }
        return instance
    }

    /// Starts filling the pool now, without waiting for a second spawn.
    package func fill() {
        lock.lock()
        spawns = max(spawns, 2)
        lastUse = MonotonicClock.now()
        let refill = wantsRefill
        if refill { queued = true }
        lock.unlock()
        if refill { preparer.enqueue(self) }
    }

    /// Idle instances (for tests and benchmarks).
    package var readyCount: Int { lock.withLock { ready.count } }
    /// Instances handed to processes so far (for tests and benchmarks).
    package var takenCount: Int { lock.withLock { taken } }
    /// Whether a failed instantiation turned the pool off (for tests).
    package var isDisabled: Bool { lock.withLock { disabled } }

    /// Under `lock`: whether the preparer should be asked for an instance.
    private var wantsRefill: Bool { !disabled && !queued && spawns >= 2 && ready.count < capacity }

    /// Makes one instance (on the preparer's thread, its slot in the budget reserved) and
    /// returns whether the pool wants another.
    fileprivate func prepareOne() -> Bool {
        let prepared = makeInstance()
        lock.lock()
        if let prepared { ready.append(prepared) } else { disabled = true }
        let more = !disabled && ready.count < capacity
        if !more { queued = false }
        lock.unlock()
        if prepared == nil { preparer.released(1) }
        return more
    }

    /// Makes one instance on the calling thread and adds it (tests: a pool ready without
    /// waiting for the preparer, whose queue may hold other modules' work); false when the
    /// module is gone or its instantiation failed (the pool is then off).
    package func prepareNow() -> Bool {
        preparer.reserved()
        let prepared = makeInstance()
        lock.withLock {
            if let prepared { ready.append(prepared) } else { disabled = true }
        }
        if prepared == nil { preparer.released(1) }
        return prepared != nil
    }

    /// A new instance of the module with its imports bound to a fresh binding; nil when the
    /// module is gone or the instantiation failed.
    private func makeInstance() -> PreparedInstance? {
        guard let module else { return nil }
        let binding = GuestBinding()
        let store = Store(engine: GuestEngine.makeProcessEngine())
        do {
            let imports = GuestProcess.makeImports(module: module, store: store, binding: binding)
            let made = try module.instantiate(store: store, imports: imports)
            return PreparedInstance(store: store, instance: made.instance, binding: binding)
        } catch {
            return nil
        }
    }

    /// The preparer dropped this pool from its queue without preparing (budget exhausted).
    fileprivate func dequeued() {
        lock.withLock { queued = false }
    }

    /// When the pool was last asked for an instance, if it holds an idle one.
    fileprivate var evictable: UInt64? {
        lock.withLock { ready.isEmpty ? nil : lastUse }
    }

    /// Frees one idle instance (the budget is spent and another pool was asked more recently);
    /// false when none is left.
    fileprivate func evictOne() -> Bool {
        lock.lock()
        let evicted = ready.isEmpty ? nil : ready.removeFirst()
        lock.unlock()
        guard evicted != nil else { return false }
        preparer.released(1)
        return true
    }
}

/// The background thread that fills instance pools, at the lowest CPU priority so that it
/// uses otherwise idle CPU and yields to running guests.
package final class InstancePreparer: @unchecked Sendable {
    // @unchecked Sendable: `queue` and `started` are read and written under `lock`; `idle` is
    // atomic (a pool's deinit releases its instances without taking `lock`, so that a pool
    // freed wherever its last reference goes can never wait for a lock its thread holds).

    package static let shared = InstancePreparer()

    /// A preparer with its own thread, budget and queue, at nice `niceness` (nil: the shared
    /// setting). Tests use one so that what they wait for does not queue behind other suites'
    /// modules at the lowest priority.
    package init(niceness: Int32? = nil) {
        ownNiceness = niceness
    }

    private let ownNiceness: Int32?

    /// The most idle prepared instances of all pools together.
    package static let maxIdle = 32

    private let lock = ConditionLock()
    /// Pools waiting for an instance, served in turn (weak: a dropped module's pool is skipped).
    private var queue: [Weak] = []
    /// Pools that were given an instance (and may still hold idle ones), by identity; only
    /// the preparer's thread reads and writes it.
    private var holders: [ObjectIdentifier: Weak] = [:]
    private let idle = Atomic<Int>(0)
    private var started = false

    private struct Weak {
        weak var pool: InstancePool?
    }

    /// Idle instances of all pools, plus those being prepared (for tests).
    package var idleCount: Int { idle.load(ordering: .relaxed) }

    fileprivate func enqueue(_ pool: InstancePool) {
        lock.lock()
        queue.append(Weak(pool: pool))
        if !started {
            started = true
            _ = startThread(stackSize: 1 << 20, name: "luna-prepare") { self.serve() }
        }
        lock.signal()
        lock.unlock()
    }

    /// An instance made outside the preparer's thread joins the budget.
    fileprivate func reserved() {
        idle.add(1, ordering: .relaxed)
    }

    /// `count` idle instances left the budget (taken, failed, or freed with their pool).
    fileprivate func released(_ count: Int) {
        guard count > 0 else { return }
        idle.subtract(count, ordering: .relaxed)
    }

    private func serve() {
        Self.lowerPriority(to: ownNiceness ?? Self.niceness.load(ordering: .relaxed))
        while true {
            lock.lock()
            while queue.isEmpty { lock.wait(untilMonotonicNs: nil) }
            let next = queue.removeFirst().pool
            lock.unlock()
            guard let pool = next else { continue }
            // Only this thread adds to `idle` (tests' `prepareNow` aside), so the check and the
            // add do not overshoot.
            guard idle.load(ordering: .relaxed) < Self.maxIdle || evictLeastRecentlyUsed(sparing: pool) else {
                pool.dequeued()
                continue
            }
            idle.add(1, ordering: .relaxed)
            holders[ObjectIdentifier(pool)] = Weak(pool: pool)
            if pool.prepareOne() {
                let again = Weak(pool: pool)
                lock.withLock { queue.append(again) }
            }
        }
    }

    /// Frees an idle instance of the pool least recently asked for one (other than `pool`),
    /// forgetting pools that are gone; false when no other pool holds one.
    private func evictLeastRecentlyUsed(sparing pool: InstancePool) -> Bool {
        var victim: InstancePool?
        var oldest = UInt64.max
        for (id, holder) in holders {
            guard let candidate = holder.pool else {
                holders[id] = nil
                continue
            }
            guard candidate !== pool, let used = candidate.evictable, used < oldest else { continue }
            victim = candidate
            oldest = used
        }
        return victim?.evictOne() ?? false
    }

    /// The nice value the preparer's thread takes when it starts (benchmarks compare values;
    /// 19 is the lowest priority).
    package static let niceness = Atomic<Int32>(19)

    /// Sets the calling thread's nice value (on Linux the nice value is per thread, and `who` 0
    /// names the calling thread). Not SCHED_IDLE: a thread that might not run at all for long
    /// while holding a pool's lock would stall spawns on it.
    private static func lowerPriority(to nice: Int32) {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
        #endif
    }
}
