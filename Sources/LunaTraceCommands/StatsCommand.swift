import ArgumentParser
import TraceAnalysis
import TraceFormat

/// `luna-trace stats FILE`: counts, message totals, receive waits, mailbox depths, deaths.
public struct StatsCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Summarise a trace: calls, processes, messages, receive waits, mailbox depths, traps, deaths.",
        discussion: """
            Counts per call and per process; messages created, sent, received and
            dropped (by reason); percentiles of the time receives waited before
            returning a message; the longest waits (who waited on what); the
            largest number of messages each mailbox held at once (rebuilt from
            sends, receives, link-death notices and drops); traps by reason;
            process ends by status. Memory stays bounded on large traces
            (percentiles are exact up to 100,000 receives, then within 1.6 %).

            """ + TraceExitCode.readingHelp
    )

    @Argument(help: "The trace file ('-' for standard input).")
    var file: String

    @Option(help: "Show at most this many processes in the per-process table.")
    var processes: Int = 200

    public init() {}

    public func run() throws { try CommandIO.runStandard { try run(io: $0) } }

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        let stats = TraceStatistics()
        let outcome = try TraceFileReading.read(file, io: io, header: { stats.window = $0.window }) { stats.observe($0) }
        stats.write(to: io.out, processLimit: max(0, processes))
        io.out.flush()
        try outcome.exitIfDamaged()
    }
}
