import Foundation
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaRunner
@testable import LunaTraceCommands
@testable import TraceAnalysis

/// The committed test modules of traces/guests (built by traces/guests/build.sh).
enum RunnerGuests {
    /// `traces/guests/<name>` in the repository.
    static func path(_ name: String) -> String {
        packageRoot + "/traces/guests/\(name)"
    }

    /// traces/guests/tests_runner.wasm: eleven `#lunatic_test_` functions.
    static var testsModule: String { path("tests_runner.wasm") }
}

/// `luna-trace test`: lunatic's cargo-test mode, run in process through the command library.
@Suite("luna-trace test (in process)")
struct TestCommandTests {
    @Test("export names parse as lunatic's test convention, including ignore, panic and an escaped '#'")
    func exportNames() throws {
        let plain = try #require(TestRunnerCase(exportName: "#lunatic_test_tests::adds"))
        #expect(plain.name == "tests::adds" && !plain.ignored && plain.expectedPanic == nil)
        let ignored = try #require(TestRunnerCase(exportName: "#lunatic_test_#ignore_slow"))
        #expect(ignored.name == "slow" && ignored.ignored)
        let panics = try #require(TestRunnerCase(exportName: "#lunatic_test_#ignore_#panic_a\\#b c#t::x"))
        #expect(panics.name == "t::x" && panics.ignored && panics.expectedPanic == "a#b c")
        let any = try #require(TestRunnerCase(exportName: "#lunatic_test_#panic_#p"))
        #expect(any.name == "p" && any.expectedPanic == "")
        #expect(TestRunnerCase(exportName: "_start") == nil)
        #expect(TestRunnerCase(exportName: "#lunatic_test_#panic_unterminated") == nil)
    }

    @Test("a full run: ok, FAILED, ignored and should-panic lines, failures with their output only, the summary, exit 101")
    func fullRun() throws {
        let r = TraceFixtures.run(["test", RunnerGuests.testsModule])
        #expect(r.code == 101, "\(r.err)")
        let out = r.out
        #expect(out.contains("\nrunning 11 tests\n"))
        for line in [
            "test passes ... ok", "test fails ... FAILED", "test ignored_one ... ignored",
            "test panics_with_boom - should panic ... ok", "test panics_wrong_message - should panic ... FAILED",
            "test panics_any - should panic ... ok", "test does_not_panic - should panic ... FAILED",
            "test panics_with_hash - should panic ... ok", "test spawns_and_messages ... ok",
            "test fresh_registry_a ... ok", "test fresh_registry_b ... ok",
        ] {
            #expect(out.contains(line + "\n"), "missing: \(line)")
        }
        // Captured output is shown for failures only.
        #expect(out.contains("---- fails stdout ----\noutput of fails\ncheck failed: 1 + 1 == 3\n"))
        #expect(out.contains("---- does_not_panic stdout ----\nno panic\nnote: test did not panic as expected\n"))
        #expect(out.contains("expected substring: `\"other\"`"))
        #expect(!out.contains("hello from passes"))
        #expect(!out.contains("round trip done"))
        #expect(!out.contains("ignored ran"))
        #expect(out.contains("failures:\n    does_not_panic\n    fails\n    panics_wrong_message\n"))
        #expect(out.contains("test result: FAILED. 7 passed; 3 failed; 1 ignored; 0 measured; 0 filtered out; finished in "))
    }

    @Test("a filter selects by substring, --exact by equality; the rest count as filtered out")
    func filters() throws {
        let fresh = TraceFixtures.run(["test", RunnerGuests.testsModule, "fresh"])
        #expect(fresh.code == 0, "\(fresh.out)")
        #expect(fresh.out.contains("running 2 tests\n"))
        #expect(fresh.out.contains("test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 9 filtered out;"))

        let exact = TraceFixtures.run(["test", RunnerGuests.testsModule, "passes", "--exact"])
        #expect(exact.code == 0)
        #expect(exact.out.contains("running 1 test\n") && exact.out.contains("test passes ... ok\n"))
        let none = TraceFixtures.run(["test", RunnerGuests.testsModule, "pass", "--exact"])
        #expect(none.out.contains("running 0 tests\n"))
        #expect(none.out.contains("0 passed; 0 failed; 0 ignored; 0 measured; 11 filtered out;"))

        let panics = TraceFixtures.run(["test", RunnerGuests.testsModule, "panics_"])
        #expect(panics.code == 101)
        #expect(panics.out.contains("running 4 tests\n"))
        #expect(panics.out.contains("test result: FAILED. 3 passed; 1 failed; 0 ignored;"))
    }

    @Test("--ignored runs only the ignored tests; --include-ignored runs them too")
    func ignored() throws {
        let only = TraceFixtures.run(["test", RunnerGuests.testsModule, "--ignored"])
        #expect(only.code == 0, "\(only.out)")
        #expect(only.out.contains("running 1 test\ntest ignored_one ... ok\n"))
        #expect(only.out.contains("1 passed; 0 failed; 0 ignored; 0 measured; 10 filtered out;"))
        let all = TraceFixtures.run(["test", RunnerGuests.testsModule, "--include-ignored", "fresh_registry_a", "--exact"])
        #expect(all.out.contains("test fresh_registry_a ... ok"))
    }

    @Test("--list --format terse prints one 'NAME: test' line per selected test and runs nothing")
    func list() throws {
        let r = TraceFixtures.run(["test", RunnerGuests.testsModule, "--list", "--format", "terse"])
        #expect(r.code == 0)
        #expect(
            r.out == """
                does_not_panic: test
                fails: test
                fresh_registry_a: test
                fresh_registry_b: test
                ignored_one: test
                panics_any: test
                panics_with_boom: test
                panics_with_hash: test
                panics_wrong_message: test
                passes: test
                spawns_and_messages: test

                """)
        let filtered = TraceFixtures.run(["test", RunnerGuests.testsModule, "fresh", "--list", "--format", "terse"])
        #expect(filtered.out == "fresh_registry_a: test\nfresh_registry_b: test\n")
    }

    @Test("-o DIR writes one complete trace per test; a failing test's trace shows its trap")
    func tracesPerTest() throws {
        let dir = try TraceFixtures.directory().appendingPathComponent("traces").path
        let r = TraceFixtures.run(["test", RunnerGuests.testsModule, "-o", dir, "--skip", "panics", "--skip", "does_not"])
        #expect(r.code == 101)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(
            files == [
                "fails.trace", "fresh_registry_a.trace", "fresh_registry_b.trace", "passes.trace",
                "spawns_and_messages.trace",
            ])
        for file in files {
            let verify = TraceFixtures.run(["verify", dir + "/" + file])
            #expect(verify.code == 0, "\(file): \(verify.out) \(verify.err)")
        }
        let fails = TraceFixtures.run(["show", dir + "/fails.trace", "--kind", "exit"])
        #expect(fails.out.contains("unreachable"), "\(fails.out)")
        let spawns = TraceFixtures.run(["show", dir + "/spawns_and_messages.trace", "--kind", "registry_call"])
        #expect(spawns.out.contains("put child"), "\(spawns.out)")
        let lost = TraceFixtures.run(["lost", dir + "/spawns_and_messages.trace"])
        #expect(lost.code == 0, "\(lost.out)")
    }

    @Test("a module that cannot be loaded fails with 66, naming the missing import")
    func missingImport() throws {
        let dir = try TraceFixtures.directory()
        let module = dir.appendingPathComponent("missing.wat")
        try ##"(module (import "lunatic::metrics" "counter" (func (param i32 i32 i64))) (func (export "#lunatic_test_x")))"##
            .write(to: module, atomically: true, encoding: .utf8)
        let r = TraceFixtures.run(["test", module.path])
        #expect(r.code == 66)
        #expect(r.err.contains("lunatic::metrics::counter"))
    }
}
