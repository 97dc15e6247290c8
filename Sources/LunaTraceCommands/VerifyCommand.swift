import ArgumentParser
import TraceAnalysis
import TraceFormat

/// `luna-trace verify FILE`: the integrity check.
public struct VerifyCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a trace's integrity; for a damaged one, report the last good offset and what can be recovered.",
        discussion: """
            Reads every frame, checking checksums, block structure and the closing
            summary, and checks each event (end not before start). Prints the
            header, the number of events, and either 'ok' or where the trouble
            starts and how many events before it are intact (the other commands
            still process those).

            Exit codes:
              0   the trace is complete and intact
              1   the trace is incomplete (cut short, or never closed) or damaged;
                  the report names the last good byte offset and the events
                  recovered
              2   the file cannot be opened or is not a trace at all
              64  wrong arguments
              74  the output could not be written (full disk, closed pipe)
            """
    )

    @Argument(help: "The trace file ('-' for standard input).")
    var file: String

    public init() {}

    public func run() throws { try CommandIO.runStandard { try run(io: $0) } }

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        var backwards: UInt64 = 0
        var firstBackwards: UInt64?
        var unknownKinds: Set<UInt16> = []
        var lastEnd: UInt64 = 0
        var skipSearchReturns = 0
        let outcome = try TraceFileReading.read(file, io: io, reportStop: false) { event in
            if event.end < event.start {
                backwards += 1
                if firstBackwards == nil { firstBackwards = backwards }
            }
            if !event.kind.isKnown { unknownKinds.insert(event.kind.rawValue) }
            if event.kind == .sendReceiveSkipSearchReturn { skipSearchReturns += 1 }
            lastEnd = max(lastEnd, event.end)
        }
        let out = io.out
        out.line("file: \(file)")
        if let h = outcome.header {
            out.line(
                "format: \(h.formatMajor).\(h.formatMinor)   producer: \(h.producer)   clock: \(h.clock)   time unit: \(h.timeUnitNanos)ns"
            )
            for key in h.metadata.keys.sorted() { out.line("  \(key): \(h.metadata[key]!)") }
            if let window = h.window { out.line(WindowText.line(window)) }
        }
        out.line("events read: \(outcome.events)   span: \(TimeText.duration(lastEnd))")
        if let h = outcome.header, h.formatMajor == 1, h.formatMinor == 0, skipSearchReturns > 0 {
            out.line(
                "note: format 1.0 stores each send_receive_skip_search call as one event; the reader split "
                    + "\(skipSearchReturns) such event\(skipSearchReturns == 1 ? "" : "s") into a send half and a return "
                    + "(docs/TRACE_FORMAT.md, section 8)")
        }
        if !unknownKinds.isEmpty {
            out.line(
                "note: \(unknownKinds.count) event kind(s) unknown to this version: "
                    + unknownKinds.sorted().map { "kind_\($0)" }.joined(separator: ", "))
        }
        if backwards > 0 { out.line("warning: \(backwards) event(s) end before they start") }
        let code: Int32
        switch outcome.stop {
        case .complete(let s):
            let problems = Self.summaryProblems(s, outcome: outcome, lastEnd: lastEnd)
            if problems.isEmpty {
                out.line(
                    "ok: complete, \(s.eventCount) events in \(s.blockCount) blocks, \(s.fileBytes) bytes (\(Self.ratio(s.bytesPerEvent)) B/event)"
                )
                code = TraceExitCode.success
            } else {
                let at = outcome.endOffset >= 60 ? outcome.endOffset - 60 : 0
                for p in problems { out.line("damaged: the closing summary at byte \(at) \(p)") }
                out.line("recovered: \(outcome.events) events (all of them; only the summary is wrong)")
                code = TraceExitCode.findings
            }
        case .incomplete(let lastGood, let reason):
            out.line("incomplete: \(reason)")
            out.line("last good offset: \(lastGood)")
            out.line("recovered: \(outcome.events) events")
            code = TraceExitCode.findings
        case .damaged(let error):
            out.line("damaged: \(error)")
            out.line("last good offset: \(error.offset)")
            out.line("recovered: \(outcome.events) events")
            code = TraceExitCode.findings
        case .reading:
            out.line("stopped before the end")
            code = TraceExitCode.findings
        }
        out.flush()
        if code != TraceExitCode.success { throw ArgumentParser.ExitCode(code) }
    }

    /// What a complete trace's summary gets wrong about the file (the reader already checked
    /// the event and block counts).
    static func summaryProblems(_ s: TraceSummary, outcome: TraceReadOutcome, lastEnd: UInt64) -> [String] {
        var problems: [String] = []
        if s.fileBytes != outcome.endOffset {
            problems.append("says the file has \(s.fileBytes) bytes; it has \(outcome.endOffset)")
        }
        if s.rawBytes != outcome.rawBytes {
            problems.append("says the blocks hold \(s.rawBytes) raw bytes; they hold \(outcome.rawBytes)")
        }
        // Stored times are rounded down to the header's time unit; the summary's is not.
        let unit = max(1, outcome.header?.timeUnitNanos ?? 1)
        if s.lastEndNanos / unit &* unit != lastEnd {
            problems.append("says the last event ends at \(s.lastEndNanos) ns; the events end at \(lastEnd) ns")
        }
        return problems
    }

    /// `v` with one decimal; large or non-finite values as they are.
    static func ratio(_ v: Double) -> String {
        guard v.isFinite, abs(v) < 1e15 else { return "\(v)" }
        let scaled = Int((v * 10).rounded())
        return "\(scaled / 10).\(scaled % 10)"
    }
}
