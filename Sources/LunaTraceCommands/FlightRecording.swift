import ArgumentParser
import Dispatch
import LunaRuntime
import Synchronization
import TraceAnalysis
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `run` or `record` with `--flight-recorder SIZE`: the last SIZE bytes of events are kept in
/// memory (`FlightRecorder`) and written as a trace when the run ends (to FILE, the `-o` file:
/// on the first process's trap at once, else on exit or on SIGINT/SIGTERM), and on each SIGUSR1
/// while the run goes on (to FILE.1, FILE.2, …). Each dump's header says how many events came
/// before it (`TraceWindow`).
package final class FlightRecording: Sendable {
    /// The recorder the environment records into.
    package let recorder: FlightRecorder
    /// FILE: the final dump's path; SIGUSR1 dumps go to FILE.N.
    package let path: String
    private let state = Mutex(State())
    /// Where SIGUSR1 dumps run: off the signal queue, so SIGINT/SIGTERM are handled during one.
    private let queue = DispatchQueue(label: "luna.trace.flight-dumps")

    private struct State {
        var snapshots = 0
        /// The final dump has been asked for: no more SIGUSR1 dumps.
        var finishing = false
        /// The final dump has been reported.
        var reported = false
    }

    /// The help text of `--flight-recorder`.
    static let help = ArgumentHelp(
        "Keep only the most recent events, in a ring of SIZE bytes (e.g. 64M, 100k; k/M/G are KiB/MiB/GiB; at least 64k), and write them to the -o file when the run ends (at once on a trap of the first process), and to FILE.1, FILE.2, … on each SIGUSR1.",
        valueName: "SIZE")

    /// Checks `--flight-recorder` against the size limit.
    static func validate(_ size: ByteSize?) throws {
        guard let size else { return }
        if size.bytes < FlightRecorder.Options.minimumCapacityBytes {
            throw ValidationError("--flight-recorder \(size.description) is too small: the ring needs at least 64k")
        }
    }

    /// A recorder of `size` bytes whose dumps carry `header`. Creates FILE (empty until the
    /// final dump) so that an unwritable path fails now, not at the end.
    package init(path: String, header: TraceHeader, size: ByteSize, capture: PayloadCapture) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FlightError("cannot create \(path): \(String(cString: strerror(errno)))") }
        close(fd)
        self.path = path
        recorder = FlightRecorder(header: header, options: .init(capacityBytes: size.bytes, payloadCapture: capture))
    }

    /// SIGUSR1: dumps the ring to the next FILE.N in the background (recording goes on) and
    /// says so on stderr.
    func snapshot() {
        queue.async { [self] in
            let n = state.withLock { s -> Int? in
                guard !s.finishing else { return nil }
                s.snapshots += 1
                return s.snapshots
            }
            guard let n else { return }
            let target = "\(path).\(n)"
            do {
                Self.say(Self.describe(try recorder.dump(to: target, trigger: "SIGUSR1")))
            } catch {
                Self.say("luna-trace: flight recorder: SIGUSR1: writing \(target) failed: \(error)")
            }
        }
    }

    /// The final dump to FILE (stops recording); `trigger` says why (`exit`, `trap`, `SIGINT`,
    /// `SIGTERM`). Made once: a later call waits for it and returns nil, so only one caller
    /// reports it (and none exits while it is being written).
    package func finish(trigger: String) throws -> FlightDump? {
        state.withLock { $0.finishing = true }
        let dump = try recorder.close(to: path, trigger: trigger)
        let first = state.withLock { s -> Bool in
            defer { s.reported = true }
            return !s.reported
        }
        return first ? dump : nil
    }

    /// The final dump's trigger for a run that ended with `exit`, after signal `signal` (0 = none).
    static func trigger(signal: Int32) -> String {
        switch signal {
        case 0: return "exit"
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    /// Whether a first process that ended so trapped (a failure that is not `proc_exit(N)`).
    static func trapped(_ exit: ProcessExit) -> Bool {
        if case .failure(let reason) = exit { return !reason.hasPrefix("proc_exit(") }
        return false
    }

    /// The line that reports a dump.
    static func describe(_ d: FlightDump) -> String {
        let w = d.window
        return "luna-trace: flight recorder, \(w.trigger): \(d.path) written: \(d.summary.eventCount) events, "
            + "\(d.summary.fileBytes) bytes in \(TimeText.duration(UInt64(d.seconds * 1e9)))"
            + (w.isPartial ? " (\(w.droppedEvents) earlier events dropped from the ring)" : " (nothing dropped)")
    }

    /// Writes a line to stderr with one write(2) (from the signal and dump queues).
    static func say(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// A flight recorder's file could not be created.
struct FlightError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
