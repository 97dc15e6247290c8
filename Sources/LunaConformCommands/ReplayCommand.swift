import ArgumentParser
import ConformanceKit
import Foundation

/// `luna-conform replay`: replay traces against an adapter and report divergences.
public struct ReplayCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay traces against an implementation and report where it diverges.",
        discussion: """
            Each trace is replayed call by call through the adapter; every answer is compared with \
            the recorded one. A divergence names its category, the SEMANTICS.md rule it breaks, the \
            event index, pid and call, and expected vs got; later divergences that follow from a \
            process's first one are marked as consequences. The last line is exactly \
            "N passed, N failed, N skipped"; the exit status is 0 only when nothing failed.
            Categories: \(DivergenceCategory.allCases.map(\.rawValue).joined(separator: ", ")).
            """
    )

    /// Trace files or directories.
    @Argument(help: "Trace files, or directories (every trace file in them, recursively, in path order).")
    public var traces: [String]

    /// The adapter command line.
    @Option(help: "The adapter command and its arguments, as one string (default: this program's built-in LunaRuntime adapter).")
    public var adapter: String?

    /// Report format.
    @Option(help: "Report format: text, json or junit.")
    public var report: ReportFormat = .text

    /// Per-call timeout.
    @Option(help: "Seconds a call may take beyond its own timeout before it counts as not returning.")
    public var timeout: Double = 2

    /// Per-trace timeout.
    @Option(name: .customLong("trace-timeout"), help: "Seconds one trace may take in all.")
    public var traceTimeout: Double = 120

    /// Known failures.
    @Option(help: "A file listing traces expected to fail (xfail); one per line, # comments.")
    public var expect: String?

    /// Replay only one part of the traces.
    @Option(
        help:
            "Replay only part I of N of the traces (I/N, 1-based): the expanded list, in path order, dealt out round-robin, so N runners given the same paths cover every trace exactly once."
    )
    public var shard: String?

    /// Write the report here instead of stdout.
    @Option(help: "Write the report to this file instead of stdout.")
    public var output: String?

    /// Replay traces that end without their closing summary instead of failing them.
    @Flag(
        name: .customLong("allow-incomplete"),
        help:
            "Replay the recovered events of a trace that has no closing summary (a crashed or killed recorder, a cut file) instead of failing it."
    )
    public var allowIncomplete = false

    public init() {}

    /// Report formats.
    public enum ReportFormat: String, ExpressibleByArgument, Sendable {
        case text, json, junit
    }

    public func validate() throws {
        guard timeout > 0, traceTimeout > 0 else { throw ValidationError("timeouts must be positive") }
        if let adapter, Self.split(adapter).isEmpty { throw ValidationError("--adapter is empty") }
        if let shard, Self.parseShard(shard) == nil {
            throw ValidationError("--shard must be I/N with 1 <= I <= N, got \(shard)")
        }
    }

    public func run() throws {
        var paths: [String]
        do { paths = try ConformanceRunner.expand(traces) } catch { throw ValidationError("\(error)") }
        if paths.isEmpty { throw ValidationError("no trace files found in \(traces.joined(separator: ", "))") }
        var suiteName: String? = nil
        if let shard, let (i, n) = Self.parseShard(shard) {
            paths = ConformanceRunner.shard(paths, index: i, of: n)
            suiteName = "shard \(i)/\(n)"
        }
        var expectations: ExpectationFile? = nil
        if let expect {
            guard let text = try? String(contentsOfFile: expect, encoding: .utf8) else {
                throw ValidationError("cannot read the expect file \(expect)")
            }
            expectations = ExpectationFile(text: text)
        }
        let command = adapter.map(Self.split) ?? [Self.selfExecutable(), "adapter"]
        AdapterGroups.endOnSignals()  // a signal that ends us ends the adapters too
        var runner = ConformanceRunner(
            adapter: .init(command: command),
            replay: .init(callTimeout: timeout, traceTimeout: traceTimeout),
            expectations: expectations)
        runner.allowIncomplete = allowIncomplete
        let streaming = report == .text && output == nil
        var out = ReportOutput()
        let result = runner.run(paths.map(TraceSource.file)) { outcome in
            if streaming { out.write(ConformanceReport.textLines(outcome).joined(separator: "\n") + "\n") }
        }
        let text: String
        switch report {
        case .text: text = streaming ? result.summaryLine + "\n" : result.text()
        case .json: text = result.json()
        case .junit: text = result.junit(suffix: suiteName)
        }
        if let output {
            do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("cannot write \(output): \(error)")
            }
            out.write(result.summaryLine + "\n")
        } else {
            out.write(text)
        }
        try out.check()
        if !result.allPassed { throw ExitCode(1) }
    }

    /// "I/N" as (I, N) when 1 <= I <= N.
    static func parseShard(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        return (i, n)
    }

    /// Splits a command line on spaces, honouring single and double quotes.
    static func split(_ line: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quote: Character? = nil
        var has = false
        for c in line {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                has = true
            } else if c == " " || c == "\t" {
                if has || !current.isEmpty { out.append(current) }
                current = ""
                has = false
            } else {
                current.append(c)
            }
        }
        if has || !current.isEmpty { out.append(current) }
        return out
    }

    /// This program's path (for the default adapter).
    static func selfExecutable() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return CommandLine.arguments[0]
    }
}
