import ConformanceKit
import LunaTestSupport
import Testing

/// Minimal cases the fuzzer shrank from false alarms of the replay engine (docs/FUZZING.md),
/// replayed on both adapters. Each is a trace LunaRuntime recorded, so each must pass.
@Suite("Fuzz regressions: shrunk false alarms replay clean")
struct FuzzRegressionTests {
    static let directory = TestSupport.packageRoot + "/Tests/LunaConformTests/Fixtures/fuzz-regressions/"

    /// The cases, by file name: what the replay once got wrong.
    static let cases: [(file: String, why: String)] = [
        (
            "link-to-ended-behind-its-wait.trace",
            "a link to a process that had returned, sent while the adapter still ran that process's timed-out receive (its end queued behind it): linked for real, no 'no process' notice (seed 400841, Python)"
        ),
        (
            "dies-of-missing-pid-notice.trace",
            "a process dying of a missing pid's notice was given its waiting call only at its end event, after a linked process's 1 ms receive that expects its LinkDied (seed 321004, built-in, busy machine)"
        ),
        (
            "notice-death-after-linked-timeout.trace",
            "that probe, sent at the notice, ended a linked process whose 5 ms receive had timed out before the death in the trace but still waited in the adapter (seed 622346, Python)"
        ),
        (
            "notice-before-finite-receive.trace",
            "a receive with a 3 ms timeout, sent at a missing pid's notice to let it in first, ran out while the adapter was still creating the TLS stream that preceded its message (seed 729811, built-in, busy machine)"
        ),
        (
            "death-during-unrelated-wait.trace",
            "a kill was held back until a linked process's 250 ms skip-search timed out, though the trace has that wait outlive the death (it takes no LinkDied of tag 0): the killed process's parent, waiting 62 ms, timed out instead of dying (seed 942807, both adapters)"
        ),
        (
            "notice-then-other-link-death.trace",
            "a missing pid's notice followed by a linked process's LinkDied before the next receive: only the later one was mapped to that receive, so the notice was let in behind messages sent meanwhile (seed 1101433, both adapters)"
        ),
        (
            "send-to-ended-behind-its-call.trace",
            "a send to a process that had returned (recorded as receiver missing) reached it in the adapter, whose end was still queued behind its receive(0) after a missing pid's notice: the receive took that message instead of the notice (seed 1428306, built-in, 1 in 28,328 workloads; a race the replay of this file cannot force)"
        ),
    ]

    @Test("the built-in adapter replays every case", arguments: cases.map(\.file))
    func builtin(_ file: String) {
        let report = TestSupport.replay([.file(Self.directory + file)], TestSupport.builtinAdapter())
        #expect(report.allPassed, "\(file): \(report.text())")
    }

    @Test("the Python adapter replays every case", arguments: cases.map(\.file))
    func python(_ file: String) {
        let report = TestSupport.replay([.file(Self.directory + file)], TestSupport.pythonAdapter)
        #expect(report.allPassed, "\(file): \(report.text())")
    }
}
