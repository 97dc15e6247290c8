import ArgumentParser
import Foundation

/// `luna-bench all`: every figure P1–P6 of docs/BENCHMARKS.md next to its comparison, measured in the
/// same run, as one table. Build with `-c release`; `bench/run.sh` builds and runs it.
public struct AllBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "P1–P6 side by side with their comparisons (medians of --repeats runs).",
        discussion: """
            P1 tracing overhead, P2 trace bytes/event vs zstd'd Chrome JSON, P3 stats decode vs
            zstd -dc, P4 replay vs lock-step, P5 native runtime vs Erlang/OTP (erl +S 1, same run),
            P6 wasm guest vs native ping-pong. Needs the zstd CLI on PATH (P2, P3) and
            luna-conform next to luna-bench (P4), and erl/erlc for P5's Erlang columns (the
            rows say "Erlang not installed" without them). Ping-pong figures depend on CPU placement:
            the run says whether it was pinned (`taskset -c 0`).
            """)

    @Flag(help: "Small sizes and one run each: a smoke test in seconds (figures not meaningful).")
    var quick = false

    @Option(help: "Events in the traces of P2/P3/P4 (default 1,000,000; 20,000 with --quick).")
    var events: Int?

    @Option(help: "Runs of each figure; the median is reported (default 3; 1 with --quick).")
    var repeats: Int?

    @Option(help: "Only these figures, comma-separated (e.g. P5,P6).")
    var only: String?

    @Option(help: "Conformance corpus directory for P2's per-file figure (skipped when missing).")
    var corpus = "traces/corpus"

    @Option(help: "Adapter command line for P4 (default: luna-conform adapter next to luna-bench).")
    var adapter: String?

    @Option(help: "The erl to run P5's Erlang workloads with (default: erl on PATH).")
    var erl: String?

    @Option(help: "Directory holding luna_bench.erl, P5's Erlang workloads.")
    var erlangSource = "bench"

    public init() {}

    /// Workload sizes for one run.
    struct Sizes {
        var quick: Bool
        var events: Int
        var repeats: Int
        var oneWay: Int
        var pingPong: Int
        var spawns: Int
        var idle: Int
        var guestRoundTrips: Int
        var lockStep: Int
    }

    var sizes: Sizes {
        let base =
            quick
            ? Sizes(
                quick: true, events: 20_000, repeats: 1, oneWay: 50_000, pingPong: 10_000, spawns: 5_000, idle: 1_000,
                guestRoundTrips: 2_000, lockStep: 2_000)
            : Sizes(
                quick: false, events: 1_000_000, repeats: 3, oneWay: 2_000_000, pingPong: 200_000, spawns: 200_000,
                idle: 20_000, guestRoundTrips: 100_000, lockStep: 100_000)
        var s = base
        if let events { s.events = max(1_000, events) }
        if let repeats { s.repeats = max(1, repeats) }
        return s
    }

    func wants(_ id: String) -> Bool {
        guard let only else { return true }
        return only.uppercased().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == id }
    }

    public func run() throws {
        let report = try measure()
        print("")
        print(report.table())
    }

    /// Measures the selected figures and returns the filled report (the seam the smoke test uses).
    func measure() throws -> BenchReport {
        let s = sizes
        let report = BenchReport()
        print(
            "luna-bench all: \(quick ? "QUICK (smoke sizes, figures not meaningful)" : "full sizes"), median of \(s.repeats) runs, \(Measure.pinning())"
        )
        #if DEBUG
        print("warning: debug build; measure a release build (-c release)")
        #endif
        // P5 first: its idle-memory figure needs a heap with nothing freed that new processes
        // could reuse (after the other figures it reads about half).
        var nativePingPong: NativePingPong?
        if wants("P5") { nativePingPong = try runtime(s, report) }
        if wants("P6") { try guest(s, report, native: nativePingPong) }
        if wants("P1") { try tracingOverhead(s, report) }
        if wants("P2") || wants("P3") { try traceSizeAndDecode(s, report) }
        if wants("P4") { try replay(s, report) }
        let order = ["P1", "P2", "P3", "P4", "P5", "P6"]
        report.sort { (order.firstIndex(of: $0.id) ?? 9) < (order.firstIndex(of: $1.id) ?? 9) }
        return report
    }
}
