import Foundation
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// `luna-trace run` in process, and `run`/`test` through the built binary the way cargo calls a
/// `runner` (`luna-trace test target/…/x.wasm [libtest args]`).
@Suite("luna-trace run and test (runner)")
struct RunnerEndToEndTests {
    /// A program that exits with 10 + its argument count (WASI argc, program name included).
    static let argcProgram = """
        (module
          (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (drop (call $sizes (i32.const 0) (i32.const 4)))
            (call $exit (i32.add (i32.const 10) (i32.load (i32.const 0))))))
        """

    @Test("run: everything after MODULE is the program's (even '-o'); the exit status is the program's")
    func runArguments() throws {
        let dir = try TraceFixtures.directory()
        let program = dir.appendingPathComponent("argc.wat")
        try Self.argcProgram.write(to: program, atomically: true, encoding: .utf8)
        let r = TraceFixtures.run(["run", program.path, "a", "-o", "x"])
        #expect(r.code == 14, "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: "x"))
        let none = TraceFixtures.run(["run", program.path])
        #expect(none.code == 11)
    }

    @Test("run -o FILE records the whole run; a trapping program exits 1 and says why")
    func runTraced() throws {
        let dir = try TraceFixtures.directory()
        let trace = dir.appendingPathComponent("run.trace").path
        let program = dir.appendingPathComponent("trap.wat")
        try """
        (module
          (import "lunatic::distributed" "node_id" (func $node (result i64)))
          (memory (export "memory") 1)
          (func (export "_start") (drop (call $node)) unreachable))
        """.write(to: program, atomically: true, encoding: .utf8)
        let r = TraceFixtures.run(["run", "-o", trace, program.path])
        #expect(r.code == 1)
        #expect(r.err.contains("failed: Trap: unreachable"), "\(r.err)")
        let shown = TraceFixtures.run(["show", trace, "--kind", "distributed_call"])
        #expect(shown.out.contains("node_id"), "\(shown.out)")
    }

    @Test("run: a program importing what the runtime lacks fails at start (66), naming the import")
    func runMissingImport() throws {
        let dir = try TraceFixtures.directory()
        let program = dir.appendingPathComponent("lookup.wat")
        try """
        (module
          (import "lunatic::distributed" "exec_lookup_nodes" (func (param i32 i32 i32 i32 i32) (result i32)))
          (func (export "_start")))
        """.write(to: program, atomically: true, encoding: .utf8)
        let r = TraceFixtures.run(["run", program.path])
        #expect(r.code == 66)
        #expect(r.err.contains("lunatic::distributed::exec_lookup_nodes"), "\(r.err)")
    }

    @Test("the built binary as a cargo runner: run prints the program's output; test prints libtest's report")
    func binary() throws {
        let run = try TraceFixtures.runBinary(["run", RunnerGuests.testsModule])
        #expect(run.code == 0, "\(run.err)")
        #expect(run.out == "main ran\n")

        let test = try TraceFixtures.runBinary(["test", RunnerGuests.testsModule])
        #expect(test.code == 101)
        #expect(test.out.contains("test passes ... ok\n"))
        #expect(test.out.contains("test fails ... FAILED\n"))
        #expect(test.out.contains("---- fails stdout ----\noutput of fails\n"))
        #expect(!test.out.contains("hello from passes"))
        #expect(test.out.contains("test result: FAILED. 7 passed; 3 failed; 1 ignored; 0 measured; 0 filtered out;"))

        // cargo test -- --nocapture --test-threads=1 passes libtest flags through.
        let passing = try TraceFixtures.runBinary([
            "test", RunnerGuests.testsModule, "passes", "--exact", "--nocapture",
            "--test-threads=1",
        ])
        #expect(passing.code == 0, "\(passing.err)")
        #expect(passing.out.contains("hello from passes"))
        #expect(passing.out.contains("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 10 filtered out;"))

        let list = try TraceFixtures.runBinary(["test", RunnerGuests.testsModule, "--list", "--format", "terse"])
        #expect(list.code == 0)
        #expect(list.out.split(separator: "\n").count == 11)
    }

    @Test("the namespace guest runs through the binary: distributed, registry and timer entries")
    func namespacesThroughBinary() throws {
        let guest = RunnerGuests.path("ns_namespaces.wasm")
        for (entry, text) in [
            ("distributed_main", "distributed ok"), ("registry_main", "registry ok"),
            ("timer_main", "timer ok"), ("wasi_config_main", "wasi config ok"),
        ] {
            let r = try TraceFixtures.runBinary(["run", "--entry", entry, guest])
            #expect(r.code == 0, "\(entry): \(r.err)")
            #expect(r.out == text + "\n")
        }
    }
}
