import LunaRuntime
import LunaSupport
import TraceAnalysis
import TraceFormat

/// Runs a module's `#lunatic_test_` functions the way lunatic's cargo-test mode did, printing
/// libtest's lines (`running N tests`, `test NAME ... ok`, failures with their output, the
/// `test result:` summary).
///
/// Each test runs alone in a fresh `Environment` (its own process table, registry and timers)
/// as the first process, with every permission; when it ends, processes it left running are
/// killed. Its guests' stdout and stderr are captured and printed only if it fails (or with
/// `showOutput`), unless `nocapture` sends them straight to the host's streams.
package struct TestRunner {
    /// What to run and how.
    package struct Options: Sendable {
        /// Run only tests whose name contains (or, with `exact`, equals) this.
        package var filter: String?
        /// Match `filter` exactly.
        package var exact = false
        /// Run only the ignored tests (and run them).
        package var ignoredOnly = false
        /// Run ignored tests too.
        package var includeIgnored = false
        /// Skip tests whose name contains any of these.
        package var skip: [String] = []
        /// Let guest output through instead of capturing it.
        package var nocapture = false
        /// Print the captured output of passing tests too.
        package var showOutput = false
        /// Write one trace per test into this directory.
        package var traceDirectory: String?
        /// WASI arguments after the program name.
        package var arguments: [String] = []
        /// WASI environment variables of each test (`luna-trace test`: the host's).
        package var environment: [(key: String, value: String)] = []
        /// Host directories preopened for each test (`luna-trace test`: `.` and each `--dir`).
        package var preopenedDirectories: [String] = []
        /// Seconds to wait for processes a test left running after killing them.
        package var cleanupTimeout: Double = 2
        /// Told when each test's run begins and ends, and asked before each test whether to
        /// stop (the command line closes a test's trace on SIGINT/SIGTERM through it).
        package var observer: (any TestRunObserver)?

        /// Default options: every non-ignored test, output captured, no traces.
        package init() {}
    }

    /// How one test ended.
    package enum Outcome: Sendable, Equatable {
        case passed
        case failed(note: String)
        case ignored
    }

    /// One test's result.
    package struct Result: Sendable {
        /// The test.
        package var test: TestRunnerCase
        /// Its outcome.
        package var outcome: Outcome
        /// The captured stdout and stderr, interleaved as written.
        package var output: String
    }

    /// The module's tests, sorted by name (as libtest lists them).
    package let tests: [TestRunnerCase]
    private let module: GuestModule
    private let programName: String
    private let options: Options

    /// A runner for `module` (`programName` is WASI's argument 0).
    package init(module: GuestModule, programName: String, options: Options) {
        self.module = module
        self.programName = programName
        self.options = options
        self.tests = module.exportedFunctions.compactMap(TestRunnerCase.init(exportName:))
            .sorted { $0.name < $1.name }
    }

    /// The tests the options select, with `ignored` as they will be treated.
    package var selected: [TestRunnerCase] {
        tests.compactMap { test in
            guard test.matches(filter: options.filter, exact: options.exact),
                !options.skip.contains(where: { !$0.isEmpty && test.name.contains($0) })
            else { return nil }
            var test = test
            if options.ignoredOnly {
                guard test.ignored else { return nil }
                test.ignored = false
            } else if options.includeIgnored {
                test.ignored = false
            }
            return test
        }
    }

    /// Prints `NAME: test` for every selected test (`--list --format terse`).
    package func list(to out: any TextOutput) {
        for test in selected { out.line("\(test.name): test") }
    }

    /// Runs the selected tests one after another, printing as libtest does; returns the exit
    /// status (0 all passed, 101 some failed, as a Rust test binary).
    package func run(to out: any TextOutput) throws -> Int32 {
        let started = Double(MonotonicClock.now()) / 1e9
        let chosen = selected
        let filteredOut = tests.count - chosen.count
        out.line()
        out.line("running \(chosen.count) test\(chosen.count == 1 ? "" : "s")")
        out.flush()
        if let dir = options.traceDirectory { try GuestProgram.makeDirectory(dir) }
        var results: [Result] = []
        for test in chosen {
            if options.observer?.shouldStop == true { break }
            let result = try runOne(test)
            let label = test.expectedPanic != nil ? "test \(test.name) - should panic ..." : "test \(test.name) ..."
            switch result.outcome {
            case .passed: out.line("\(label) ok")
            case .failed: out.line("\(label) FAILED")
            case .ignored: out.line("\(label) ignored")
            }
            out.flush()
            results.append(result)
        }
        let passed = results.filter { $0.outcome == .passed }
        let failed = results.filter { if case .failed = $0.outcome { return true } else { return false } }
        let ignored = results.count - passed.count - failed.count

        if options.showOutput && !passed.isEmpty {
            out.line()
            out.line("successes:")
            for r in passed where !r.output.isEmpty {
                out.line()
                out.line("---- \(r.test.name) stdout ----")
                out.write(r.output.hasSuffix("\n") ? r.output : r.output + "\n")
            }
            out.line()
            out.line("successes:")
            for r in passed { out.line("    \(r.test.name)") }
        }
        if !failed.isEmpty {
            out.line()
            out.line("failures:")
            for r in failed {
                guard case .failed(let note) = r.outcome else { continue }
                var text = r.output
                if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
                text += note + "\n"
                out.line()
                out.line("---- \(r.test.name) stdout ----")
                out.write(text)
            }
            out.line()
            out.line("failures:")
            for r in failed { out.line("    \(r.test.name)") }
        }
        let seconds = Double(MonotonicClock.now()) / 1e9 - started
        let verdict = failed.isEmpty ? "ok" : "FAILED"
        out.line()
        out.line(
            "test result: \(verdict). \(passed.count) passed; \(failed.count) failed; \(ignored) ignored; "
                + "0 measured; \(filteredOut) filtered out; finished in \(Self.formatSeconds(seconds))s")
        out.line()
        out.flush()
        return failed.isEmpty ? 0 : 101
    }

    /// Runs one test in a fresh environment.
    package func runOne(_ test: TestRunnerCase) throws -> Result {
        if test.ignored { return Result(test: test, outcome: .ignored, output: "") }
        let writer: TraceWriter?
        if let dir = options.traceDirectory {
            let header = TraceHeader(
                producer: "luna-trace test", clock: "monotonic", wallClockStartNanos: MonotonicClock.wallClockNanos(),
                metadata: ["guest": programName, "test": test.name, "entry": test.exportName])
            writer = try TraceWriter(
                path: dir + "/" + Self.traceFileName(test.name), header: header,
                options: .init(maxBlockAge: TraceWriter.Options.recordingMaxBlockAge))
        } else {
            writer = nil
        }
        let capture = CapturedGuestOutput()
        let output: any GuestOutput = options.nocapture ? StandardGuestOutput.shared : capture
        let environment = Environment(trace: writer)
        let exit: ProcessExit
        do {
            let pid = try environment.spawnGuest(
                module: module, entry: test.exportName,
                options: GuestOptions(
                    output: output, arguments: [programName] + options.arguments,
                    environment: options.environment,
                    preopenedDirectories: options.preopenedDirectories))
            options.observer?.began(environment, writer)
            exit = environment.waitForExitBlocking(of: pid)
        } catch {
            exit = .failure(reason: "\(error)")
        }
        _ = GuestProgram.stopRemaining(environment, timeout: options.cleanupTimeout)
        _ = try writer?.close()
        options.observer?.ended()
        let text = String(decoding: capture.allChunks.flatMap(\.bytes), as: UTF8.self)
        return Result(test: test, outcome: Self.judge(test, exit: exit, output: text), output: text)
    }

    /// Whether a test that ended with `exit` and printed `output` passed.
    static func judge(_ test: TestRunnerCase, exit: ProcessExit, output: String) -> Outcome {
        let reason: String?
        switch exit {
        case .normal: reason = nil
        case .failure(let r): reason = r
        case .killed: reason = "killed"
        case .linkDied(let from): reason = "linked process \(from) died"
        }
        guard let expected = test.expectedPanic else {
            guard let reason else { return .passed }
            return .failed(note: "note: process failed: \(reason)")
        }
        guard let reason else { return .failed(note: "note: test did not panic as expected") }
        if expected.isEmpty || output.contains(expected) || reason.contains(expected) { return .passed }
        return .failed(
            note: "note: panic did not contain expected string\n"
                + "      process failed: \(reason)\n expected substring: `\"\(expected)\"`")
    }

    /// A file name for a test's trace: the name with path separators and odd characters as '_'.
    static func traceFileName(_ name: String) -> String {
        let safe = name.map { c -> Character in
            c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." ? c : "_"
        }
        return TraceFileName.named(String(safe))
    }

    private static func formatSeconds(_ s: Double) -> String {
        let hundredths = Int((max(0, s) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// What `TestRunner` tells about each test's run and asks between tests.
package protocol TestRunObserver: Sendable {
    /// A test's main process is running in `environment`, recorded into `writer` if any.
    func began(_ environment: Environment, _ writer: TraceWriter?)
    /// The test's processes have ended and its trace is closed.
    func ended()
    /// Whether to run no further test.
    var shouldStop: Bool { get }
}
