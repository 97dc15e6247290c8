import Foundation
import LunaTestSupport
import Testing

/// The Rust guests of traces/guests/rust/ (lunatic-rs-shaped programs, built with rustc in the
/// debug and the release profile) through the built binaries, as a lunatic-rs user runs them:
/// `luna-trace run` for the examples, `luna-trace test` for the `#lunatic_test_` exports, each
/// recorded; every recording then replays with `luna-conform replay` on the built-in and on the
/// Python adapter and must pass on both.
@Suite("Rust guests end to end (record, then replay on both adapters)", .serialized)
struct RustGuestEndToEndTests {
    static let guests = TestSupport.packageRoot + "/traces/guests/rust"
    static let lunaTrace = builtExecutablePath("luna-trace")

    /// One recorded program run: arguments after the module, and what it must end with.
    struct Run {
        var name: String
        var arguments: [String]
        var status: Int32
        var stdout: [String]
        var stderr: [String] = []
    }

    /// The examples program's runs: every normal example in one run of `main`, one example by
    /// its exported entry, and the three that end the program otherwise.
    static let runs: [Run] = [
        Run(
            name: "tour", arguments: [], status: 0,
            stdout: [
                "ping_pong: sum 420\n", "request_reply: add b 5 -> Some(15)\n", "selective_receive: blue red green untagged\n",
                "links: ok\n", "kill: blocked child killed, watcher told\n", "registry: echo: hello\n",
                "configs: running out of fuel failed as expected\n", "configs: allocating beyond max_memory failed as expected\n",
                "errors: ok\n", "version 0.12.0", "fan_out: 32 processes, total 5456\n", "supervisor: 3 restarts, ok\n",
                "all examples ok\n",
            ],
            stderr: ["panicked at 'child fails on purpose'", "panicked at 'counter asked to crash at 203'"]),
        Run(
            name: "entry_supervisor", arguments: ["--entry", "ex_supervisor"], status: 0,
            stdout: ["supervisor: round 2 counted to 203\n"]),
        Run(
            name: "panic", arguments: ["panic"], status: 1, stdout: ["panic: about to panic\n"],
            stderr: ["index out of bounds", "failed: Trap: unreachable"]),
        Run(
            name: "linked_panic", arguments: ["linked_panic"], status: 3, stdout: ["linked_panic: waiting\n"],
            stderr: ["panicked at 'linked child panics'"]),
        Run(name: "exit", arguments: ["exit"], status: 3, stdout: ["exit: leaving with 3\n"]),
    ]

    @Test(
        "examples and tests of each profile record as lunatic answers and replay PASS on both adapters",
        arguments: ["debug", "release"])
    func recordAndReplay(profile: String) throws {
        let suffix = profile == "release" ? "-release" : ""
        let dir = Scratch.path("luna-rust-\(profile)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let examples = "\(Self.guests)/examples\(suffix).wasm"
        for run in Self.runs {
            let options = run.arguments.first == "--entry" ? run.arguments : []
            let programArguments = run.arguments.first == "--entry" ? [] : run.arguments
            let (status, out, err) = try TestSupport.run(
                [Self.lunaTrace, "run", "-o", "\(dir)/\(run.name).trace"] + options + [examples] + programArguments)
            #expect(status == run.status, "\(run.name): \(out)\n\(err)")
            for text in run.stdout { #expect(out.contains(text), "\(run.name) stdout lacks \(text): \(out)") }
            for text in run.stderr { #expect(err.contains(text), "\(run.name) stderr lacks \(text): \(err)") }
        }

        let (status, out, err) = try TestSupport.run(
            [Self.lunaTrace, "test", "\(Self.guests)/lunatic_tests\(suffix).wasm", "-o", "\(dir)/tests"])
        #expect(status == 0, "\(out)\n\(err)")
        #expect(out.contains("test result: ok. 20 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out;"), "\(out)")
        #expect(out.contains("test lunatic_tests::process::linked_child_panic_ends_the_test - should panic ... ok\n"))
        #expect(out.contains("test lunatic_tests::host::failing_assert_panics - should panic ... ok\n"))
        #expect(out.contains("test lunatic_tests::host::ignored_would_fail ... ignored\n"))

        let traces = Self.runs.count + 20
        for adapter in [nil, TestSupport.pythonAdapter.joined(separator: " ")] {
            let (status, out, err) = try TestSupport.run(
                [TestSupport.lunaConform, "replay", dir] + (adapter.map { ["--adapter", $0] } ?? []))
            #expect(status == 0, "\(adapter ?? "built-in"):\n\(out)\n\(err)")
            #expect(out.hasSuffix("\(traces) passed, 0 failed, 0 skipped\n"), "\(adapter ?? "built-in"):\n\(out)")
        }
    }
}
