import Testing
import TraceFormat

@testable import LunaRuntime

@Suite("Guest smoke")
struct GuestSmokeTests {
    @Test func helloPrintsArgumentsAndPid() async throws {
        let run = try await runGuest(try TestGuests.wild, "hello", arguments: ["prog", "x y"])
        #expect(run.exit == .normal)
        #expect(run.stdout == "arg prog\narg x y\nhello from 1\n")
        #expect(run.stderr == "to stderr\n")
    }

    @Test func pingPongBetweenTwoGuests() async throws {
        let run = try await runGuest(try TestGuests.pingpong, "pingpong_main", [.i32(100)])
        #expect(run.exit == .normal)
        #expect(run.stdout == "pingpong 100 done\n")
    }
}

@Suite("Guest tracing")
struct GuestTracingTests {
    @Test("a traced guest run records its calls of every namespace, in program order per process")
    func tracedCalls() async throws {
        let run = try await runGuest(try TestGuests.pingpong, "pingpong_main", [.i32(3)])
        #expect(run.exit == .normal)
        let events = run.trace.events
        let kinds = Set(events.filter { $0.pid == 1 }.map(\.kind))
        for kind in [
            EventKind.spawn, .start, .createData, .writeData, .readData, .sendReceiveSkipSearch,
            .send, .processId, .wasiCall, .exit,
        ] {
            #expect(kinds.contains(kind), "missing \(kind)")
        }
        let writes = events.filter { $0.kind == .wasiCall && $0.text == "fd_write" }
        #expect(
            writes.compactMap { if case .bytes(let b) = $0.payload { String(decoding: b, as: UTF8.self) } else { nil } }
                .joined() == "pingpong 3 done\n")
        // per process, events are in program order: start times never go backwards
        for pid in Set(events.map(\.pid)) where pid != 0 {
            let starts = events.filter { $0.pid == pid }.map(\.start)
            #expect(starts == starts.sorted(), "process \(pid)")
        }
        // each request pong receives was sent (the skip-search call's send half) before pong's
        // receive returned it
        let requests = events.filter { $0.kind == .sendReceiveSkipSearch && $0.pid == 1 }
        #expect(requests.count == 3)
        for request in requests {
            let received = events.first { $0.kind == .receive && $0.pid == 2 && $0.message == request.message }
            #expect(received != nil)
            if let received { #expect(request.start <= received.end) }
        }
    }
}
