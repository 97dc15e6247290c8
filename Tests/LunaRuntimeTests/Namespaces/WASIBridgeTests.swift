import Foundation
import Testing
import TraceFormat

@testable import LunaRuntime

/// WASI preview 1 through WasmKit's WASI (traces/guests/ns_wasi.c): output capture, proc_exit,
/// wild pointers, tracing, and the `lunatic::wasi` config values applied to spawned children.
@Suite("WASI through WasmKit")
struct WASIBridgeTests {
    static var guest: GuestModule { get throws { try TestGuests.module("ns_wasi") } }

    /// The lines of `text` between "child says:" and "end" (the child's report).
    static func report(_ text: String) -> [Substring] {
        let lines = text.split(separator: "\n")
        guard let from = lines.firstIndex(of: "child says:"), let to = lines[from...].firstIndex(of: "end") else { return [] }
        return Array(lines[(from + 1)..<to])
    }

    // MARK: WasmKit's WASI, traced

    @Test("every preview 1 function is provided with WasmKit's type")
    func everyFunction() {
        let names = Set(GuestProcess.wasiFunctions.map(\.name))
        for name in ["fd_write", "fd_read", "path_open", "poll_oneoff", "environ_get", "proc_exit", "sock_send"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(names.count >= 45)
    }

    @Test("arguments, environment and preopens of the host's spawn reach the guest; each call is traced")
    func hostOptions() async throws {
        let dir = FileManager.default.temporaryDirectory.path
        let trace = TraceCollector()
        let environment = Environment(trace: trace)
        let output = CapturedGuestOutput()
        let pid = try environment.spawnGuest(
            module: try Self.guest, entry: "print_wasi",
            options: GuestOptions(
                output: output, arguments: ["prog", "a b"], environment: [("K", "v"), ("K2", "=x")],
                preopenedDirectories: [dir]))
        #expect(await environment.waitForExit(of: pid, timeout: 20) == .normal, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.prefix(2) == ["arg prog", "arg a b"])
        #expect(Set(lines[2..<4]) == ["env K=v", "env K2==x"])
        #expect(lines[4...] == ["preopen \(dir)", "end"])
        let calls = trace.events.filter { $0.kind == .wasiCall }
        #expect(
            calls.map(\.text).starts(with: [
                "args_sizes_get", "args_get", "environ_sizes_get", "environ_get",
                "fd_prestat_get", "fd_prestat_dir_name", "fd_prestat_get",
            ]))
        #expect(calls.first { $0.text == "fd_prestat_get" }?.result == .value(0))
        #expect(calls.last { $0.text == "fd_prestat_get" }?.result == .value(8))  // EBADF ends the scan
        let write = try #require(calls.first { $0.text == "fd_write" })
        #expect(write.args.at(0) == 1 && write.args.count == 4)  // the parameters as passed
        #expect(write.result == .value(0))
        #expect(write.payload == .bytes(Array(output.stdout.utf8)))
    }

    @Test("output written right before proc_exit is kept; proc_exit(0) ends normally, proc_exit(N) fails")
    func procExit() async throws {
        let ok = try await runGuest(try Self.guest, "exit_after_output", [.i32(0)])
        #expect(ok.exit == .normal)
        #expect(ok.stdout == "bye")
        #expect(ok.events(.wasiCall).last?.text == "proc_exit")
        let failed = try await runGuest(try Self.guest, "exit_after_output", [.i32(3)])
        #expect(failed.exit == .failure(reason: "proc_exit(3)"))
        #expect(failed.stdout == "bye")
    }

    // MARK: wild pointers (R-MEM-1)

    @Test(
        "R-MEM-1 fd_write with an iovec array outside memory answers EFAULT and the guest goes on",
        arguments: [(UInt32(0xFFFF_FFF0), UInt32(1)), (0xFFFF_FFFC, 1), (0, 0x2000_0000), (8, 0xFFFF_FFFF)])
    func wildIovecs(ptr: UInt32, count: UInt32) async throws {
        let run = try await runGuest(
            try Self.guest, "wild_fd_write", [.i32(Int32(bitPattern: ptr)), .i32(Int32(bitPattern: count))])
        #expect(run.exit == .normal, "\(run.failureReason ?? "")")
        #expect(run.stdout == "errno 21\n")
        let write = run.events(.wasiCall).first { $0.text == "fd_write" }
        #expect(write?.result == CallResult.value(21))
    }

    @Test(
        "R-MEM-1 fd_write naming a buffer outside memory writes nothing (not even the good buffer before it)",
        arguments: [(UInt32(0xFFFF_0000), UInt32(0x1_0000)), (0, 0xFFFF_FFFF), (0x10_0000, 1)])
    func wildBuffer(ptr: UInt32, len: UInt32) async throws {
        let run = try await runGuest(
            try Self.guest, "wild_fd_write_buffer", [.i32(Int32(bitPattern: ptr)), .i32(Int32(bitPattern: len))])
        #expect(run.exit == .normal, "\(run.failureReason ?? "")")
        #expect(run.stdout == "errno 21\n")
    }

    @Test("R-MEM-1 args_get with a pointer array outside memory answers EFAULT")
    func wildArgsGet() async throws {
        let run = try await runGuest(try Self.guest, "wild_args_get", [.i32(-4)], arguments: ["p", "q"])
        #expect(run.exit == .normal)
        #expect(run.stdout == "errno 21\n")
    }

    @Test("R-MEM-1 a wild nwritten pointer, clock or random buffer answers EFAULT without writing")
    func wildResultPointers() async throws {
        let module = try GuestModule(
            wat: """
                (module
                  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
                  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
                  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
                  (memory (export "memory") 1)
                  (data (i32.const 16) "hi")
                  (func (export "main") (result i32)
                    (i32.store (i32.const 0) (i32.const 16))
                    (i32.store (i32.const 4) (i32.const 2))
                    (i32.add
                      (i32.add (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 65534))
                               (call $clock (i32.const 1) (i64.const 0) (i32.const 65530)))
                      (call $random (i32.const 65000) (i32.const 1000)))))
                """, name: "wild_wasi")
        let run = try await runGuest(module, "main")
        #expect(run.exit == .normal)
        #expect(run.stdout == "")
        #expect(run.events(.wasiCall).map(\.result) == [.value(21), .value(21), .value(21)])
    }

    // MARK: lunatic::wasi configs applied

    @Test("a child spawned with a config gets exactly its arguments and variables, and no preopens")
    func configApplied() async throws {
        let run = try await runGuest(try Self.guest, "config_child_main", arguments: ["parent", "p-arg"])
        #expect(run.exit == .normal, "\(run.stderr)")
        let report = Self.report(run.stdout)
        #expect(report.prefix(2) == ["arg child.wasm", "arg --answer=42"])
        #expect(Set(report.dropFirst(2)) == ["env GREETING=hello", "env EMPTY="])
        #expect(run.stdout.hasSuffix("end\nconfig ok\n"))
    }

    @Test("a child spawned with config -1 gets the spawner's arguments, variables and preopens")
    func configInherited() async throws {
        let dir = FileManager.default.temporaryDirectory.path
        let environment = Environment()
        let output = CapturedGuestOutput()
        let pid = try environment.spawnGuest(
            module: try Self.guest, entry: "inherit_child_main",
            options: GuestOptions(
                output: output, arguments: ["prog", "x"], environment: [("A", "1")],
                preopenedDirectories: [dir]))
        #expect(await environment.waitForExit(of: pid, timeout: 20) == .normal, "\(output.stderr)")
        #expect(Self.report(output.stdout) == ["arg prog", "arg x", "env A=1", "preopen \(dir)"])
    }

    @Test("a preopened directory that does not exist fails the process at its first WASI call, naming it")
    func missingPreopen() async throws {
        let environment = Environment()
        let output = CapturedGuestOutput()
        let pid = try environment.spawnGuest(
            module: try Self.guest, entry: "print_wasi",
            options: GuestOptions(output: output, preopenedDirectories: ["/nonexistent/luna-dir"]))
        let exit = await environment.waitForExit(of: pid, timeout: 20)
        guard case .failure(let reason)? = exit else { Issue.record("\(String(describing: exit))"); return }
        #expect(reason.contains("'/nonexistent/luna-dir'"), "\(reason)")
    }
}
