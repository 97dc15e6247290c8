import ArgumentParser
import ConformanceFuzz
import ConformanceKit
import Foundation
import TraceFormat

/// `luna-conform fuzz`: seeded random workloads on LunaRuntime, replayed against an adapter;
/// the first divergence is shrunk to a minimal case.
public struct FuzzCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Generate seeded workloads, record them on LunaRuntime and replay them against an adapter.",
        discussion: """
            Each workload (native processes exercising the whole message API and lifecycle) is \
            generated from its seed, run on LunaRuntime while recording a trace, and the trace is \
            replayed through the adapter. On the first divergence the workload and then its trace \
            are shrunk while the same first divergence (category and rule) remains, and the \
            minimal case is written to the -o directory as a trace, as adapter requests with the \
            reference answers (NDJSON, pipeable into an adapter) and as a readable listing. The exit \
            status is 0 only when nothing diverged; a failure prints its seed and the command that \
            reruns exactly that workload.
            """
    )

    @Option(help: "The adapter command and its arguments, as one string (default: this program's built-in LunaRuntime adapter).")
    public var adapter: String?

    @Option(help: "The first seed.")
    public var seed: UInt64 = 1

    @Option(help: "Number of workloads (default 100 when --time is not given).")
    public var count: Int?

    @Option(help: "Fuzz for this long: 90, 90s, 10m, 1h.")
    public var time: String?

    @Option(help: "I/N: run only shard I (0-based) of N; workload k has seed SEED + I + k·N.")
    public var shard: String?

    @Option(name: [.short, .customLong("output")], help: "Write the minimal case of a failure into this directory.")
    public var output: String?

    @Option(help: "Report format: text, json or junit.")
    public var report: ReplayCommand.ReportFormat = .text

    @Option(name: .customLong("report-file"), help: "Write the report to this file instead of stdout.")
    public var reportFile: String?

    @Option(help: "Seconds a call may take beyond its own timeout before it counts as not returning.")
    public var timeout: Double = 2

    @Option(name: .customLong("trace-timeout"), help: "Seconds one workload's replay may take in all.")
    public var traceTimeout: Double = 60

    @Flag(name: .customLong("no-shrink"), help: "Do not shrink a failure.")
    public var noShrink = false

    @Option(name: .customLong("shrink-time"), help: "Seconds for each shrinking stage (workload, then trace).")
    public var shrinkTime: Double = 30

    @Option(help: "The reference adapter for expected answers and for checking shrunk traces (default: the built-in adapter).")
    public var reference: String?

    @Flag(
        name: .customLong("no-reference"),
        help: "No reference adapter: a workload that diverges fails even when Luna's own recording or replay is at fault.")
    public var noReference = false

    @Option(
        name: .customLong("known-causes"),
        help:
            "A file of open causes of this adapter (LABEL CATEGORY RULE CALL per line): a workload that diverges by one of them, on a trace the reference replays cleanly, is reported and skipped; any other divergence, a Luna one included, fails."
    )
    public var knownCauses: String?

    @Option(help: "Calls per workload, as MIN-MAX.")
    public var calls: String = "50-200"

    @Flag(
        name: .customLong("no-lifecycle"),
        help:
            "Generate no kills, links, die_when_link_dies, traps or early returns (messages, resources, receives and timeouts only)."
    )
    public var noLifecycle = false

    @Flag(
        name: .customLong("no-skip-search-wait"),
        help: "Give every send_receive_skip_search timeout 0 (it never waits for a reply).")
    public var noSkipSearchWait = false

    @Option(
        help:
            "Instead of generated workloads, run a trap-free ring of 4 processes for this many rounds (about 36 events a round): a long trace for soak tests."
    )
    public var ring: Int?

    @Option(help: "Workloads recorded, and adapter processes replaying, at the same time.")
    public var jobs: Int = 4

    @Flag(help: "Print every workload's outcome, not only failures.")
    public var verbose = false

    public init() {}

    public func validate() throws {
        guard timeout > 0, traceTimeout > 0, shrinkTime > 0 else { throw ValidationError("timeouts must be positive") }
        if let adapter, ReplayCommand.split(adapter).isEmpty { throw ValidationError("--adapter is empty") }
        if noReference && reference != nil { throw ValidationError("--no-reference and --reference exclude each other") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let time { _ = try Self.duration(time) }
        if let shard { _ = try Self.shard(shard) }
        if jobs < 1 || jobs > 64 { throw ValidationError("--jobs must be between 1 and 64") }
        if let ring, ring < 1 || ring > 1_000_000 { throw ValidationError("--ring must be between 1 and 1000000") }
        _ = try Self.range(calls)
    }

    /// Parses `90`, `90s`, `10m`, `1h`, `500ms`.
    static func duration(_ s: String) throws -> Double {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            if let v = Double(s.dropLast(suffix.count)), v > 0 { return v * scale }
        }
        if let v = Double(s), v > 0 { return v }
        throw ValidationError("--time \(s): expected a positive duration like 90, 90s, 10m or 1h")
    }

    static func shard(_ s: String) throws -> (Int, Int) {
        let parts = s.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw ValidationError("--shard \(s): expected I/N with 0 ≤ I < N")
        }
        return (i, n)
    }

    static func range(_ s: String) throws -> ClosedRange<Int> {
        let parts = s.split(separator: "-")
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 1, a <= b, b <= 100_000 else {
            throw ValidationError("--calls \(s): expected MIN-MAX with 1 ≤ MIN ≤ MAX ≤ 100000")
        }
        return a...b
    }

    public func run() throws {
        let builtin = [ReplayCommand.selfExecutable(), "adapter"]
        let command = adapter.map(ReplayCommand.split) ?? builtin
        let ref = reference.map(ReplayCommand.split) ?? builtin
        var options = Fuzzer.Options(adapter: command)
        options.reference = ref == command || noReference ? nil : ref
        if let knownCauses {
            guard let text = try? String(contentsOfFile: knownCauses, encoding: .utf8) else {
                throw ValidationError("cannot read --known-causes \(knownCauses)")
            }
            do { options.knownCauses = try KnownCause.parse(text, source: knownCauses) } catch {
                throw ValidationError(error.description)
            }
        }
        options.seed = seed
        options.time = try time.map(Self.duration)
        options.count = count ?? (time == nil ? 100 : nil)
        if let shard { options.shard = try Self.shard(shard) }
        options.outputDirectory = output
        options.replay = ReplayOptions(callTimeout: timeout, traceTimeout: traceTimeout)
        options.shrink = !noShrink
        options.shrinkTime = shrinkTime
        options.generator.calls = try Self.range(calls)
        options.generator.lifecycle = !noLifecycle
        options.generator.skipSearchWaits = !noSkipSearchWait
        options.ringRounds = ring
        options.jobs = jobs
        let streaming = report == .text && reportFile == nil
        let err = FileHandle.standardError
        let fuzzer = Fuzzer(options: options) { line in err.write(Data(("  " + line + "\n").utf8)) }
        let verbose = self.verbose
        let result = fuzzer.run { outcome in
            guard streaming, verbose || outcome.countsAsFailure else { return }
            FileHandle.standardOutput.write(Data((ConformanceReport.textLines(outcome).joined(separator: "\n") + "\n").utf8))
        }
        let summary = ConformanceReport(adapterCommand: command, adapterName: nil, outcomes: result.outcomes)
        var lines: [String] = []
        let rate = result.fuzzSeconds > 0 ? Double(result.outcomes.count) / result.fuzzSeconds : 0
        lines.append(
            String(
                format:
                    "%d workloads in %.1f s (%.1f workloads/s; recording %.1f s, replay %.1f s, overlapping), seeds from %llu, shard %d/%d",
                result.outcomes.count, result.fuzzSeconds, rate, result.recordingSeconds, result.replaySeconds,
                seed, options.shard.index, options.shard.count))
        if !result.referenceFailures.isEmpty {
            lines.append(
                "\(result.referenceFailures.count) workloads diverged on the reference adapter too (divergences of Luna, not of this adapter; skipped):"
            )
            for (s, o) in result.referenceFailures.prefix(20) {
                lines.append("  seed \(s): " + (o.firstCauses.first?.line ?? o.note))
            }
        }
        if !result.knownCauseHits.isEmpty {
            let counts = Dictionary(grouping: result.knownCauseHits, by: \.cause.label).mapValues(\.count)
            let byCause = counts.keys.sorted().map { "\($0) ×\(counts[$0]!)" }.joined(separator: ", ")
            lines.append(
                "\(result.knownCauseHits.count) workloads hit known causes of this adapter (\(byCause); skipped, not failures):")
            for hit in result.knownCauseHits.prefix(20) {
                lines.append(
                    "  seed \(hit.seed) [\(hit.cause.label)]: "
                        + (hit.outcome.firstCauses.first?.line ?? hit.outcome.adapterFailure?.description ?? hit.outcome.note))
                lines.append("    rerun: " + rerun(hit.seed, command: command))
            }
        }
        if let f = result.failure { lines.append(contentsOf: failureLines(f, command: command)) }
        lines.append(summary.summaryLine)
        let text: String
        switch report {
        case .text: text = (streaming ? "" : summary.text()) + lines.joined(separator: "\n") + "\n"
        case .json: text = json(summary, result)
        case .junit: text = summary.junit()
        }
        if let reportFile {
            do { try text.write(toFile: reportFile, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("cannot write \(reportFile): \(error)")
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if result.failure != nil || !summary.allPassed { throw ExitCode(1) }
    }

    /// The command that reruns exactly one workload.
    func rerun(_ seed: UInt64, command: [String]) -> String {
        var s = "luna-conform fuzz"
        if adapter != nil { s += " --adapter " + Self.shellQuote(command.joined(separator: " ")) }
        s += " --seed \(seed) --count 1"
        if calls != "50-200" { s += " --calls \(calls)" }
        if noLifecycle { s += " --no-lifecycle" }
        if noSkipSearchWait { s += " --no-skip-search-wait" }
        if let ring { s += " --ring \(ring)" }
        if let reference { s += " --reference " + Self.shellQuote(reference) }
        if noReference { s += " --no-reference" }
        if let output { s += " -o " + Self.shellQuote(output) }
        return s
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:".contains($0) }
            ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    func failureLines(_ f: Fuzzer.Failure, command: [String]) -> [String] {
        var lines = ["DIVERGED: seed \(f.seed): \(f.signature) after \(String(format: "%.1f", f.foundAfter)) s"]
        if let d = f.outcome.firstCauses.first { lines.append("  first cause: " + d.line) }
        lines.append("  rerun: " + rerun(f.seed, command: command))
        if let w = f.shrunkWorkload {
            lines.append(
                "  shrunk in \(String(format: "%.1f", f.shrinkSeconds)) s to \(w.processes.count) processes, \(w.stepCount) steps; trace of \(f.shrunkEvents.count) events"
            )
            if f.shrinkReproductions == 0 {
                lines.append(
                    "  (not reproduced while shrinking: no smaller workload failed the same way, so this is the original workload, not a minimal one; the failure may depend on timing — rerun the seed)"
                )
            }
        }
        if let d = f.shrunkOutcome?.firstCauses.first { lines.append("  minimal case: " + d.line) }
        if let files = f.files {
            lines.append("  minimal case: \(files.requestCount) adapter requests")
            lines.append("    \(files.trace)")
            lines.append("    \(files.requests)  (pipe into the adapter)")
            lines.append("    \(files.listing)")
        }
        return lines
    }

    func json(_ summary: ConformanceReport, _ result: Fuzzer.Result) -> String {
        guard case .object(var root)? = try? JSONParser.parse(summary.json()) else { return summary.json() }
        var fuzz: JSONObject = [
            "seed": .int(Int64(bitPattern: seed)), "workloads": .int(Int64(result.outcomes.count)),
            "seconds": .double(result.fuzzSeconds),
        ]
        if let f = result.failure {
            var failure: JSONObject = [
                "seed": .int(Int64(bitPattern: f.seed)), "category": .string(f.signature.category),
                "rule": .string(f.signature.rule), "rerun": .string(rerun(f.seed, command: summary.adapterCommand)),
                "shrunk_events": .int(Int64(f.shrunkEvents.count)),
                "shrink_reproductions": f.shrinkReproductions.map { .int(Int64($0)) } ?? .null,
            ]
            if let files = f.files {
                failure["trace"] = .string(files.trace)
                failure["requests"] = .string(files.requests)
                failure["listing"] = .string(files.listing)
                failure["request_count"] = .int(Int64(files.requestCount))
            }
            fuzz["failure"] = .object(failure)
        }
        fuzz["reference_failures"] = .array(result.referenceFailures.map { .int(Int64(bitPattern: $0.seed)) })
        fuzz["known_causes"] = .array(
            result.knownCauseHits.map {
                .object(["seed": .int(Int64(bitPattern: $0.seed)), "cause": .string($0.cause.label)])
            })
        root["fuzz"] = .object(fuzz)
        return JSONValue.object(root).serialized + "\n"
    }
}
