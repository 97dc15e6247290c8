import ArgumentParser
import TraceAnalysis
import TraceFormat

/// `luna-trace flow FILE --message ID`: the life of one message.
public struct FlowCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Tell the life of a message: creation, bytes, resources, sends, receive, takes, or its drop.",
        discussion: """
            With --message, the named messages; with --pid, every message that
            process created, sent, received or had dropped (both may be given).
            For each: who created it and how many bytes were written; resources
            pushed with their slot indices; where it was sent; who received it,
            after waiting how long, through which tag set; what was read and which
            resources were taken, with their new ids; or where and why it was
            dropped.

            Exit codes:
              0   every requested message was found
              1   a requested message id does not occur in the trace
              2   the trace could not be read (missing, not a trace, or damaged)
              64  wrong arguments
              74  the output could not be written (full disk, closed pipe)
            """
    )

    @Argument(help: "The trace file ('-' for standard input).")
    var file: String

    @Option(help: ArgumentHelp("The message to follow (repeatable).", valueName: "id"))
    var message: [UInt64] = []

    @Option(help: "Follow every message this process created, sent, received or lost (repeatable).")
    var pid: [UInt64] = []

    public init() {}

    public func validate() throws {
        if message.isEmpty && pid.isEmpty { throw ValidationError("give --message ID or --pid PID") }
    }

    public func run() throws { try CommandIO.runStandard { try run(io: $0) } }

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        let wanted = Set(message)
        let pids = Set(pid)
        var found: Set<MessageID> = []
        var shown = 0
        let tracker = MessageTracker()
        tracker.onLifeEnded = { life in
            let selected = wanted.contains(life.id) || pids.contains { MessageFlowReport.involves(life, pid: $0) }
            guard selected else { return }
            found.insert(life.id)
            if shown > 0 { io.out.line() }
            shown += 1
            for line in MessageFlowReport.lines(life, processes: tracker.processes, beginsMidRun: tracker.beginsMidRun) {
                io.out.line(line)
            }
        }
        let outcome = try TraceFileReading.read(file, io: io, header: { tracker.beginsMidRun = $0.window?.isPartial ?? false }) {
            event in
            tracker.observe(event)
            if pids.isEmpty && !wanted.isEmpty && found.count == wanted.count { throw StopReading() }
        }
        if !outcome.stoppedEarly { tracker.finish() }
        io.out.flush()
        try outcome.exitIfDamaged()
        let missing = wanted.subtracting(found).sorted()
        if !missing.isEmpty {
            io.err.line("luna-trace: \(file): no message " + missing.map { "#\($0)" }.joined(separator: ", ") + " in the trace")
            throw ArgumentParser.ExitCode(TraceExitCode.findings)
        }
        if shown == 0 && !pids.isEmpty {
            io.err.line("luna-trace: \(file): no messages involve pid " + pid.map(String.init).joined(separator: ", "))
        }
    }
}
