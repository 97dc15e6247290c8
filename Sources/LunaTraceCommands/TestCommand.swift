import ArgumentParser
import LunaRunner
import LunaRuntime
import LunaSupport
import TraceAnalysis

/// `luna-trace test MODULE.wasm [FILTER] [--exact] [--ignored] [--nocapture] [--list --format terse] [-o DIR]`:
/// a module's `#lunatic_test_` functions as a Rust test binary would run them.
public struct TestCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a module's lunatic tests (#lunatic_test_ exports) like cargo test.",
        discussion: """
            Fits a Rust project's .cargo/config.toml as
              [target.wasm32-wasi]
              runner = "luna-trace test"
            Exports named '#lunatic_test_NAME' are tests; '#lunatic_test_#ignore_NAME' is
            ignored; '#lunatic_test_#panic_MESSAGE#NAME' must fail with output containing
            MESSAGE ('\\#' writes a '#'). Each test runs in a fresh environment with its output
            captured and shown only when it fails. As with lunatic, tests see the host's
            environment variables, the current directory preopened as "." and each
            --dir DIRECTORY preopened under its own path. With -o DIR each test's trace is
            written to DIR/NAME.trace.

            Exit codes: 0 all selected tests passed, 101 a test failed, 64 wrong arguments,
            66 the module cannot be loaded, 73 a trace cannot be written.
            """
    )

    @Argument(help: "The test module (.wasm, or .wat text).")
    var module: String

    @Argument(help: "Run only tests whose name contains this.")
    var filter: String?

    @Argument(help: "Further arguments for the guests (WASI arguments after the program name).")
    var guestArguments: [String] = []

    @Option(
        name: .customLong("dir"),
        help: ArgumentHelp(
            "Grant access to this host directory (repeatable; \".\" always is).", valueName: "DIRECTORY"))
    var directories: [String] = []

    @Flag(help: "Match FILTER exactly.")
    var exact = false

    @Flag(help: "Run only the ignored tests.")
    var ignored = false

    @Flag(help: "Run ignored tests too.")
    var includeIgnored = false

    @Option(help: "Skip tests whose name contains this (repeatable).")
    var skip: [String] = []

    @Flag(help: "Do not capture the tests' output.")
    var nocapture = false

    @Flag(help: "Show the output of passing tests too.")
    var showOutput = false

    @Flag(help: "List the tests instead of running them.")
    var list = false

    @Option(help: "Output format of --list (terse).")
    var format: String?

    @Option(name: .shortAndLong, help: "Write one trace per test into this directory.")
    var output: String?

    @Option(help: "Accepted for cargo compatibility; tests run one at a time.")
    var testThreads: Int?

    @Option(help: "Accepted for cargo compatibility.")
    var color: String?

    @Flag(name: .shortAndLong, help: "Accepted for cargo compatibility.")
    var quiet = false

    public init() {}

    public func validate() throws {
        if let format, format != "terse", format != "pretty" {
            throw ValidationError("argument for --format must be terse or pretty (was \(format))")
        }
    }

    public func run() throws {
        RecordingInterrupts.shared.install()
        try CommandIO.runStandard { try run(io: $0) }
    }

    package func run(io: CommandIO) throws {
        defer { io.flush() }
        let (loaded, preopens) = try GuestProgram.prepare(module: module, directories: directories, io: io)
        var options = TestRunner.Options()
        options.filter = filter
        options.exact = exact
        options.ignoredOnly = ignored
        options.includeIgnored = includeIgnored
        options.skip = skip
        options.nocapture = nocapture
        options.showOutput = showOutput
        options.traceDirectory = output
        options.observer = RecordingInterrupts.shared
        options.arguments = guestArguments
        options.environment = GuestProgram.hostEnvironment()
        options.preopenedDirectories = preopens
        let runner = TestRunner(module: loaded, programName: Paths.baseName(module), options: options)
        if list {
            runner.list(to: io.out)
            if format != "terse" {
                io.out.line()
                io.out.line("\(runner.selected.count) test\(runner.selected.count == 1 ? "" : "s"), 0 benchmarks")
            }
            return
        }
        let status: Int32
        do {
            status = try runner.run(to: io.out)
        } catch {
            io.flush()
            io.err.line("luna-trace: \(output ?? "trace"): cannot write a test trace: \(error)")
            throw ArgumentParser.ExitCode(RecordCommand.cannotWrite)
        }
        try RecordingInterrupts.shared.exitIfInterrupted()
        if status != 0 { throw ArgumentParser.ExitCode(status) }
    }
}
