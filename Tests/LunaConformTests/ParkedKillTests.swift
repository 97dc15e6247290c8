import ConformanceKit
import Foundation
import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// Guests killed (or dead from a link) while parked in a wait have their end published by the
/// killer and their threads woken a few at a time (`UnwindGate`). Generated workloads of such
/// guests, recorded as `luna-trace record` does, must give a trace where each process's end
/// comes once, after everything it did, and that replays without divergence; and every
/// guest's thread must still unwind and free its process.
@Suite("Mass kills of parked guests")
struct ParkedKillTests {
    /// Each entry tells `to` it is about to wait (one data message), then waits forever in a
    /// different way: `wait` receives anything, `tagged` receives tag 5 only (none comes)
    /// with a 60-s timeout, `linked` links to `peer` (tag 7) and receives, `ask` sends its
    /// message with `send_receive_skip_search` and waits for a reply that never comes, `nap`
    /// sleeps for a minute.
    static let wat = """
        (module
          \(GuestWAT.messageImports)
          (import "lunatic::message" "send_receive_skip_search" (func $ask (param i64 i64) (result i32)))
          (import "lunatic::process" "link" (func $link (param i64 i64)))
          (import "lunatic::process" "sleep_ms" (func $sleep (param i64)))
          (memory (export "memory") 1)
          (data (i32.const 0) "\\05\\00\\00\\00\\00\\00\\00\\00")
          \(GuestWAT.readyFunction)
          (func (export "wait") (param $to i64) (param $peer i64)
            (call $ready (local.get $to))
            (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1))))
          (func (export "tagged") (param $to i64) (param $peer i64)
            (call $ready (local.get $to))
            (drop (call $receive (i32.const 0) (i32.const 1) (i64.const 60000))))
          (func (export "linked") (param $to i64) (param $peer i64)
            (call $link (i64.const 7) (local.get $peer))
            (call $ready (local.get $to))
            (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1))))
          (func (export "nap") (param $to i64) (param $peer i64)
            (call $ready (local.get $to))
            (call $sleep (i64.const 60000)))
          (func (export "ask") (param $to i64) (param $peer i64)
            (call $create_data (i64.const 1) (i64.const 0))
            (drop (call $ask (local.get $to) (i64.const -1)))))
        """

    final class Freed: @unchecked Sendable {
        // @unchecked Sendable: `processes` is guarded by `lock`.
        private let lock = NSLock()
        private var processes: [Weak] = []
        struct Weak { weak var process: GuestProcess? }
        func add(_ p: GuestProcess) { lock.withLock { processes.append(Weak(process: p)) } }
        var alive: Int { lock.withLock { processes.filter { $0.process != nil }.count } }
    }

    /// What one seed's workload did: its trace file, guests and their ends.
    struct Run {
        let path: String
        let guests: [ProcessID]
        let entries: [ProcessID: String]
        let exits: [ProcessID: ProcessExit?]
        let freed: Freed
    }

    /// Spawns `count` guests of random entries (links to random earlier guests), waits until
    /// all wait, then kills them in a shuffled order, singly and in batches, and waits for
    /// every end. Recorded into a trace file.
    static func run(seed: UInt64, count: Int) throws -> Run {
        var rng = SplitMix(seed: seed)
        let module = try GuestModule(wat: wat, name: "parked")
        let path = Scratch.path("luna-parked-\(seed)", extension: "trace")
        let writer = try TraceWriter(
            path: path,
            header: TraceHeader(producer: "ParkedKillTests", clock: "monotonic", wallClockStartNanos: 0, metadata: [:]))
        let env = Environment(trace: writer)
        let ready = env.spawn(entry: "ready") { p in
            for _ in 0..<count { _ = try await p.receive(tags: [], timeoutMs: .max) }
        }
        let freed = Freed()
        var guests: [ProcessID] = []
        var entries: [ProcessID: String] = [:]
        for _ in 0..<count {
            let entry = guests.isEmpty ? "wait" : ["wait", "tagged", "linked", "ask", "nap"].randomElement(using: &rng)!
            let peer = guests.randomElement(using: &rng) ?? 0
            let pid = env.spawnThread(entry: entry) { context in
                let process = GuestProcess(
                    context: context, module: module, options: GuestOptions(output: CapturedGuestOutput()),
                    config: GuestConfig.permissive())
                freed.add(process)
                try process.run(entry: entry, params: [.i64(Int64(ready)), .i64(Int64(peer))])
            }
            guests.append(pid)
            entries[pid] = entry
        }
        guard env.waitForExitBlocking(of: ready, timeout: 120) == .normal else {
            throw ValidationError("seed \(seed): the guests did not all start waiting")
        }
        // A guest tells `ready` just before it waits: a kill right after could find it between
        // the two calls (then it ends at its wait, which records nothing), so the kills begin
        // once every guest is parked.
        guard Self.waitUntilParked(env, guests, timeout: 120) else {
            throw ValidationError("seed \(seed): the guests did not all park in their waits")
        }
        var order = guests.shuffled(using: &rng)
        while !order.isEmpty {
            let n = min(order.count, Int.random(in: 1...8, using: &rng))
            let batch = Array(order.prefix(n))
            order.removeFirst(n)
            if n == 1 { env.kill(batch[0]) } else { env.kill(all: batch) }
        }
        let end = MonotonicClock.deadline(after: 60)
        var exits: [ProcessID: ProcessExit?] = [:]
        for pid in guests {
            exits[pid] = env.waitForExitBlocking(of: pid, timeout: Double(end &- min(end, MonotonicClock.now())) / 1e9)
        }
        _ = env.waitUntilAllExited(timeout: 10)
        // The threads unwind after the ends (a few at a time): the trace stays open until all
        // have, so that anything one recorded after its end would be in it.
        let unwound = MonotonicClock.deadline(after: 60)
        while freed.alive > 0 && MonotonicClock.now() < unwound { usleep(2000) }
        _ = try writer.close()
        return Run(path: path, guests: guests, entries: entries, exits: exits, freed: freed)
    }

    /// Waits until each of `pids` is parked in a receive, skip-search or sleep wait (or gone).
    static func waitUntilParked(_ env: Environment, _ pids: [ProcessID], timeout: Double) -> Bool {
        let end = MonotonicClock.deadline(after: timeout)
        for pid in pids {
            while let mailbox = env.process(pid)?.mailbox {
                mailbox.lock.lock()
                let parked: Bool
                if case .none = mailbox.wait { parked = false } else { parked = true }
                mailbox.lock.unlock()
                if parked { break }
                if MonotonicClock.now() > end { return false }
                usleep(500)
            }
        }
        return true
    }

    struct ValidationError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    @Test("each parked guest's end comes once, after all it did, with the death it was given", arguments: [UInt64(1), 2, 3])
    func endsOnceAfterItsCalls(seed: UInt64) async throws {
        let run = try await offPool { try Self.run(seed: seed, count: 150) }
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let (_, events) = try CorpusSupport.events(of: run.path)
        for pid in run.guests {
            let own = events.filter { $0.pid == pid }
            let exits = own.filter { $0.kind == .exit }
            #expect(exits.count == 1, "seed \(seed), pid \(pid): \(exits.count) exit events")
            #expect(own.last?.kind == .exit, "seed \(seed), pid \(pid): last event \(String(describing: own.last?.kind.name))")
            guard let exit = exits.first, let code = exit.args.first else { continue }
            let ended = run.exits[pid] ?? nil
            #expect(ended == .killed || ended.map { if case .linkDied = $0 { true } else { false } } == true)
            #expect(
                code == ended?.code.rawValue, "seed \(seed), pid \(pid): exit event \(code), waited \(String(describing: ended))")
            // The wait that never returned: recorded once, a receive without a result, a sleep
            // with its never-returned flag; a skip-search records no return at all.
            let receives = own.filter { $0.kind == .receive }
            let returns = own.filter { $0.kind == .sendReceiveSkipSearchReturn }
            let sleeps = own.filter { $0.kind == .sleepMs }
            if run.entries[pid] == "ask" {
                #expect(receives.isEmpty && returns.isEmpty && sleeps.isEmpty, "seed \(seed), pid \(pid)")
            } else if run.entries[pid] == "nap" {
                #expect(receives.isEmpty, "seed \(seed), pid \(pid)")
                #expect(sleeps.map { Array($0.args) } == [[60000, 1]], "seed \(seed), pid \(pid): \(sleeps.map(\.args))")
            } else {
                #expect(receives.count == 1, "seed \(seed), pid \(pid): \(receives.count) receive events")
                #expect(receives.first?.result == CallResult.none, "seed \(seed), pid \(pid)")
            }
        }
        // Every guest's thread was woken and unwound, its process freed.
        #expect(run.freed.alive == 0, "seed \(seed): \(run.freed.alive) guest processes never freed")
    }

    @Test("a trace of parked guests killed in bulk replays without divergence", arguments: [UInt64(4), 5])
    func replays(seed: UInt64) async throws {
        let run = try await offPool { try Self.run(seed: seed, count: 60) }
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let report = try await offPool {
            try CorpusSupport.replay([TraceSource.file(run.path)], TestSupport.builtinAdapter(), callTimeout: 5)
        }
        #expect(report.allPassed, "seed \(seed): \(report.json())")
    }
}
