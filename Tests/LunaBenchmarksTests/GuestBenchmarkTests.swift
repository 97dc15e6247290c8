import Foundation
import LunaBenchmarks
import LunaRuntime
import Testing

/// The guest benchmark workloads run correctly. Figures come from release builds: with
/// `LUNA_GUEST_BENCH_ROUNDTRIPS=N` set, the test also prints the measured rates (no timing
/// assertion), e.g. `LUNA_GUEST_BENCH_ROUNDTRIPS=100000 swift test -c release --filter GuestBenchmarkTests`.
@Suite("Guest benchmark workloads", .serialized)
struct GuestBenchmarkTests {
    @Test("guest ping-pong completes with skip-search and with receive")
    func pingPong() throws {
        let module = try GuestBenchmarks.pingPongModule()
        let rounds = ProcessInfo.processInfo.environment["LUNA_GUEST_BENCH_ROUNDTRIPS"].flatMap(Int.init) ?? 200
        let skip = try GuestBenchmarks.pingPongRate(roundTrips: rounds, skipSearch: true, module: module)
        let receive = try GuestBenchmarks.pingPongRate(roundTrips: rounds, skipSearch: false, module: module)
        #expect(skip > 0 && receive > 0)
        if rounds > 200 {
            print(
                String(
                    format: "guest ping-pong: %.0f round trips/s (skip-search), %.0f (send+receive), %d rounds",
                    skip, receive, rounds))
        }
    }

    @Test("idle guests are counted and killed")
    func idleMemory() throws {
        let count = ProcessInfo.processInfo.environment["LUNA_GUEST_BENCH_IDLE"].flatMap(Int.init) ?? 16
        let bytes = try GuestBenchmarks.idleMemoryPerProcess(count: count)
        #expect(bytes >= 0)
        if count > 16 { print(String(format: "idle guest: %.0f bytes resident each (%d guests)", bytes, count)) }
    }
}
