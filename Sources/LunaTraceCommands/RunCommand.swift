import ArgumentParser
import LunaRunner
import LunaRuntime
import LunaSupport
import TraceAnalysis
import TraceFormat

/// `luna-trace run [-o FILE] MODULE.wasm [ARGS…]`: runs a program's `_start`, as `lunatic` did.
public struct RunCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a WebAssembly program's _start under LunaRuntime (optionally traced).",
        discussion: """
            Fits a Rust project's .cargo/config.toml as
              [target.wasm32-wasi]
              runner = "luna-trace run"      (or "luna-trace run -o run.trace")
            Options go before MODULE; everything after MODULE is the program's own arguments
            (WASI arguments after the program name). As with lunatic, the program sees the
            host's environment variables, the current directory preopened as "." and each
            --dir DIRECTORY preopened under its own path; it reads stdin. The program's output
            goes to stdout and stderr. When its first process ends, processes still running
            are killed. With -o FILE the whole run is recorded into FILE.

            With --flight-recorder SIZE and -o FILE, only the most recent SIZE bytes of
            events are kept, in memory, and written to FILE when the run ends: at once when
            the first process traps, else on exit or on SIGINT/SIGTERM. Each SIGUSR1 writes
            them to FILE.1, FILE.2, … while the run goes on. Each file's header says how
            many earlier events were dropped (show, verify, stats and lost print it).

            Exit codes: the program's status (0, N for proc_exit(N), 1 trapped, 2 killed,
            3 died from a link), 64 a --dir is not a readable directory, 66 the module cannot
            be loaded or has no _start, 73 the trace cannot be written.
            """
    )

    @Option(name: .shortAndLong, help: "Record a trace into this file.")
    var output: String?

    @Option(help: "The exported function to run.")
    var entry: String = "_start"

    @Option(name: .customLong("param"), help: EntryParameters.help)
    var params: [String] = []

    @Option(name: .customLong("flight-recorder"), help: FlightRecording.help)
    var flightRecorder: ByteSize?

    @Option(name: .customLong("trace-format"), help: TraceFormatChoice.help)
    var traceFormat: TraceFormatChoice = .current

    @Option(
        name: .customLong("dir"),
        help: ArgumentHelp(
            "Grant access to this host directory (repeatable; \".\" always is).", valueName: "DIRECTORY"))
    var directories: [String] = []

    @Argument(help: "The program (.wasm, or .wat text).")
    var module: String

    @Argument(parsing: .captureForPassthrough, help: "The program's arguments.")
    var arguments: [String] = []

    public init() {}

    public func validate() throws {
        try FlightRecording.validate(flightRecorder)
        if flightRecorder != nil && output == nil {
            throw ValidationError("--flight-recorder needs -o FILE (where its window is written)")
        }
    }

    public func run() throws {
        RecordingInterrupts.shared.install(dumpSignal: flightRecorder != nil)
        try CommandIO.runStandard { try run(io: $0) }
    }

    package func run(io: CommandIO) throws {
        try run(io: io, output: StandardGuestOutput.shared)
    }

    /// Runs with guest output going to `guestOutput` (tests capture it).
    package func run(io: CommandIO, output guestOutput: any GuestOutput) throws {
        defer { io.flush() }
        let (loaded, preopens) = try GuestProgram.prepare(module: module, directories: directories, io: io)
        let values = try EntryParameters.parse(params, entry: entry, module: loaded, name: module, io: io)
        var writer: TraceWriter?
        var flight: FlightRecording?
        if let output {
            var metadata = ["guest": module, "entry": entry]
            if !arguments.isEmpty { metadata["arguments"] = arguments.joined(separator: " ") }
            if !params.isEmpty { metadata["params"] = params.joined(separator: " ") }
            let header = traceFormat.applied(
                to: TraceHeader(
                    producer: "luna-trace run", clock: "monotonic",
                    wallClockStartNanos: MonotonicClock.wallClockNanos(), metadata: metadata))
            do {
                if let flightRecorder {
                    flight = try FlightRecording(path: output, header: header, size: flightRecorder, capture: .full)
                } else {
                    writer = try TraceWriter(
                        path: output, header: header,
                        options: .init(maxBlockAge: TraceWriter.Options.recordingMaxBlockAge))
                }
            } catch {
                io.err.line("luna-trace: \(output): cannot create trace: \(error)")
                throw ArgumentParser.ExitCode(RecordCommand.cannotWrite)
            }
        }
        let environment = Environment(trace: flight.map { $0.recorder } ?? writer.map { $0 as any TraceSink })
        let pid: ProcessID
        do {
            pid = try environment.spawnGuest(
                module: loaded, entry: entry, params: values,
                options: GuestOptions(
                    output: guestOutput, arguments: [Paths.baseName(module)] + arguments,
                    environment: GuestProgram.hostEnvironment(), preopenedDirectories: preopens,
                    standardInput: 0))
        } catch {
            io.err.line("luna-trace: \(module): \(error)")
            _ = try? writer?.close()
            _ = try? flight?.finish(trigger: "exit")
            throw ArgumentParser.ExitCode(RecordCommand.cannotLoad)
        }
        RecordingInterrupts.shared.begin(environment, writer, flight: flight)
        defer { RecordingInterrupts.shared.end() }
        let exit = environment.waitForExitBlocking(of: pid)
        if let flight, FlightRecording.trapped(exit) { try RecordCommand.finish(flight, trigger: "trap", io: io) }
        _ = GuestProgram.stopRemaining(environment, timeout: RecordCommand.killTimeout)
        if let writer, let output {
            do {
                _ = try writer.close()
            } catch {
                io.err.line("luna-trace: \(output): writing the trace failed: \(error)")
                throw ArgumentParser.ExitCode(RecordCommand.cannotWrite)
            }
        }
        if let flight {
            try RecordCommand.finish(
                flight, trigger: FlightRecording.trigger(signal: RecordingInterrupts.shared.received), io: io)
        }
        try RecordingInterrupts.shared.exitIfInterrupted()
        if case .failure(let reason) = exit, !reason.hasPrefix("proc_exit(") {
            io.err.line("luna-trace: \(Paths.baseName(module)): process \(pid) failed: \(reason)")
        }
        let status = RecordCommand.status(of: exit)
        if status != 0 { throw ArgumentParser.ExitCode(status) }
    }
}
