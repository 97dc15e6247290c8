import ArgumentParser
import Dispatch
import LunaRuntime
import Synchronization
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM while `record`, `run` or `test` write a trace: the trace still ends
/// closed (index and summary written); with a flight recorder, its ring is dumped.
///
/// On the first signal the host kills every process of the recording environment (recorded as
/// kills by the host), so the command's normal path ends the run and closes the trace (or makes
/// the flight recorder's final dump); it then exits with status 128 + the signal number. If that
/// has not happened within `closeDelay` seconds (a guest blocked outside the runtime), or on a
/// second signal, the trace is closed (the ring dumped) here and the tool exits at once.
///
/// SIGUSR1, with a flight recorder: a dump of the ring while the run goes on.
final class RecordingInterrupts: Sendable {
    static let shared = RecordingInterrupts()
    /// Seconds the normal path gets to close the trace after the first signal.
    static let closeDelay = 3.0

    private struct State {
        var environment: Environment?
        var writer: TraceWriter?
        var flight: FlightRecording?
        var signal: Int32 = 0
        var installed = false
        var sources: [any DispatchSourceSignal] = []
    }
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "luna.trace.signals")

    /// The signal received (0 = none).
    var received: Int32 { state.withLock { $0.signal } }

    /// Handles SIGINT and SIGTERM from now on, and SIGUSR1 with `dumpSignal` (a flight
    /// recorder's run; otherwise SIGUSR1 keeps its default action). The command-line entry
    /// points call this; tests running commands in-process do not.
    func install(dumpSignal: Bool = false) {
        state.withLock { s in
            guard !s.installed else { return }
            s.installed = true
            for sig in [SIGINT, SIGTERM] + (dumpSignal ? [SIGUSR1] : []) {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { [self] in sig == SIGUSR1 ? dump() : handle(sig) }
                source.resume()
                s.sources.append(source)
            }
        }
    }

    /// The recording a signal must close (or the flight recorder it must dump), until `end()`.
    func begin(_ environment: Environment, _ writer: TraceWriter?, flight: FlightRecording? = nil) {
        state.withLock { s in
            s.environment = environment
            s.writer = writer
            s.flight = flight
        }
    }

    /// The recording is over (its trace closed by the command).
    func end() {
        state.withLock { s in
            s.environment = nil
            s.writer = nil
            s.flight = nil
        }
    }

    /// SIGUSR1: a flight recorder's dump while the run goes on.
    private func dump() {
        guard let flight = state.withLock({ $0.flight }) else {
            Self.say("luna-trace: SIGUSR1: no flight recorder running; ignored")
            return
        }
        flight.snapshot()
    }

    /// Throws the exit status for a run that a signal ended.
    func exitIfInterrupted() throws {
        let sig = received
        if sig != 0 { throw ArgumentParser.ExitCode(128 + sig) }
    }

    private func handle(_ sig: Int32) {
        let (first, environment) = state.withLock { s -> (Bool, Environment?) in
            let first = s.signal == 0
            if first { s.signal = sig }
            return (first, s.environment)
        }
        let name = FlightRecording.trigger(signal: sig)
        guard first, let environment else {
            Self.say("luna-trace: \(name): closing the trace and exiting")
            closeAndExit(sig)
        }
        Self.say("luna-trace: \(name): stopping every process and closing the trace")
        environment.killAll()
        queue.asyncAfter(deadline: .now() + Self.closeDelay) { [self] in closeAndExit(sig) }
    }

    /// Closes the recording still open (after `end()`, none) and exits.
    private func closeAndExit(_ sig: Int32) -> Never {
        let (writer, flight) = state.withLock { ($0.writer, $0.flight) }
        if let writer {
            do { try writer.close() } catch { Self.say("luna-trace: closing the trace failed: \(error)") }
        }
        if let flight {
            do {
                if let dump = try flight.finish(trigger: FlightRecording.trigger(signal: sig)) {
                    Self.say(FlightRecording.describe(dump))
                }
            } catch {
                Self.say("luna-trace: flight recorder: writing \(flight.path) failed: \(error)")
            }
        }
        _exit(128 + sig)
    }

    private static func say(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
