#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import ArgumentParser
import TraceAnalysis
import TraceFormat

/// `luna-trace export FILE --format chrome|mermaid`.
public struct ExportCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a trace as Chrome Trace Event JSON (Perfetto, chrome://tracing) or a Mermaid sequence diagram.",
        discussion: """
            chrome: one track per process, every host call as a slice (blocking
            receives show their wait), lifecycle events as instants, and every
            delivered message as a flow arrow from its send to its receive. Open
            it at ui.perfetto.dev or chrome://tracing.

            mermaid: a sequenceDiagram of spawns, sends, receives, timeouts, drops,
            traps and exits, at most --limit statements, to paste into a README or
            an issue.

            """ + TraceExitCode.readingHelp
    )

    /// Export formats.
    public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case chrome, mermaid
    }

    @Argument(help: "The trace file ('-' for standard input).")
    var file: String

    @Option(help: "chrome or mermaid.")
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
        }
        out.flush()
        if output != "-" && io.showsProgress {
            io.err.line("wrote \(output) (\(outcome.events) events)")
        }
        return outcome
    }
}
