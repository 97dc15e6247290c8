import Foundation
import Testing
import TraceFormat

@testable import LunaRuntime

/// `lunatic::registry`, `lunatic::timer` and the `lunatic::wasi` config calls
/// (traces/guests/ns_namespaces.c, plus WAT for bad input).
@Suite("lunatic::registry, lunatic::timer, lunatic::wasi")
struct RegistryTimerWasiTests {
    static var guest: GuestModule { get throws { try TestGuests.module("ns_namespaces") } }

    // MARK: registry

    @Test("put, get and remove a named process; a guest messages it by its name")
    func registry() async throws {
        let run = try await runGuest(try Self.guest, "registry_main")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.stdout == "registry ok\n")
        let calls = run.events(.registryCall)
        #expect(
            calls.map(\.text) == [
                "get echo-service", "put echo-service", "get echo-service",
                "remove echo-service", "get echo-service", "remove echo-service",
            ])
        #expect(calls.map(\.result) == [.value(1), .none, .value(0), .value(1), .value(1), .value(0)])
        let child = try #require(run.events(.spawn).first { $0.pid == run.pid }?.args.at(0))
        #expect(calls[1].args == [0, child])
        #expect(run.environment.registeredProcess(named: "echo-service") == nil)
    }

    @Test("the host sees and changes the same registry as its guests")
    func hostRegistry() async throws {
        let environment = Environment()
        environment.register(name: "a", process: 41)
        #expect(environment.registeredProcess(named: "a") == 41)
        environment.register(name: "a", process: 42)
        #expect(environment.registeredProcess(named: "a") == 42)
        environment.unregister(name: "a")
        #expect(environment.registeredProcess(named: "a") == nil)
        #expect(Environment().registeredProcess(named: "a") == nil)  // one registry per environment
    }

    @Test("a registry name outside guest memory traps, naming the call")
    func registryWildName() async throws {
        let module = try GuestModule(
            wat: """
                (module
                  (import "lunatic::registry" "put" (func $put (param i32 i32 i64 i64)))
                  (import "lunatic::registry" "get" (func $get (param i32 i32 i32 i32) (result i32)))
                  (memory (export "memory") 1)
                  (func (export "put") (call $put (i32.const 65530) (i32.const 10) (i64.const 0) (i64.const 1)))
                  (func (export "get") (drop (call $get (i32.const 0) (i32.const 70000) (i32.const 0) (i32.const 8))))
                  (func (export "get_out") (drop (call $get (i32.const 0) (i32.const 1) (i32.const 65535) (i32.const 8))))
                  (func (export "put_then_get_out")
                    (call $put (i32.const 0) (i32.const 1) (i64.const 0) (i64.const 1))
                    (drop (call $get (i32.const 0) (i32.const 1) (i32.const 65535) (i32.const 8)))))
                """, name: "wild")
        #expect(try await runGuest(module, "put").exit == .failure(reason: "lunatic::registry::put"))
        #expect(try await runGuest(module, "get").exit == .failure(reason: "lunatic::registry::get"))
        // Not found: nothing is written, so the bad out-pointer does not matter.
        #expect(try await runGuest(module, "get_out").exit == .normal)
        #expect(try await runGuest(module, "put_then_get_out").exit == .failure(reason: "lunatic::registry::get"))
    }

    // MARK: timer

    @Test("send_after delivers later as a send by the caller; cancel_timer stops a pending one")
    func timer() async throws {
        let run = try await runGuest(try Self.guest, "timer_main")
        #expect(run.exit == .normal, "\(run.stderr)")
        #expect(run.stdout == "timer ok\n")
        let calls = run.events(.timerCall)
        #expect(
            calls.map(\.text) == [
                "send_after", "send_after", "cancel_timer", "cancel_timer", "cancel_timer",
                "cancel_timer",
            ])
        #expect(calls.map(\.result) == [.value(0), .value(1), .value(1), .value(0), .value(0), .value(0)])
        let first = calls[0]
        #expect(first.args == [Int64(run.pid), 30])
        // Exactly one delayed send: the first timer's message, to the caller, at least 30 ms later.
        let delayed = run.events(.send).filter { $0.text == "send_after" }
        #expect(delayed.count == 1)
        let send = try #require(delayed.first)
        #expect(send.pid == run.pid && send.message == first.message && send.args == [Int64(run.pid)])
        #expect(send.start >= first.end + 30_000_000 - 1_000_000)
        #expect(run.events(.receive).contains { $0.message == first.message })
        #expect(run.events(.send).allSatisfy { $0.message != calls[1].message })
    }

    @Test("send_after with an empty scratch area traps as lunatic (lunatic::message::send_after)")
    func timerWithoutMessage() async throws {
        let run = try await runGuest(try Self.guest, "timer_without_message")
        #expect(run.exit == .failure(reason: "lunatic::message::send_after"))
        #expect(run.events(.timerCall).map(\.result) == [.trap("lunatic::message::send_after")])
    }

    @Test("a timer's message still arrives after the process that set it has ended; a missing receiver drops it")
    func timerOutlivesOwner() async throws {
        let environment = Environment(trace: TraceCollector())
        let receiver = environment.spawn { p in
            let result = try await p.receive(tags: [9], timeoutMs: 5000)
            if result != 0 { throw LunaTrap(reason: "no timer message (\(result))") }
        }
        let owner = environment.spawn { p in
            p.createData(tag: 9, capacity: 0)
            _ = try p.sendAfter(to: receiver, delayMs: 20)
            p.createData(tag: 9, capacity: 0)
            _ = try p.sendAfter(to: 999, delayMs: 1)
        }
        #expect(await environment.waitForExit(of: owner, timeout: 10) == .normal)
        #expect(await environment.waitForExit(of: receiver, timeout: 10) == .normal)
        #expect(await eventually { environment.timers.pendingCount == 0 })
        let trace = try #require(environment.trace as? TraceCollector)
        #expect(trace.events.contains { $0.kind == .messageDropped && $0.args == [DropReason.receiverMissing.rawValue] })
    }

    // MARK: wasi config

    @Test("the wasi config calls are kept with the config and recorded")
    func wasiConfig() async throws {
        let run = try await runGuest(try Self.guest, "wasi_config_main")
        #expect(run.exit == .normal, "\(run.stderr)")
        let texts = run.events(.wasiCall).map(\.text).filter { $0.hasPrefix("config_") }
        #expect(
            texts == [
                "config_add_environment_variable GREETING=hello",
                "config_add_command_line_argument --verbose", "config_preopen_dir /tmp",
            ])
        let config = GuestConfig()
        config.wasiSettings.update { $0.arguments.append("x") }
        #expect(config.wasiSettings.value.arguments == ["x"])
        #expect(GuestConfig().wasiSettings.value.arguments.isEmpty)
    }

    @Test("a wasi config call on a config the process does not hold traps, naming it")
    func wasiConfigBadID() async throws {
        let run = try await runGuest(try Self.guest, "wasi_config_bad_id")
        #expect(run.exit == .failure(reason: "lunatic::wasi::config_add_command_line_argument: Config ID doesn't exist"))
    }
}
