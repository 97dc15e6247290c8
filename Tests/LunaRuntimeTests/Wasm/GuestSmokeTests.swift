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
