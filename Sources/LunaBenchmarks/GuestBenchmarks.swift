import LunaRuntime
import LunaSupport
import Synchronization
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Guest workloads for `luna-bench` (measure in release: debug WasmKit is far slower, docs/BENCHMARKS.md).
public enum GuestBenchmarks {
    /// The ping-pong guest (WebAssembly text, so the benchmark needs no files):
    /// `pong()` answers each tag-1 message to the pid in its first 8 bytes and returns on tag 2;
    /// `ping(pong, rounds)` does `rounds` request/replies with `send_receive_skip_search`, then
    /// stops pong; `ping_receive(pong, rounds)` the same with `send` + `receive([1])`;
    /// `idle(notify)` sends an empty message to `notify` and blocks in `receive` forever.
    public static let pingPongWAT = #"""
        (module
          (import "lunatic::message" "create_data" (func $create_data (param i64 i64)))
          (import "lunatic::message" "write_data" (func $write_data (param i32 i32) (result i32)))
          (import "lunatic::message" "read_data" (func $read_data (param i32 i32) (result i32)))
          (import "lunatic::message" "get_tag" (func $get_tag (result i64)))
          (import "lunatic::message" "send" (func $send (param i64) (result i32)))
          (import "lunatic::message" "send_receive_skip_search" (func $srss (param i64 i64) (result i32)))
          (import "lunatic::message" "receive" (func $receive (param i32 i32 i64) (result i32)))
          (import "lunatic::process" "process_id" (func $pid (result i64)))
          (memory (export "memory") 1)
          ;; tag set [1, 2] at 0; the received sender pid at 16; own pid at 24; reply at 32
          (data (i32.const 0) "\01\00\00\00\00\00\00\00\02\00\00\00\00\00\00\00")
          (func (export "pong")
            (loop $next
              (drop (call $receive (i32.const 0) (i32.const 2) (i64.const -1)))
              (if (i64.eq (call $get_tag) (i64.const 2)) (then (return)))
              (drop (call $read_data (i32.const 16) (i32.const 8)))
              (call $create_data (i64.const 1) (i64.const 8))
              (drop (call $write_data (i32.const 16) (i32.const 8)))
              (drop (call $send (i64.load (i32.const 16))))
              (br $next)))
          (func (export "ping") (param $pong i64) (param $rounds i32)
            (i64.store (i32.const 24) (call $pid))
            (block $done
              (loop $next
                (br_if $done (i32.eqz (local.get $rounds)))
                (call $create_data (i64.const 1) (i64.const 8))
                (drop (call $write_data (i32.const 24) (i32.const 8)))
                (if (i32.ne (call $srss (local.get $pong) (i64.const -1)) (i32.const 0)) (then unreachable))
                (drop (call $read_data (i32.const 32) (i32.const 8)))
                (if (i64.ne (i64.load (i32.const 32)) (i64.load (i32.const 24))) (then unreachable))
                (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
                (br $next)))
            (call $create_data (i64.const 2) (i64.const 0))
            (drop (call $send (local.get $pong))))
          (func (export "ping_receive") (param $pong i64) (param $rounds i32)
            (i64.store (i32.const 24) (call $pid))
            (block $done
              (loop $next
                (br_if $done (i32.eqz (local.get $rounds)))
                (call $create_data (i64.const 1) (i64.const 8))
                (drop (call $write_data (i32.const 24) (i32.const 8)))
                (drop (call $send (local.get $pong)))
                (if (i32.ne (call $receive (i32.const 0) (i32.const 1) (i64.const -1)) (i32.const 0))
                  (then unreachable))
                (drop (call $read_data (i32.const 32) (i32.const 8)))
                (if (i64.ne (i64.load (i32.const 32)) (i64.load (i32.const 24))) (then unreachable))
                (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
                (br $next)))
            (call $create_data (i64.const 2) (i64.const 0))
            (drop (call $send (local.get $pong))))
          (func (export "idle") (param $notify i64)
            (call $create_data (i64.const 0) (i64.const 0))
            (drop (call $send (local.get $notify)))
            (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))))
        """#

    /// Why a benchmark run could not complete.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
    }

    /// The compiled ping-pong module.
    public static func pingPongModule() throws -> GuestModule {
        try GuestModule(wat: pingPongWAT, name: "guest-pingpong")
    }

    /// Runs `roundTrips` request/replies between two guest processes (each on its own thread)
    /// in a fresh environment and returns round trips per second, measured from the moment both
    /// guests run until ping ends. `skipSearch` chooses `send_receive_skip_search` (lunatic's
    /// request/reply call) over `send` + `receive`.
    public static func pingPongRate(
        roundTrips: Int, skipSearch: Bool = true, module: GuestModule? = nil, trace: (any TraceSink)? = nil
    ) throws -> Double {
        let module = try module ?? pingPongModule()
        let environment = Environment(trace: trace)
        let options = GuestOptions(output: CapturedGuestOutput())
        let pong = try environment.spawnGuest(module: module, entry: "pong", options: options)
        // warm up both threads and their instances
        let warmUp = try environment.spawnGuest(
            module: module, entry: skipSearch ? "ping" : "ping_receive",
            params: [.i64(Int64(pong)), .i32(1)], options: options)
        guard environment.waitForExitBlocking(of: warmUp, timeout: 60) == .normal,
            environment.waitForExitBlocking(of: pong, timeout: 60) == .normal
        else {
            throw Failure(description: "guest ping-pong warm-up failed")
        }
        let pong2 = try environment.spawnGuest(module: module, entry: "pong", options: options)
        let start = MonotonicClock.now()
        let ping = try environment.spawnGuest(
            module: module, entry: skipSearch ? "ping" : "ping_receive",
            params: [.i64(Int64(pong2)), .i32(Int32(clamping: roundTrips))], options: options)
        guard environment.waitForExitBlocking(of: ping, timeout: 600) == .normal else {
            throw Failure(description: "guest ping did not end normally: \(String(describing: environment.exitStatus(of: ping)))")
        }
        let seconds = Double(MonotonicClock.now() - start) / 1e9
        _ = environment.waitUntilAllExited(timeout: 60)
        return Double(roundTrips) / seconds
    }

    /// Round trips per second of two bare threads handing a turn back and forth through two
    /// atomic flags, each waiting with the guest waiter's own spin (`ProcessContext.spin`): no
    /// mailbox, no host call, no wasm. It is the floor under P6: what any two-thread
    /// ping-pong pays for the hand-offs alone on this machine.
    public static func threadHandoffRate(roundTrips: Int) -> Double {
        final class Pair: @unchecked Sendable {
            // @unchecked Sendable: the flags are atomics; `seconds` is written by the ping
            // thread before it counts itself done under `lock`, and read after that.
            let ping = Atomic<Bool>(false)
            let pong = Atomic<Bool>(false)
            let lock = ConditionLock()
            var finished = 0
            var seconds = 0.0
            func finish() {
                lock.withLock {
                    finished += 1; lock.broadcast()
                }
            }
        }
        let pair = Pair()
        let rounds = max(1, roundTrips)
        let startedPong = startThread(stackSize: 1 << 20, name: "handoff-pong") {
            var state = SpinState()
            for _ in 0..<rounds {
                while !ProcessContext.spin(until: pair.pong, deadline: nil, state: &state) {}
                pair.pong.store(false, ordering: .relaxed)
                pair.ping.store(true, ordering: .releasing)
            }
            pair.finish()
        }
        let startedPing =
            startedPong
            && startThread(stackSize: 1 << 20, name: "handoff-ping") {
                var state = SpinState()
                let start = MonotonicClock.now()
                for _ in 0..<rounds {
                    pair.pong.store(true, ordering: .releasing)
                    while !ProcessContext.spin(until: pair.ping, deadline: nil, state: &state) {}
                    pair.ping.store(false, ordering: .relaxed)
                }
                pair.seconds = Double(MonotonicClock.now() - start) / 1e9
                pair.finish()
            }
        guard startedPing else { return 0 }
        pair.lock.withLock {
            while pair.finished < 2 { pair.lock.wait(untilMonotonicNs: nil) }
        }
        return Double(rounds) / pair.seconds
    }

    /// Spawns `count` guest processes that each block in `receive`, and returns the resident
    /// memory they add, in bytes per process (WasmKit store, instance, 64 KiB linear memory,
    /// interpreter stack and the thread's touched stack pages). Kills them afterwards.
    public static func idleMemoryPerProcess(count: Int, module: GuestModule? = nil) throws -> Double {
        let module = try module ?? pingPongModule()
        let environment = Environment()
        let ready = Counter()
        let before = residentBytes()
        let collector = environment.spawn(entry: "collector") { context in
            for _ in 0..<count {
                _ = try await context.receive(tags: [], timeoutMs: .max)
                ready.increment()
            }
        }
        var pids: [ProcessID] = []
        for _ in 0..<count {
            pids.append(try environment.spawnGuest(module: module, entry: "idle", params: [.i64(Int64(collector))]))
        }
        guard environment.waitForExitBlocking(of: collector, timeout: 600) == .normal else {
            throw Failure(description: "idle guests did not all start")
        }
        let after = residentBytes()
        let victims = pids
        let killer = environment.spawn(entry: "killer") { context in
            for pid in victims { try context.kill(pid) }
        }
        _ = environment.waitForExitBlocking(of: killer, timeout: 60)
        _ = environment.waitUntilAllExited(timeout: 120)
        return Double(max(0, after - before)) / Double(count)
    }

    private final class Counter: @unchecked Sendable {
        // @unchecked Sendable: only touched by the one collector process body.
        var value = 0
        func increment() { value += 1 }
    }

    /// Resident set size of this process (Linux /proc/self/statm), 0 where unavailable.
    private static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 128)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return 0 }
        let line = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let fields = line.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
