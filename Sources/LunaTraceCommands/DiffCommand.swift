import ArgumentParser
import TraceAnalysis
import TraceFormat

/// `luna-trace diff A B`: where two runs of the same program first differ in their message flow.
public struct DiffCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Find the first point where two runs' message flows differ (process, call, message), ignoring timing.",
        discussion: """
            Processes are compared by where they come from, not by pid: the n-th
            process the host spawned is Pn, the k-th child of X is X.k. Messages
            are named by creator and creation order (X#k = the k-th message X
            created). Each process's message calls, spawns, links, kills, link
            deaths, drops, traps and exits are compared in program order, with
            their tags, sizes and results but without times, so a different
            schedule or pid numbering alone is no difference. The difference
            reported is the one that comes first in A's time.

            Exit codes:
              0   the flows are the same
              1   they differ (the first difference is printed)
              2   a trace could not be read (missing, not a trace, or damaged)
              64  wrong arguments
            """
    )

    @Argument(help: "The first trace ('-' for standard input).")
    var a: String

    @Argument(help: "The second trace.")
    var b: String

    public init() {}

    public func validate() throws {
        if a == "-" && b == "-" { throw ValidationError("only one of the traces can be standard input") }
    }

    public func run() throws { try run(io: .standard()) }

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        let flowA = NormalisedFlow(), flowB = NormalisedFlow()
        let outcomeA = try TraceFileReading.read(a, io: io) { flowA.observe($0) }
        try outcomeA.exitIfDamaged()
        let outcomeB = try TraceFileReading.read(b, io: io) { flowB.observe($0) }
        try outcomeB.exitIfDamaged()
        guard let d = FlowDifference.first(flowA, flowB) else {
            let steps = flowA.steps.values.reduce(0) { $0 + $1.count }
            let processes = flowA.order.filter { $0 != "host" }.count
            io.out.line(
                "same message flow: \(processes) processes, \(steps) calls compared (A \(flowA.events) events, B \(flowB.events) events)"
            )
            return
        }
        func pid(_ flow: NormalisedFlow) -> String { flow.pidOf[d.process].map { "pid \($0)" } ?? "absent" }
        io.out.line(
            "first difference: process \(d.process) (A: \(pid(flowA)), B: \(pid(flowB))), call \(d.index + 1) of that process")
        func show(_ label: String, _ step: NormalisedFlow.Step?, _ flow: NormalisedFlow) {
            guard let step else {
                io.out.line("  \(label): " + (flow.pidOf[d.process] == nil ? "no such process" : "no more calls"))
                return
            }
            io.out.line("  \(label): \(step.text)")
            io.out.line("     \(TimeText.timestamp(step.at)) \(step.original)")
        }
        show("A", d.a, flowA)
        show("B", d.b, flowB)
        if d.index > 0, let previous = flowA.steps[d.process]?[d.index - 1] {
            io.out.line("  after: \(previous.text)")
        }
        throw ArgumentParser.ExitCode(TraceExitCode.findings)
    }
}
