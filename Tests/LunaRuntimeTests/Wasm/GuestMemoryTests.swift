import Testing
import TraceFormat

@testable import LunaRuntime

/// R-MEM-1: every guest pointer range is checked before memory is touched. Wild pointers trap
/// the guest with the host function's name (recorded as the call's trap) and never crash the
/// host; other processes keep running.
@Suite("Guest R-MEM-1 wild pointers")
struct GuestMemoryTests {
    /// Ranges outside the (small) guest memory: past the end, straddling the end, and
    /// ptr + len overflowing 32 bits.
    static let wildRanges: [(UInt32, UInt32)] = [
        (0x0100_0000, 4),  // past the end
        (0x0001_FFFE, 0x10_0000),  // starts inside, ends outside
        (0xFFFF_FFF0, 0x20),  // ptr + len wraps in u32
        (0xFFFF_FFFF, 0xFFFF_FFFF),
    ]

    static func i32(_ v: UInt32) -> GuestValue { .i32(Int32(bitPattern: v)) }

    @Test("R-MEM-1 write_data with a wild range traps", arguments: wildRanges)
    func writeData(ptr: UInt32, len: UInt32) async throws {
        let run = try await runGuest(try TestGuests.wild, "wild_write", [Self.i32(ptr), Self.i32(len)])
        #expect(run.exit == .failure(reason: "lunatic::message::write_data"))
        #expect(run.events(.writeData).last?.result.trapReason == "lunatic::message::write_data")
        #expect(!run.stdout.contains("returned"))
    }

    @Test("R-MEM-1 read_data with a wild range traps", arguments: wildRanges)
    func readData(ptr: UInt32, len: UInt32) async throws {
        let run = try await runGuest(try TestGuests.wild, "wild_read", [Self.i32(ptr), Self.i32(len)])
        #expect(run.exit == .failure(reason: "lunatic::message::read_data"))
        #expect(run.events(.readData).last?.result.trapReason == "lunatic::message::read_data")
    }

    @Test("R-MEM-1 receive with a wild tag array traps", arguments: wildRanges)
    func receive(ptr: UInt32, len: UInt32) async throws {
        let run = try await runGuest(try TestGuests.wild, "wild_receive", [Self.i32(ptr), Self.i32(len)])
        #expect(run.exit == .failure(reason: "lunatic::message::receive"))
    }

    @Test("R-MEM-1 spawn with a wild function name traps", arguments: wildRanges)
    func spawnName(ptr: UInt32, len: UInt32) async throws {
        let run = try await runGuest(try TestGuests.wild, "wild_spawn_name", [Self.i32(ptr), Self.i32(len)])
        #expect(run.exit == .failure(reason: "lunatic::process::spawn"))
        // the host's spawn of the guest, then the guest's spawn call, recorded with its trap
        #expect(run.events(.spawn).map(\.result) == [.value(0), .trap("lunatic::process::spawn")])
    }

    @Test("R-MEM-1 compile_module with wild bytes traps", arguments: wildRanges)
    func compileModule(ptr: UInt32, len: UInt32) async throws {
        let run = try await runGuest(try TestGuests.wild, "wild_compile", [Self.i32(ptr), Self.i32(len)])
        #expect(run.exit == .failure(reason: "lunatic::process::compile_module"))
    }

    @Test(
        "R-MEM-1 compile_module with a wild id pointer traps",
        arguments: [UInt32(0x0100_0000), 0xFFFF_FFFC, 0x0001_FFFC])
    func compileModuleIDPointer(ptr: UInt32) async throws {
        let run = try await runGuest(try TestGuests.wild, "wild_id_ptr", [Self.i32(ptr)])
        #expect(run.exit == .failure(reason: "lunatic::process::compile_module"))
    }

    @Test("R-MEM-1 WASI fd_write with a wild buffer returns EFAULT instead of trapping")
    func fdWrite() async throws {
        let run = try await runGuest(try TestGuests.wild, "wild_fd_write", [Self.i32(0xFFFF_FFF0), Self.i32(0x20)])
        #expect(run.exit == .normal)
        #expect(run.stdout == "EFAULT\n")
    }

    @Test("R-MEM-1 a zero-length range at the very end of memory is in bounds")
    func zeroLengthAtEnd() async throws {
        // memory is 2 pages (wasm-ld's default for these guests): 0x20000 bytes
        let run = try await runGuest(try TestGuests.wild, "wild_write", [Self.i32(0x2_0000), Self.i32(0)])
        #expect(run.exit == .normal)
        #expect(run.stdout == "write_data returned\n")
    }

    @Test("R-MEM-1 many trapping guests leave a running guest untouched")
    func othersKeepRunning() async throws {
        let environment = Environment()
        let output = CapturedGuestOutput()
        let options = GuestOptions(output: output)
        let survivor = try environment.spawnGuest(
            module: try TestGuests.pingpong, entry: "pingpong_main",
            params: [.i32(200)], options: options)
        var wild: [ProcessID] = []
        for (ptr, len) in Self.wildRanges {
            wild.append(
                try environment.spawnGuest(
                    module: try TestGuests.wild, entry: "wild_write",
                    params: [Self.i32(ptr), Self.i32(len)], options: options))
            wild.append(
                try environment.spawnGuest(
                    module: try TestGuests.wild, entry: "wild_read",
                    params: [Self.i32(ptr), Self.i32(len)], options: options))
        }
        for pid in wild {
            let exit = await environment.waitForExit(of: pid, timeout: 20)
            #expect(exit.map { if case .failure = $0 { true } else { false } } == true)
        }
        #expect(await environment.waitForExit(of: survivor, timeout: 30) == .normal)
        #expect(output.stdout.contains("pingpong 200 done"))
    }
}

/// Traps in guest code itself (not in a host call): the process fails with WasmKit's
/// description, recorded as a `trap` event.
@Suite("Guest code traps")
struct GuestCodeTrapTests {
    @Test(
        "unreachable, out-of-bounds load and division by zero fail the process",
        arguments: [
            ("code_unreachable", [GuestValue](), "unreachable"),
            ("code_oob_load", [GuestValue.i32(0x7FFF_FFF0)], "out of bounds"),
            ("code_divide_by_zero", [GuestValue.i32(0)], "divide by zero"),
        ])
    func codeTraps(entry: String, params: [GuestValue], fragment: String) async throws {
        let run = try await runGuest(try TestGuests.wild, entry, params)
        let reason = try #require(run.failureReason)
        #expect(reason.lowercased().contains(fragment), "\(reason)")
        let traps = run.events(.trap)
        #expect(traps.count == 1)
        #expect(traps.first?.text == reason)
        #expect(run.events(.exit).first?.text == reason)
    }

    @Test("unbounded recursion traps (call stack exhausted) instead of overflowing the host stack")
    func unboundedRecursion() async throws {
        let module = try GuestModule(
            wat: """
                (module
                  (memory (export "memory") 1)
                  (func $down (export "down") (param i64) (result i64)
                    (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (i64.const 1))))
                """)
        let run = try await runGuest(module, "down", [.i64(0)])
        let reason = try #require(run.failureReason)
        #expect(reason.lowercased().contains("stack"), "\(reason)")
    }

    @Test("a module without a memory export traps in host calls that need memory")
    func noMemoryExport() async throws {
        let module = try GuestModule(
            wat: """
                (module
                  (import "lunatic::message" "create_data" (func $create (param i64 i64)))
                  (import "lunatic::message" "write_data" (func $write (param i32 i32) (result i32)))
                  (func (export "main") (call $create (i64.const 0) (i64.const 0))
                    (drop (call $write (i32.const 0) (i32.const 1)))))
                """)
        let run = try await runGuest(module, "main")
        #expect(run.exit == .failure(reason: "No export `memory` found"))
    }

    @Test("proc_exit(0) ends normally, proc_exit(3) with failure")
    func procExit() async throws {
        let zero = try await runGuest(try TestGuests.wild, "exit_with", [.i32(0)])
        #expect(zero.exit == .normal)
        let three = try await runGuest(try TestGuests.wild, "exit_with", [.i32(3)])
        #expect(three.exit == .failure(reason: "proc_exit(3)"))
    }
}
