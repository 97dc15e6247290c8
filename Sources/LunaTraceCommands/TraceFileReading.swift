import ArgumentParser
import TraceAnalysis
import TraceFormat

/// How reading a trace ended, as the commands report it.
package struct TraceReadOutcome {
    /// The file name as given (`-` for stdin).
    package var file: String
    /// Events handed to the command.
    package var events: UInt64
    /// Where the reader stopped.
    package var stop: TraceStop
    /// The header, if it could be read.
    package var header: TraceHeader?
    /// Whether the command stopped reading before the end on purpose.
    package var stoppedEarly = false
    /// Decompressed bytes of the blocks read.
    package var rawBytes: UInt64 = 0
    /// Offset where reading stopped (the size of a complete trace).
    package var endOffset: UInt64 = 0

    /// Whether the reader stopped at damaged data (or could not read at all).
    package var isDamaged: Bool {
        if case .damaged = stop { return true }
        return false
    }
}

/// Thrown by a command's event handler to stop reading early (it has all it needs).
package struct StopReading: Error {
    /// Stops reading.
    package init() {}
}

/// Opens traces named on the command line and streams their events to a command.
package enum TraceFileReading {
    /// Reads `file` (`-` = standard input) event by event, calling `body` for each, with
    /// progress on stderr when it is a terminal. Problems are reported on `io.err` naming the
    /// file and byte offset: a trace that cannot be opened throws `ExitCode(2)` at once; an
    /// incomplete one is a warning; a damaged one is reported and returned (the command
    /// finishes its output for the events read, then calls `exitIfDamaged`). With `reportStop`
    /// false the incomplete/damaged message is left to the caller. `header` sees the header
    /// before the first event (a flight recorder's window changes how events are judged).
    package static func read(
        _ file: String, io: CommandIO, reportStop: Bool = true, header: (TraceHeader) -> Void = { _ in },
        _ body: (TraceEvent) throws -> Void
    ) throws -> TraceReadOutcome {
        let reader: TraceReader
        do {
            reader = file == "-" ? try TraceReader(fileDescriptor: io.standardInput) : try TraceReader(path: file)
        } catch let error as TraceFormatError {
            io.err.line("luna-trace: \(file): \(error)")
            io.flush()
            throw ArgumentParser.ExitCode(TraceExitCode.unreadable)
        }
        header(reader.header)
        var count: UInt64 = 0
        var thrown: TraceFormatError?
        var stoppedEarly = false
        let progress = io.showsProgress
        do {
            var event = TraceEvent(kind: EventKind(rawValue: 0), pid: 0)
            while try reader.next(into: &event) {  // reuses the event's storage
                try body(event)
                count += 1
                if progress && count & 0x3ffff == 0 {
                    io.err.write("\r\(file): \(count) events…")
                    io.err.flush()
                }
            }
        } catch let error as TraceFormatError {
            thrown = error
        } catch is StopReading {
            stoppedEarly = true
        }
        if progress && count >= 0x40000 { io.err.write("\r\u{1b}[K") }
        var stop = reader.stop
        if let thrown, case .reading = stop { stop = .damaged(thrown) }
        switch reportStop ? stop : .reading {
        case .incomplete(let lastGood, let reason):
            io.err.line("luna-trace: warning: \(file): trace incomplete after byte \(lastGood) (\(reason)); \(count) events read")
        case .damaged(let error):
            io.err.line("luna-trace: \(file): damaged: \(error); \(count) events read before it")
        default:
            break
        }
        io.err.flush()
        return TraceReadOutcome(
            file: file, events: count, stop: stop, header: reader.header, stoppedEarly: stoppedEarly,
            rawBytes: reader.rawBytesRead, endOffset: reader.offset)
    }
}

extension TraceReadOutcome {
    /// Throws `ExitCode(2)` when the trace was damaged (after the command printed its output).
    package func exitIfDamaged() throws {
        if isDamaged { throw ArgumentParser.ExitCode(TraceExitCode.unreadable) }
    }
}
