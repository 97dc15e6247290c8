import ConformanceFuzz
import ConformanceKit
import Foundation
import LunaRuntime
import LunaTestSupport
import Testing
import TraceFormat

/// Paths the tests share.
enum FuzzSupport {
    static var packageRoot: String { LunaTestSupport.packageRoot }

    /// The `luna-conform` executable of the build these tests belong to.
    static var lunaConform: String { builtExecutablePath("luna-conform") }

    static var builtin: [String] { [lunaConform, "adapter"] }
    static var python: [String] { ["python3", packageRoot + "/adapters/python/luna_adapter.py"] }

    /// The generator profile that stays clear of most open causes of the built-in adapter
    /// (docs/FUZZING.md, "Known divergences"): no lifecycle calls, and skip-search calls that
    /// do not wait for a reply.
    static var clearOfKnownIssues: WorkloadGenerator.Options {
        var o = WorkloadGenerator.Options()
        o.lifecycle = false
        o.skipSearchWaits = false
        return o
    }

    /// The calls of a trace without times or message ids, process by process.
    static func calls(_ events: [TraceEvent]) -> [UInt64: [String]] {
        var out: [UInt64: [String]] = [:]
        for e in events where e.kind != .start {
            out[e.pid, default: []].append("\(e.kind.name) \(Array(e.args)) \(e.tags) \(e.result) \(e.text) \(e.payload)")
        }
        return out
    }
}

@Suite("Fuzzing: generation and recording")
struct FuzzRecordingTests {
    @Test("the same seed records the same calls (workloads without timing races)")
    func sameTraceCalls() {
        var options = FuzzSupport.clearOfKnownIssues
        options.finiteTimeouts = false
        let g = WorkloadGenerator(options: options)
        let recorder = WorkloadRecorder()
        for seed: UInt64 in [1, 7, 99] {
            let w = g.generate(seed: seed)
            let a = recorder.record(w), b = recorder.record(g.generate(seed: seed))
            #expect(a.endedCleanly && b.endedCleanly)
            #expect(FuzzSupport.calls(a.events) == FuzzSupport.calls(b.events), "seed \(seed)")
            #expect(a.events.count > 20)
        }
    }

    @Test("generated workloads cover the message API and lifecycle")
    func coverage() {
        let g = WorkloadGenerator()
        let recorder = WorkloadRecorder()
        var kinds = Set<String>()
        var traps = Set<String>()
        var exits = Set<Int64>()
        var receiveCodes = Set<Int64>()
        for seed: UInt64 in 1...40 {
            let r = recorder.record(g.generate(seed: seed))
            #expect(r.endedCleanly, "seed \(seed)")
            for e in r.events {
                kinds.insert(e.kind.name)
                if let t = e.result.trapReason { traps.insert(t) }
                if e.kind == .exit, let s = e.args.at(0) { exits.insert(s) }
                if e.kind == .receive, let v = e.result.value { receiveCodes.insert(v) }
            }
        }
        for k in [
            "create_data", "write_data", "read_data", "seek_data", "get_tag", "data_size", "send", "receive",
            "send_receive_skip_search", "send_receive_skip_search_return", "push_module", "push_tcp_stream",
            "push_tls_stream", "push_udp_socket", "take_module", "take_tcp_stream", "take_tls_stream",
            "take_udp_socket", "spawn", "link", "unlink", "kill", "die_when_link_dies", "link_died", "exit",
        ] {
            #expect(kinds.contains(k), "no \(k) in 40 workloads")
        }
        #expect(exits == [0, 1, 2, 3])
        #expect(receiveCodes == [0, 1, 9027])
        #expect(traps.count >= 8, "traps seen: \(traps.sorted())")
    }
}

@Suite("Fuzzing: replay round trips", .serialized)
struct FuzzRoundTripTests {
    static func fuzz(
        _ adapter: [String], count: Int, seed: UInt64, reference: [String]? = nil,
        generator: WorkloadGenerator.Options = FuzzSupport.clearOfKnownIssues
    ) async -> Fuzzer.Result {
        var options = Fuzzer.Options(adapter: adapter)
        options.seed = seed
        options.count = count
        options.generator = generator
        options.shrink = false
        options.reference = reference
        let o = options
        return await offPool { Fuzzer(options: o).run() }
    }

    @Test("generated workloads with every kind of interaction replay on the Python adapter without divergence")
    func python() async {
        // No reference: a divergence of Luna's own recording or replay fails here too.
        let r = await Self.fuzz(FuzzSupport.python, count: 60, seed: 1_000, generator: WorkloadGenerator.Options())
        #expect(r.outcomes.count == 60)
        #expect(
            r.failure?.signature == nil,
            "\(r.outcomes.filter(\.countsAsFailure).map { ConformanceReport.textLines($0).joined(separator: "\n") })")
    }

    @Test("generated workloads replay on the built-in adapter without divergence of its own")
    func builtin() async {
        // A trace that diverges on the Python adapter too is skipped: that is a divergence of
        // Luna's recorder or replay engine (docs/FUZZING.md, "Known divergences"), not of the
        // built-in adapter.
        let r = await Self.fuzz(FuzzSupport.builtin, count: 60, seed: 2_000, reference: FuzzSupport.python)
        #expect(r.outcomes.count == 60)
        #expect(
            r.failure?.signature == nil,
            "\(r.outcomes.filter(\.countsAsFailure).map { ConformanceReport.textLines($0).joined(separator: "\n") })")
    }
}
