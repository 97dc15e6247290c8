import ArgumentParser
import LunaRunner
import LunaRuntime
import LunaSupport
import TraceAnalysis
import TraceFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `luna-trace record GUEST.wasm [--entry NAME] [--param V]… [-o FILE] [-- ARGS…]`: runs a guest with tracing.
public struct RecordCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a WebAssembly guest under LunaRuntime and record its trace.",
        discussion: """
            Runs export --entry of GUEST (a .wasm binary, or a .wat text module)
            as the first process, with the --param values as its parameters and
            ARGS as its WASI arguments (after the program name), recording every host call and lifecycle change of it
            and of the processes it spawns. When the first process ends, the
            others get --grace seconds to finish; then the trace is closed. Where
            the trace went and how many events it holds is printed on stderr.
            With -o - the trace goes to stdout and the guests' output to stderr.

            With --flight-recorder SIZE only the most recent SIZE bytes of events are
            kept, in memory, and written to the -o file when the run ends: at once when
            the first process traps, else on exit or on SIGINT/SIGTERM. Each SIGUSR1
            writes them to FILE.1, FILE.2, … while the run goes on. Each file's header
            says how many earlier events were dropped (show, verify, stats and lost
            print it).

            Exit codes (the guest's status, then the tool's own):
              0   the guest's entry returned (or called proc_exit(0))
              N   the guest called proc_exit(N)
              1   the guest trapped (failure)
              2   the guest was killed
              3   the guest died because a linked process failed
              64  wrong arguments
              66  the module cannot be loaded, or has no such entry
              73  the trace file cannot be created or written
            """
    )

    @Argument(help: "The guest module (.wasm, or .wat text).")
    var guest: String

    @Option(help: "The exported function to run.")
    var entry: String = "_start"

    @Option(name: .customLong("param"), help: EntryParameters.help)
    var params: [String] = []

    @Option(name: .shortAndLong, help: "Where to write the trace ('-' for standard output).")
    var output: String = "luna.trace"

    @Option(help: "Payload capture: full (all bytes) or digest (size and XXH64 only).")
    var payload: PayloadMode = .full

    @Option(help: "Seconds to wait for other processes after the first one ends.")
    var grace: Double = 1.0

    @Option(name: .customLong("flight-recorder"), help: FlightRecording.help)
    var flightRecorder: ByteSize?

    @Option(name: .customLong("trace-format"), help: TraceFormatChoice.help)
    var traceFormat: TraceFormatChoice = .current

    @Argument(parsing: .postTerminator, help: "Arguments for the guest (after --).")
    var arguments: [String] = []

    /// Payload capture modes on the command line.
    public enum PayloadMode: String, ExpressibleByArgument, CaseIterable, Sendable {
        case full, digest
    }

    public init() {}

    public func validate() throws {
        if grace < 0 || !grace.isFinite { throw ValidationError("--grace must be a non-negative number of seconds") }
        try FlightRecording.validate(flightRecorder)
        if flightRecorder != nil && output == "-" {
            throw ValidationError("--flight-recorder writes files (-o FILE, and FILE.1, … on SIGUSR1), not standard output")
        }
    }

    public func run() throws {
        RecordingInterrupts.shared.install(dumpSignal: flightRecorder != nil)
        try CommandIO.runStandard { try run(io: $0) }
    }

    /// Seconds to wait, after the grace period, for the processes the host then kills.
    static let killTimeout = 30.0

    /// Exit status for a module that cannot be loaded (EX_NOINPUT).
    static let cannotLoad: Int32 = 66
    /// Exit status for a trace that cannot be written (EX_CANTCREAT).
    static let cannotWrite: Int32 = 73

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        let module: GuestModule
        do {
            module = try GuestModule(path: guest)
        } catch {
            io.err.line("luna-trace: \(guest): cannot load module: \(error)")
            throw ArgumentParser.ExitCode(Self.cannotLoad)
        }
        guard module.exportedFunctions.contains(entry) else {
            io.err.line(
                "luna-trace: \(guest): no exported function '\(entry)' (exports: \(module.exportedFunctions.sorted().joined(separator: ", ")))"
            )
            throw ArgumentParser.ExitCode(Self.cannotLoad)
        }
        let values = try EntryParameters.parse(params, entry: entry, module: module, name: guest, io: io)

        var metadata = ["guest": guest, "entry": entry]
        if !arguments.isEmpty { metadata["arguments"] = arguments.joined(separator: " ") }
        if !params.isEmpty { metadata["params"] = params.joined(separator: " ") }
        let header = traceFormat.applied(
            to: TraceHeader(
                producer: "luna-trace record", clock: "monotonic",
                wallClockStartNanos: MonotonicClock.wallClockNanos(), metadata: metadata))
        let capture: PayloadCapture
        switch payload {
        case .full: capture = .full
        case .digest: capture = .digest
        }
        var writer: TraceWriter?
        var flight: FlightRecording?
        do {
            let options = TraceWriter.Options(payloadCapture: capture, maxBlockAge: TraceWriter.Options.recordingMaxBlockAge)
            if let flightRecorder {
                flight = try FlightRecording(path: output, header: header, size: flightRecorder, capture: capture)
            } else {
                writer =
                    output == "-"
                    ? try TraceWriter(fileDescriptor: 1, header: header, options: options)
                    : try TraceWriter(path: output, header: header, options: options)
            }
        } catch {
            io.err.line("luna-trace: \(output): cannot create trace: \(error)")
            throw ArgumentParser.ExitCode(Self.cannotWrite)
        }

        let guestOutput: any GuestOutput = output == "-" ? StderrGuestOutput() : StandardGuestOutput.shared
        let environment = Environment(trace: flight.map { $0.recorder } ?? writer.map { $0 as any TraceSink })
        let pid: ProcessID
        do {
            pid = try environment.spawnGuest(
                module: module, entry: entry, params: values,
                options: GuestOptions(output: guestOutput, arguments: [Paths.baseName(guest)] + arguments))
        } catch {
            io.err.line("luna-trace: \(guest): \(error)")
            _ = try? writer?.close()
            _ = try? flight?.finish(trigger: "exit")
            throw ArgumentParser.ExitCode(Self.cannotLoad)
        }
        RecordingInterrupts.shared.begin(environment, writer, flight: flight)
        defer { RecordingInterrupts.shared.end() }
        let exit = environment.waitForExitBlocking(of: pid)
        if let flight, FlightRecording.trapped(exit) { try Self.finish(flight, trigger: "trap", io: io) }
        var killed = 0
        var allEnded = environment.waitUntilAllExited(timeout: grace)
        if !allEnded {
            // The host kills what is left (recorded), and waits for every end to be recorded.
            killed = environment.killAll().count
            allEnded = environment.waitUntilAllExited(timeout: Self.killTimeout)
        }

        let ending =
            "pid \(pid) ended \(Self.describe(exit))"
            + (killed == 0 ? "" : "; \(killed) processes still running after \(grace)s were killed")
            + (allEnded ? "" : " (some did not end within \(Self.killTimeout)s; their later events are not in the trace)")
        if let writer {
            let summary: TraceSummary
            do {
                summary = try writer.close()
            } catch {
                io.err.line("luna-trace: \(output): writing the trace failed: \(error)")
                throw ArgumentParser.ExitCode(Self.cannotWrite)
            }
            let place = output == "-" ? "standard output" : output
            io.err.line(
                "luna-trace: trace written to \(place): \(summary.eventCount) events, \(summary.fileBytes) bytes; " + ending)
        }
        if let flight {
            try Self.finish(flight, trigger: FlightRecording.trigger(signal: RecordingInterrupts.shared.received), io: io)
            io.err.line("luna-trace: " + ending)
        }
        io.flush()
        try RecordingInterrupts.shared.exitIfInterrupted()
        let status = Self.status(of: exit)
        if status != 0 { throw ArgumentParser.ExitCode(status) }
    }

    /// Makes a flight recorder's final dump (if not made yet) and reports it on stderr.
    static func finish(_ flight: FlightRecording, trigger: String, io: CommandIO) throws {
        do {
            if let dump = try flight.finish(trigger: trigger) { io.err.line(FlightRecording.describe(dump)) }
        } catch {
            io.err.line("luna-trace: \(flight.path): writing the trace failed: \(error)")
            throw ArgumentParser.ExitCode(cannotWrite)
        }
        io.err.flush()
    }

    /// The exit status `record` returns for a guest's end.
    static func status(of exit: ProcessExit) -> Int32 {
        switch exit {
        case .normal: return 0
        case .failure(let reason):
            if reason.hasPrefix("proc_exit("), let n = Int32(reason.dropFirst(10).prefix { $0.isNumber }) { return n }
            return 1
        case .killed: return 2
        case .linkDied: return 3
        }
    }

    private static func describe(_ exit: ProcessExit) -> String {
        switch exit {
        case .normal: return "normally"
        case .failure(let reason): return "with failure (\(reason))"
        case .killed: return "killed"
        case .linkDied(let from): return "because linked process \(from) died"
        }
    }
}

/// Guest output when the trace itself goes to stdout: both guest streams go to stderr.
final class StderrGuestOutput: GuestOutput {
    func write(pid: ProcessID, fd: Int32, bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(2, base + offset, bytes.count - offset)
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}
