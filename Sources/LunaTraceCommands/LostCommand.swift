import ArgumentParser
import TraceAnalysis
import TraceFormat

/// `luna-trace lost FILE`: the postmortem lint.
public struct LostCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lost",
        abstract: "Find lost messages, near-miss receives, untaken resources and processes that died with queued mail.",
        discussion: """
            Reports, grouped:
              lost message: sent and never received, with the reason (receiver
                dead, receiver exited with it still queued, pid never existed, or
                still queued at the end of the trace)
              near miss: a receive (or send_receive_skip_search) timed out and a
                matching message reached that mailbox within --near-miss after
              resource dropped untaken: a resource pushed into a message that was
                dropped or discarded before anyone took it
              died with queued messages: a process ended with messages still in
                its mailbox
              timed out with other messages queued: a selective receive gave up
                while its mailbox held only messages outside its tag set (a
                sender using the wrong tag?)

            Exit codes:
              0   nothing found
              1   something found (the report is on stdout)
              2   the trace could not be read (missing, not a trace, or damaged;
                  findings in the events before the damage are still reported)
              64  wrong arguments
              74  the output could not be written (full disk, closed pipe)
            """
    )

    @Argument(help: "The trace file ('-' for standard input).")
    var file: String

    @Option(
        name: .customLong("near-miss"), help: "How soon after a timeout a matching arrival counts as a near miss (e.g. 50ms).")
    var nearMiss: TraceTime = TraceTime(nanoseconds: 50_000_000)

    @Option(help: "Print at most this many findings per category (all are counted).")
    var limit: Int = 100

    public init() {}

    public func run() throws { try CommandIO.runStandard { try run(io: $0) } }

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        let lint = LostMessageLint(nearMissWindow: nearMiss.nanoseconds, keepPerCategory: max(0, limit))
        let outcome = try TraceFileReading.read(file, io: io, header: { lint.window = $0.window }) { lint.observe($0) }
        lint.finish()
        lint.write(to: io.out)
        io.out.flush()
        try outcome.exitIfDamaged()
        if lint.total > 0 { throw ArgumentParser.ExitCode(TraceExitCode.findings) }
    }
}
