import ArgumentParser
import TraceAnalysis
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `luna-trace export FILE --format chrome|mermaid|html|sqlite`.
public struct ExportCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Export a trace as Chrome Trace Event JSON (Perfetto, chrome://tracing), a Mermaid sequence diagram, an HTML flow diagram or a SQLite database.",
        discussion: """
            chrome: one track per process, every host call as a slice (blocking
            receives show their wait), lifecycle events as instants, and every
            delivered message as a flow arrow from its send to its receive. Open
            it at ui.perfetto.dev or chrome://tracing.

            mermaid: a sequenceDiagram of spawns, sends, receives, timeouts, drops,
            traps and exits, at most --limit statements, to paste into a README or
            an issue.

            html: one self-contained page (no network) drawing the run as a
            Lamport diagram on a canvas: a lane per process, message arrows from
            send to receive, link deaths, timeouts and near misses, traps and
            deaths; zoom, filter by pid, tag or message, click an arrow for the
            message's life.

            sqlite: the tables of `luna-trace query` (docs/SQL.md) in a SQLite
            database file (-o FILE required).

            """ + TraceExitCode.readingHelp
    )

    /// Export formats.
    public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case chrome, mermaid, html, sqlite
    }

    @Argument(help: "The trace file ('-' for standard input).")
    var file: String

    @Option(help: "chrome, mermaid, html or sqlite.")
    var format: Format

    @Option(name: .shortAndLong, help: "Where to write ('-' for standard output).")
    var output: String = "-"

    @Option(help: "Mermaid only: the most statements to draw.")
    var limit: Int = 200

    public init() {}

    public func run() throws { try CommandIO.runStandard { try run(io: $0) } }

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        if format == .sqlite { return try exportSQLite(io: io) }
        guard output != "-" else {
            try export(to: io.out, io: io).exitIfDamaged()
            return
        }
        // Written to a temporary file next to the output and renamed into place only once
        // complete, so a failure never leaves a cut-off file under the output's name.
        let temporary = output + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            io.err.line("luna-trace: \(output): cannot open for writing: \(String(cString: strerror(errno)))")
            throw ArgumentParser.ExitCode(TraceExitCode.writeFailed)
        }
        let outcome: TraceReadOutcome
        do {
            let file = FileDescriptorOutput(fd: fd)
            outcome = try export(to: file, io: io)
            file.flush()
            if file.failed {
                io.err.line("luna-trace: \(output): write failed: \(String(cString: strerror(file.failure)))")
                throw ArgumentParser.ExitCode(TraceExitCode.writeFailed)
            }
            if fsync(fd) != 0 || close(fd) != 0 {
                io.err.line("luna-trace: \(output): write failed: \(String(cString: strerror(errno)))")
                throw ArgumentParser.ExitCode(TraceExitCode.writeFailed)
            }
        } catch {
            _ = close(fd)
            _ = unlink(temporary)
            throw error
        }
        if rename(temporary, output) != 0 {
            let reason = String(cString: strerror(errno))
            _ = unlink(temporary)
            io.err.line("luna-trace: \(output): cannot write: \(reason)")
            throw ArgumentParser.ExitCode(TraceExitCode.writeFailed)
        }
        // A damaged input's events before the damage are exported; the status says it.
        try outcome.exitIfDamaged()
    }

    /// Exports the trace to `out`; throws the reading exit status for an unreadable input.
    private func export(to out: any TextOutput, io: CommandIO) throws -> TraceReadOutcome {
        let outcome: TraceReadOutcome
        switch format {
        case .chrome:
            let exporter = ChromeTraceExporter(out: out)
            outcome = try TraceFileReading.read(file, io: io) { exporter.observe($0) }
            exporter.finish()
        case .mermaid:
            let exporter = MermaidExporter(out: out, limit: limit)
            outcome = try TraceFileReading.read(file, io: io) { exporter.observe($0) }
            exporter.finish()
        case .html:
            let exporter = HTMLFlowExporter(out: out, title: file)
            outcome = try TraceFileReading.read(file, io: io) { exporter.observe($0) }
            exporter.finish()
        case .sqlite:
            // A database is not a text stream: `run` hands it to exportSQLite before this.
            throw ValidationError("--format sqlite is written by exportSQLite, not as text")
        }
        out.flush()
        if output != "-" && io.showsProgress {
            io.err.line("wrote \(output) (\(outcome.events) events)")
        }
        return outcome
    }
}
