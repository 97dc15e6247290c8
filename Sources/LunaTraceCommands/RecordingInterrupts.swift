#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import ArgumentParser
import Dispatch
import LunaRuntime
import Synchronization
import TraceFormat

/// SIGINT and SIGTERM while `record`, `run` or `test` write a trace: the trace still ends
/// closed (index and summary written).
///
/// On the first signal the host kills every process of the recording environment (recorded as
/// kills by the host), so the command's normal path ends the run and closes the trace; it then
/// exits with status 128 + the signal number. If that has not happened within `closeDelay`
/// seconds (a guest blocked outside the runtime), or on a second signal, the trace is closed
/// here and the tool exits at once.
final class RecordingInterrupts: Sendable {
    static let shared = RecordingInterrupts()
    /// Seconds the normal path gets to close the trace after the first signal.
    static let closeDelay = 3.0

    private struct State {
        var environment: Environment?
        var writer: TraceWriter?
        var signal: Int32 = 0
        var installed = false
        var sources: [any DispatchSourceSignal] = []
    }
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "luna.trace.signals")

    /// The signal received (0 = none).
    var received: Int32 { state.withLock { $0.signal } }

    /// Handles SIGINT and SIGTERM from now on (the command-line entry points call this; tests
    /// running commands in-process do not).
    func install() {
        state.withLock { s in
            guard !s.installed else { return }
            s.installed = true
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { [self] in handle(sig) }
                source.resume()
                s.sources.append(source)
            }
        }
    }

    /// The recording a signal must close, until `end()`.
    func begin(_ environment: Environment, _ writer: TraceWriter?) {
        state.withLock { s in
            s.environment = environment
            s.writer = writer
        }
    }

    /// The recording is over (its trace closed by the command).
    func end() {
        state.withLock { s in
            s.environment = nil
            s.writer = nil
        }
    }

    /// Throws the exit status for a run that a signal ended.
    func exitIfInterrupted() throws {
        let sig = received
        if sig != 0 { throw ArgumentParser.ExitCode(128 + sig) }
    }

    private func handle(_ sig: Int32) {
        let (first, environment, writer) = state.withLock { s -> (Bool, Environment?, TraceWriter?) in
            let first = s.signal == 0
            if first { s.signal = sig }
            return (first, s.environment, s.writer)
        }
        let name = sig == SIGINT ? "SIGINT" : "SIGTERM"
        guard first, let environment else {
            Self.say("luna-trace: \(name): closing the trace and exiting")
            closeAndExit(writer, sig)
        }
        Self.say("luna-trace: \(name): stopping every process and closing the trace")
        environment.killAll()
        queue.asyncAfter(deadline: .now() + Self.closeDelay) { [self] in
            let still = state.withLock { $0.writer }
            closeAndExit(still, sig)
        }
    }

    private func closeAndExit(_ writer: TraceWriter?, _ sig: Int32) -> Never {
        if let writer {
            do { try writer.close() } catch { Self.say("luna-trace: closing the trace failed: \(error)") }
        }
        _exit(128 + sig)
    }

    private static func say(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
