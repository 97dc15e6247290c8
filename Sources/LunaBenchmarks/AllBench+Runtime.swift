import Foundation
import LunaRuntime
import TraceFormat

/// P5's native ping-pong rates, the comparison P6 needs.
struct NativePingPong {
    var receive: Double
    var skipSearch: Double
}

extension AllBench {
    /// The runtime workloads are RuntimeBench's own (`luna-bench runtime`), called here so
    /// both commands measure the same code.
    private var workloads: RuntimeBench { RuntimeBench() }

    // MARK: P1

    /// P1: the same message-heavy native workloads untraced, traced into a real TraceWriter
    /// (zstd file) and into a 64 MiB flight recorder, runs interleaved; overhead = (traced −
    /// untraced time) / recorded events. Then the dump of a full 64 MiB flight recorder ring.
    func tracingOverhead(_ s: Sizes, _ report: BenchReport) throws {
        let path = Measure.tempPath("p1.trace")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for workload in ["one-way", "ping-pong"] {
            let units = workload == "one-way" ? s.oneWay / 2 : s.pingPong
            var plain: [Double] = [], traced: [Double] = [], flight: [Double] = []
            let recorder = FlightRecorderBench.wrapped()
            var events: UInt64 = 0
            for _ in 0..<s.repeats {
                let run = { (trace: (any TraceSink)?) throws -> Double in
                    workload == "one-way"
                        ? try self.workloads.oneWayRate(count: units, trace: trace)
                        : try self.workloads.pingPongRate(count: units, trace: trace, skipSearch: false)
                }
                plain.append(1 / (try run(nil)))
                let writer = try TraceWriter(path: path, header: TraceHeader(producer: "luna-bench all P1"))
                traced.append(1 / (try run(writer)))
                events = try writer.close().eventCount
                flight.append(1 / (try run(recorder)))
            }
            let perUnit = Double(events) / Double(units)
            let untracedNs = Measure.median(plain) * 1e9 / perUnit
            let tracedNs = Measure.median(traced) * 1e9 / perUnit
            let overhead = tracedNs - untracedNs
            let name = workload == "one-way" ? "one-way messages" : "ping-pong round trips"
            report.add(
                BenchRow(
                    id: "P1",
                    what:
                        "tracing overhead, native \(workload) (\(units) \(name), \(String(format: "%.0f", perUnit)) events each)",
                    figure: String(format: "traced ÷ untraced %.2f (%.1f ns/event)", tracedNs / untracedNs, overhead),
                    comparison: String(
                        format: "untraced %.1f ns/event-equivalent, traced %.1f (TraceWriter, zstd file)", untracedNs, tracedNs),
                    goal: "traced ÷ untraced ≤ 1.3", met: tracedNs / untracedNs <= 1.3))
            let flightOverhead = Measure.median(flight) * 1e9 / perUnit - untracedNs
            report.add(
                BenchRow(
                    id: "P1", what: "flight recorder overhead, native \(workload) (64 MiB ring, wrapped, same runs)",
                    figure: String(format: "%.1f ns/event", flightOverhead),
                    comparison: String(
                        format: "TraceWriter %.1f ns/event (%.2f×)", overhead, flightOverhead / max(overhead, 0.1)),
                    goal: "≤ 1.0× TraceWriter", met: flightOverhead <= overhead))
        }
        let dumpPath = Measure.tempPath("p1-flight.trace")
        defer { try? FileManager.default.removeItem(atPath: dumpPath) }
        var dumps: [Double] = [], fresh: [Double] = [], steady: [Double] = []
        var last: FlightDump?
        for _ in 0..<s.repeats {
            let run = try FlightRecorderBench.fullRingDump(path: dumpPath)
            fresh.append(run.freshNs)
            steady.append(run.steadyNs)
            dumps.append(run.dump.seconds)
            last = run.dump
        }
        if let last {
            report.add(
                BenchRow(
                    id: "P1", what: "flight recorder: dump of a full 64 MiB ring (write_data-like events)",
                    figure: String(format: "%.0f ms", Measure.median(dumps) * 1e3),
                    comparison: String(
                        format:
                            "%llu events, %llu raw bytes → %.1f MB file; recording (one thread) %.1f ns/event into a fresh ring, %.1f once wrapped",
                        last.summary.eventCount, last.summary.rawBytes, Double(last.summary.fileBytes) / 1e6,
                        Measure.median(fresh), Measure.median(steady)),
                    goal: "", met: nil))
        }
        let cost = try FlightRecorderBench.recordCost(events: s.repeats > 1 ? 1_000_000 : 100_000, path: dumpPath)
        report.add(
            BenchRow(
                id: "P1",
                what: "flight recorder: recording one write_data-like event, one thread (lock + encoding; best of 6 rounds)",
                figure: String(format: "%.1f ns/event", cost.flightNs),
                comparison: String(
                    format: "TraceWriter.record %.1f ns/event, lock and copy (its queue encodes and compresses) (%.2f×)",
                    cost.writerNs, cost.flightNs / cost.writerNs),
                goal: "≤ 1.0× TraceWriter", met: cost.flightNs <= cost.writerNs))
    }

    // MARK: P5

    /// P5: native one-way, ping-pong, spawn and idle memory against Erlang/OTP running
    /// `bench/luna_bench.erl` in this run (`erl +S 1`), each Erlang run right after Luna's run
    /// of the same workload; the rows print Luna÷Erlang. Without `erl` the rows say so.
    func runtime(_ s: Sizes, _ report: BenchReport) throws -> NativePingPong {
        let w = workloads
        let erlang = ErlangBench(erl: erl, sourceDirectory: erlangSource)
        defer { erlang.cleanUp() }
        // Memory first, while the heap holds nothing freed that new processes could reuse.
        let memory = w.idleMemory(count: s.idle, thread: false)
        let erlangMemory = ErlangFigure(erlang, "idle_memory", s.idle, repeats: 1)
        var oneWay: [Double] = [], pingPong: [Double] = [], skip: [Double] = [], spawns: [Double] = []
        var erlangOneWay = ErlangFigure(erlang), erlangOneWayInt = ErlangFigure(erlang)
        var erlangPingPong = ErlangFigure(erlang), erlangPingPongInt = ErlangFigure(erlang)
        var erlangSpawns = ErlangFigure(erlang)
        for _ in 0..<s.repeats {
            oneWay.append(try w.oneWayRate(count: s.oneWay, trace: nil))
            erlangOneWay.run("one_way", s.oneWay)
            erlangOneWayInt.run("one_way_int", s.oneWay)
            pingPong.append(try w.pingPongRate(count: s.pingPong, trace: nil, skipSearch: false))
            erlangPingPong.run("ping_pong", s.pingPong)
            erlangPingPongInt.run("ping_pong_int", s.pingPong)
            skip.append(try w.pingPongRate(count: s.pingPong, trace: nil, skipSearch: true))
            spawns.append(w.spawnRate(count: s.spawns))
            erlangSpawns.run("spawn", s.spawns)
        }
        let pin = Measure.pinning()
        func ratioRow(_ what: String, _ luna: Double, _ binary: ErlangFigure, _ integer: ErlangFigure) {
            guard let b = binary.median, let i = integer.median else {
                report.add(
                    BenchRow(
                        id: "P5", what: what, figure: Measure.rate(luna),
                        comparison: binary.failure ?? integer.failure ?? erlang.label,
                        goal: "Luna÷Erlang ≥ 1.0", met: nil))
                return
            }
            let worst = luna / max(b, i)
            report.add(
                BenchRow(
                    id: "P5", what: what, figure: Measure.rate(luna),
                    comparison: String(
                        format: "%@ 8-byte binary %@, small integer %@: Luna÷Erlang %.2f (binary), %.2f (integer)",
                        erlang.label, Measure.rate(b), Measure.rate(i), luna / b, luna / i),
                    goal: "Luna÷Erlang ≥ 1.0", met: worst >= 1.0))
        }
        let lunaOneWay = Measure.median(oneWay), lunaPingPong = Measure.median(pingPong)
        ratioRow("native one-way messages/s (8-byte, \(pin))", lunaOneWay, erlangOneWay, erlangOneWayInt)
        ratioRow("native ping-pong round trips/s, send+receive (\(pin))", lunaPingPong, erlangPingPong, erlangPingPongInt)
        ratioRow(
            "native ping-pong round trips/s, send_receive_skip_search (\(pin))", Measure.median(skip),
            erlangPingPong, erlangPingPongInt)
        let lunaSpawns = Measure.median(spawns)
        report.add(
            BenchRow(
                id: "P5", what: "native spawn+exit/s (\(pin))", figure: Measure.rate(lunaSpawns),
                comparison: erlangSpawns.median.map {
                    String(format: "%@ spawn+exit %@: Luna÷Erlang %.2f", erlang.label, Measure.rate($0), lunaSpawns / $0)
                } ?? erlangSpawns.failure ?? erlang.label,
                goal: "", met: nil))
        report.add(
            BenchRow(
                id: "P5", what: "memory per idle native process (\(s.idle) blocked in receive)",
                figure: String(format: "%.0f B", memory),
                comparison: erlangMemory.median.map {
                    String(format: "%@ %.0f B per process blocked in receive (erlang:memory(processes))", erlang.label, $0)
                } ?? erlangMemory.failure ?? erlang.label,
                goal: "", met: nil))
        return NativePingPong(receive: lunaPingPong, skipSearch: Measure.median(skip))
    }

    // MARK: P6

    /// P6: the WebAssembly ping-pong guest (two guest processes, release WasmKit) against the
    /// native ping-pong of P5 (measured again here when P5 was not run).
    func guest(_ s: Sizes, _ report: BenchReport, native: NativePingPong?) throws {
        let w = workloads
        let native =
            try native
            ?? NativePingPong(
                receive: Measure.median(s.repeats) { try w.pingPongRate(count: s.pingPong, trace: nil, skipSearch: false) },
                skipSearch: Measure.median(s.repeats) { try w.pingPongRate(count: s.pingPong, trace: nil, skipSearch: true) })
        let module = try GuestBenchmarks.pingPongModule()
        let pin = Measure.pinning()
        for skipSearch in [false, true] {
            let rate = try Measure.median(s.repeats) {
                try GuestBenchmarks.pingPongRate(roundTrips: s.guestRoundTrips, skipSearch: skipSearch, module: module)
            }
            let nativeRate = skipSearch ? native.skipSearch : native.receive
            let factor = nativeRate / max(rate, 1)
            report.add(
                BenchRow(
                    id: "P6",
                    what:
                        "wasm guest ping-pong round trips/s, \(skipSearch ? "send_receive_skip_search" : "send+receive") (\(pin))",
                    figure: Measure.rate(rate),
                    comparison: String(format: "native %@ (%.2f× the guest's)", Measure.rate(nativeRate), factor),
                    goal: "within 3×", met: factor <= 3))
        }
        // What bounds the guest figure, in the same run: the same ping-pong between two thread
        // processes without wasm, and two bare threads handing a turn over with the same wait.
        let guestRate = try Measure.median(s.repeats) {
            try GuestBenchmarks.pingPongRate(roundTrips: s.guestRoundTrips, skipSearch: false, module: module)
        }
        let threads = try Measure.median(s.repeats) {
            try w.threadPingPongRate(count: s.guestRoundTrips, threadServer: true)
        }
        let handoff = Measure.median(s.repeats) { GuestBenchmarks.threadHandoffRate(roundTrips: s.guestRoundTrips) }
        report.add(
            BenchRow(
                id: "P6", what: "bound: two thread processes without wasm, send+receive (\(pin))",
                figure: Measure.rate(threads),
                comparison: String(
                    format: "guest send+receive %@ again: wasm and host calls add %.2f µs per round trip",
                    Measure.rate(guestRate), (1 / guestRate - 1 / threads) * 1e6),
                goal: "", met: nil))
        report.add(
            BenchRow(
                id: "P6", what: "bound: two bare threads handing a turn over with the guest waiter's spin (\(pin))",
                figure: Measure.rate(handoff),
                comparison: String(
                    format: "%.2f µs per round trip (two hand-offs) before any work; 3× native needs ≤ %.2f µs in all",
                    1e6 / handoff, 3e6 / native.receive),
                goal: "", met: nil))
    }
}

/// One Erlang figure over the repeats of a run: its values, or why there are none.
struct ErlangFigure {
    private let erlang: ErlangBench
    private(set) var values: [Double] = []
    /// Why the figure is missing: Erlang not installed, or a run failed.
    private(set) var failure: String?

    init(_ erlang: ErlangBench) {
        self.erlang = erlang
        failure = erlang.unavailable
    }

    /// Runs `workload` `repeats` times at once.
    init(_ erlang: ErlangBench, _ workload: String, _ count: Int, repeats: Int) {
        self.init(erlang)
        for _ in 0..<repeats { run(workload, count) }
    }

    /// One more run (nothing once Erlang is unavailable or a run has failed).
    mutating func run(_ workload: String, _ count: Int) {
        guard failure == nil else { return }
        do { values.append(try erlang.figure(workload, count: count)) } catch {
            failure = "Erlang \(workload) failed: \(error)"
        }
    }

    /// The median, nil when there is no figure.
    var median: Double? { failure == nil && !values.isEmpty ? Measure.median(values) : nil }
}
