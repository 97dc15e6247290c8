import Testing
@testable import LunaRuntime

/// The guest benchmark workloads run correctly (figures come from release builds of luna-bench).
@Suite("Guest benchmark workloads")
struct GuestBenchmarkTests {
    @Test("guest ping-pong completes with skip-search and with receive")
    func pingPong() throws {
        let module = try GuestBenchmarks.pingPongModule()
        #expect(try GuestBenchmarks.pingPongRate(roundTrips: 200, skipSearch: true, module: module) > 0)
        #expect(try GuestBenchmarks.pingPongRate(roundTrips: 200, skipSearch: false, module: module) > 0)
    }

    @Test("idle guests are counted and killed")
    func idleMemory() throws {
        let bytes = try GuestBenchmarks.idleMemoryPerProcess(count: 16)
        #expect(bytes >= 0)
    }
}
