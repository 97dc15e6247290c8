import ArgumentParser
import TraceFormat

/// `luna-bench mixed-trace -o FILE --events N`: records `MixedWorkload` on the real runtime into
/// a trace file, the input of the figures measured on a trace with a command line (the HTML
/// export's size and first paint, `luna-trace query`'s load and GROUP BY).
struct MixedTraceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixed-trace",
        abstract: "Record the mixed workload (hub + linked workers) into a trace file of about N events.")

    @Option(help: "About how many events to record.") var events = 100_000
    @Option(name: .shortAndLong, help: "The trace file to write.") var output: String

    func run() throws {
        let writer = try TraceWriter(path: output, header: TraceHeader(producer: "luna-bench mixed-trace"))
        try MixedWorkload.run(events: events, trace: writer)
        let summary = try writer.close()
        print("wrote \(output): \(summary.eventCount) events")
    }
}
