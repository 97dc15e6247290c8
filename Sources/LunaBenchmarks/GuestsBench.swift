import ArgumentParser
import Foundation
import LunaRuntime
import LunaSupport
import Synchronization
import TraceFormat

/// `luna-bench guests`: the figures real lunatic programs depend on, measured on a large
/// generated guest (`LargeGuest`: ~16 MB, thousands of functions). Measure a release build:
/// debug WasmKit is far slower (docs/BENCHMARKS.md).
public struct GuestsBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "guests",
        abstract: "Spawn latency, recursive spawns, panic→trap, memory.grow and kill on a large guest.")

    @Option(help: "Functions in the generated guest.") var functions = 4000
    @Option(help: "Data segment of the generated guest, in MiB.") var dataMib = 16
    @Option(help: "Guest-spawned children whose spawn → first host call is measured.") var spawns = 200
    @Option(help: "Length of the chain of guests each spawned by the previous one.") var chain = 1000
    @Option(help: "Panicking guests measured.") var panics = 20
    @Option(help: "Single-page memory.grow calls.") var grows = 1000
    @Option(help: "Looping guests killed.") var loops = 10
    @Option(help: "Blocked guests killed at once.") var blocked = 10_000
    @Flag(inversion: .prefixedNo, help: "Spawns take instances prepared in the background (InstancePool).")
    var pool = true
    @Option(help: "Nice value of the thread that prepares pooled instances (0 to 19).") var prepareNice: Int32 = 19

    public init() {}

    public func run() throws {
        let t0 = MonotonicClock.now()
        let bytes = try LargeGuest.build(functions: functions, dataBytes: dataMib << 20)
        Self.say(
            String(
                format: "large guest: %d bytes, %d functions, %d MiB data (clang %.1f s)",
                bytes.count, functions, dataMib, Double(MonotonicClock.now() - t0) / 1e9))
        InstancePreparer.niceness.store(prepareNice, ordering: .relaxed)
        let t1 = MonotonicClock.now()
        let module = try GuestModule(bytes: bytes, name: "large.wasm", memoryImages: true, pooling: pool)
        Self.say(String(format: "  load (parse + validate once):         %8.1f ms", Double(MonotonicClock.now() - t1) / 1e6))
        try spawnLatency(module)
        try chainOfSpawns(module)
        try panicToTrap(module)
        try memoryGrowth(module)
        try killLooping(module)
        try killBlocked()
        if pool { try idlePoolCost(bytes) }
    }

    // MARK: figures

    /// Spawn → the child's first host call: `spawn_children` spawns `first_call` children one
    /// at a time; per child, from the parent's `spawn` event to the child's `process_id` event.
    func spawnLatency(_ module: GuestModule) throws {
        let takenBefore = module.pool?.takenCount ?? 0
        let trace = TraceCollector()
        let env = Environment(trace: trace)
        let pid = try env.spawnGuest(
            module: module, entry: "spawn_children", params: [.i32(Int32(spawns))],
            options: GuestOptions(output: DiscardingGuestOutput()))
        guard env.waitForExitBlocking(of: pid, timeout: 600) == .normal else {
            throw ValidationError("spawn_children did not end normally")
        }
        let events = trace.events
        var firstCall: [UInt64: UInt64] = [:]
        for e in events where e.kind == .processId && firstCall[e.pid] == nil { firstCall[e.pid] = e.start }
        let latencies = events.compactMap { e -> Double? in
            guard e.kind == .spawn, e.pid == pid, let child = e.args.at(0), let first = firstCall[UInt64(child)]
            else { return nil }
            return Double(first &- e.start) / 1e6
        }
        Self.say(
            String(
                format:
                    "  spawn → child's first host call:      %8.3f ms median, %.3f p90, %.3f max (%d children; goal ≤ 1 ms median)",
                Self.percentile(latencies, 0.5), Self.percentile(latencies, 0.9), latencies.max() ?? 0, latencies.count)
                + Self.pooled(module, since: takenBefore))
    }

    /// `chain` guests each spawning the next: from the host's spawn until the last one's
    /// message reaches a native receiver.
    func chainOfSpawns(_ module: GuestModule) throws {
        let takenBefore = module.pool?.takenCount ?? 0
        let env = Environment()
        let root = env.spawn(entry: "root") { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let t0 = MonotonicClock.now()
        try env.spawnGuest(
            module: module, entry: "chain", params: [.i32(Int32(chain)), .i64(Int64(root))],
            options: GuestOptions(output: DiscardingGuestOutput()))
        guard env.waitForExitBlocking(of: root, timeout: 600) == .normal else {
            throw ValidationError("the chain did not reach its end")
        }
        let seconds = Double(MonotonicClock.now() - t0) / 1e9
        _ = env.waitUntilAllExited(timeout: 60)
        Self.say(
            String(format: "  %d recursive guest spawns:           %8.3f s (goal ≤ 1 s)", chain, seconds)
                + Self.pooled(module, since: takenBefore))
    }

    /// The time between a panicking guest's message (its `fd_write` returning) and its `trap`.
    func panicToTrap(_ module: GuestModule) throws {
        var gaps: [Double] = []
        for _ in 0..<panics {
            let trace = TraceCollector()
            let env = Environment(trace: trace)
            let pid = try env.spawnGuest(module: module, entry: "panic", options: GuestOptions(output: DiscardingGuestOutput()))
            _ = env.waitForExitBlocking(of: pid, timeout: 60)
            let events = trace.events
            guard let write = events.last(where: { $0.kind == .wasiCall && $0.text == "fd_write" }),
                let trap = events.first(where: { $0.kind == .trap })
            else {
                throw ValidationError("the panicking guest recorded no fd_write or trap")
            }
            gaps.append(Double(trap.start &- write.end) / 1e6)
        }
        Self.say(
            String(
                format: "  panic message → trap event:           %8.3f ms median, %.3f max (%d guests; goal ≤ 10 ms)",
                Self.percentile(gaps, 0.5), gaps.max() ?? 0, gaps.count))
    }

    /// `grows` single-page `memory.grow` calls (a `grow(n)` run minus a `grow(0)` run), and
    /// the host memory of a guest that grew and touched every page, against its memory size.
    func memoryGrowth(_ module: GuestModule) throws {
        func run(_ pages: Int32) throws -> Double {
            let trace = TraceCollector()
            let env = Environment(trace: trace)
            let pid = try env.spawnGuest(
                module: module, entry: "grow", params: [.i32(pages)],
                options: GuestOptions(output: DiscardingGuestOutput()))
            guard env.waitForExitBlocking(of: pid, timeout: 600) == .normal else { throw ValidationError("grow failed") }
            let events = trace.events
            guard let start = events.first(where: { $0.kind == .start }), let exit = events.last(where: { $0.kind == .exit })
            else { throw ValidationError("grow recorded no start or exit") }
            return Double(exit.start - start.start) / 1e6
        }
        var base: [Double] = [], grown: [Double] = []
        for _ in 0..<5 {
            base.append(try run(0))
            grown.append(try run(Int32(grows)))
        }
        let ms = Self.percentile(grown, 0.5) - Self.percentile(base, 0.5)
        Self.say(
            String(
                format: "  %d single-page memory.grow:          %8.3f ms (run %.3f ms − baseline %.3f ms; goal ≤ 10 ms)",
                grows, ms, Self.percentile(grown, 0.5), Self.percentile(base, 0.5)))

        // Host memory: the guest grows, writes every page, reports, and blocks.
        let env = Environment()
        let before = Self.residentBytes()
        let watcher = env.spawn(entry: "watcher") { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        let guest = try env.spawnGuest(
            module: module, entry: "grow_touch_report",
            params: [.i32(Int32(grows)), .i64(Int64(watcher))],
            options: GuestOptions(output: DiscardingGuestOutput()))
        guard env.waitForExitBlocking(of: watcher, timeout: 600) == .normal else {
            throw ValidationError("grow_touch_report failed")
        }
        let after = Self.residentBytes()
        env.kill(guest)
        _ = env.waitUntilAllExited(timeout: 60)
        let guestBytes = Double(Int(grows) * 65536 + (dataMib << 20))
        Self.say(
            String(
                format:
                    "  host memory of a guest grown by %d pages, all touched: %.1f MiB for %.1f MiB of guest memory (%.0f%%; goal ≤ 110%%)",
                grows, Double(after - before) / 1048576, guestBytes / 1048576, Double(after - before) / guestBytes * 100))
    }

    /// A guest looping without host calls, killed by the host: from `kill` to its exit. The
    /// guest tells a watcher before it starts looping, and the kill comes after that: a kill
    /// that came while the guest was still instantiating would time its instantiation.
    func killLooping(_ module: GuestModule) throws {
        var times: [Double] = []
        for _ in 0..<loops {
            let env = Environment()
            let watcher = env.spawn(entry: "watcher") { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
            let pid = try env.spawnGuest(
                module: module, entry: "spin_after_ready", params: [.i64(Int64(watcher))],
                options: GuestOptions(output: DiscardingGuestOutput()))
            guard env.waitForExitBlocking(of: watcher, timeout: 60) == .normal else {
                Self.say("  kill of a looping guest: the guest did not start within 60 s")
                return
            }
            let t0 = MonotonicClock.now()
            env.kill(pid)
            guard env.waitForExitBlocking(of: pid, timeout: 10) == .killed else {
                Self.say("  kill of a looping guest: not ended within 10 s")
                return
            }
            times.append(Double(MonotonicClock.now() - t0) / 1e6)
        }
        Self.say(
            String(
                format: "  kill of a looping guest → exit:       %8.3f ms median, %.3f max (%d guests; goal ≤ 10 ms)",
                Self.percentile(times, 0.5), times.max() ?? 0, times.count))
    }

    /// `blocked` guests (a small module) blocked in `receive`, all killed by the host: from
    /// the first kill until the last exit.
    func killBlocked() throws {
        let module = try GuestModule(wat: GuestBenchmarks.pingPongWAT, name: "idle")
        let env = Environment()
        let count = blocked
        let ready = env.spawn(entry: "ready") { p in
            for _ in 0..<count { _ = try await p.receive(tags: [], timeoutMs: .max) }
        }
        var pids: [ProcessID] = []
        pids.reserveCapacity(blocked)
        let t0 = MonotonicClock.now()
        for _ in 0..<blocked {
            pids.append(
                try env.spawnGuest(
                    module: module, entry: "idle", params: [.i64(Int64(ready))],
                    options: GuestOptions(output: DiscardingGuestOutput())))
        }
        guard env.waitForExitBlocking(of: ready, timeout: 600) == .normal else { throw ValidationError("guests did not start") }
        let started = Double(MonotonicClock.now() - t0) / 1e9
        let t1 = MonotonicClock.now()
        // Each kill call timed too: most take microseconds, and a few hundred stalled ones (the
        // killer descheduled among the woken guests, or waiting for a lock one of them holds)
        // make most of the figure.
        var callTimes: [Double] = []
        callTimes.reserveCapacity(pids.count)
        for pid in pids {
            let k0 = MonotonicClock.now()
            env.kill(pid)
            callTimes.append(Double(MonotonicClock.now() - k0) / 1e3)
        }
        let killing = Double(MonotonicClock.now() - t1) / 1e9
        let slow = callTimes.filter { $0 > 1000 }
        Self.say(
            String(
                format: "  kill call: %.1f µs median, %.1f p99, %.0f max; %d calls over 1 ms took %.3f s in all",
                Self.percentile(callTimes, 0.5), Self.percentile(callTimes, 0.99), callTimes.max() ?? 0, slow.count,
                slow.reduce(0, +) / 1e6))
        var last = 0.0, exits: [Double] = []
        for pid in pids {
            _ = env.waitForExitBlocking(of: pid, timeout: 120)
            last = Double(MonotonicClock.now() - t1) / 1e9
            exits.append(last)
        }
        _ = env.waitUntilAllExited(timeout: 60)
        Self.say(
            String(
                format:
                    "  kill of %d blocked guests → all exits:  %8.3f s (the kill calls %.3f s, half the exits by %.3f s; %.1f s to start them all; goal ≤ 1 s)",
                blocked, last, killing, Self.percentile(exits, 0.5), started))

        // The same number killed right after being spawned, those not yet waiting still starting.
        let env2 = Environment()
        let sink = env2.spawn(entry: "sink") { p in _ = try await p.receive(tags: [], timeoutMs: .max) }
        var pids2: [ProcessID] = []
        pids2.reserveCapacity(blocked)
        for _ in 0..<blocked {
            pids2.append(
                try env2.spawnGuest(
                    module: module, entry: "idle", params: [.i64(Int64(sink))],
                    options: GuestOptions(output: DiscardingGuestOutput())))
        }
        let t2 = MonotonicClock.now()
        for pid in pids2 { env2.kill(pid) }
        for pid in pids2 { _ = env2.waitForExitBlocking(of: pid, timeout: 120) }
        let whileStarting = Double(MonotonicClock.now() - t2) / 1e9
        env2.kill(sink)
        _ = env2.waitUntilAllExited(timeout: 60)
        Self.say(String(format: "  kill of %d guests just spawned → all exits: %6.3f s (goal ≤ 1 s)", blocked, whileStarting))

        // A guest killed while parked in its mailbox has ended when its kill returns; its
        // thread unwinds and frees its instance afterwards, a few at a time (`UnwindGate`),
        // and each spawn above reclaimed one of them first. How long until none is left:
        let deadline = MonotonicClock.deadline(after: 120)
        while UnwindGate.shared.pending > 0 && MonotonicClock.now() < deadline { usleep(1000) }
        let left = UnwindGate.shared.pending
        Self.say(
            String(
                format: "  threads of the %d killed guests unwound: %6.3f s after the first kill", 2 * blocked,
                Double(MonotonicClock.now() - t1) / 1e9) + (left > 0 ? " (\(left) still waiting after 120 s)" : ""))
    }

    // MARK: helpers

    /// Prints a line at once (unbuffered), so each figure shows as soon as it is measured.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// The resident memory a full pool of idle prepared instances holds, for a module of its
    /// own loaded from `bytes`.
    func idlePoolCost(_ bytes: [UInt8]) throws {
        let module = try GuestModule(bytes: bytes, name: "large.wasm", memoryImages: true, pooling: true)
        guard let pool = module.pool else { return }
        let resident = Self.residentBytes(), mappings = Self.mappingCount()
        pool.fill()
        let deadline = MonotonicClock.deadline(after: 30)
        while pool.readyCount < pool.capacity, MonotonicClock.now() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        let count = Double(max(pool.readyCount, 1))
        Self.say(
            String(
                format: "  idle pooled instance:                 %8.2f MiB resident, %.1f mappings (%d idle)",
                Double(Self.residentBytes() - resident) / count / 1_048_576,
                Double(Self.mappingCount() - mappings) / count, pool.readyCount))
    }

    /// The process's mappings: lines of /proc/self/maps, read to its end (procfs files report
    /// no size).
    static func mappingCount() -> Int {
        let fd = open("/proc/self/maps", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var lines = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return lines }
            for i in 0..<n where buffer[i] == UInt8(ascii: "\n") { lines += 1 }
        }
    }

    /// How many processes took a prepared instance since `since` (nothing without a pool).
    static func pooled(_ module: GuestModule, since: Int) -> String {
        guard let pool = module.pool else { return "" }
        return " [\(pool.takenCount - since) from the pool]"
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
    }

    static func residentBytes() -> Int { RuntimeBench.residentBytes() }
}

/// Guest output that is thrown away.
final class DiscardingGuestOutput: GuestOutput {
    func write(pid: ProcessID, fd: Int32, bytes: UnsafeRawBufferPointer) {}
}
