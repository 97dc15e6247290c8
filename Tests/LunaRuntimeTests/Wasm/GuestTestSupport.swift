import Foundation
import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// The committed guest modules (traces/guests/*.c, built by traces/guests/build.sh), loaded
/// once from the repository.
enum TestGuests {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "traces/guests/\(name).wasm is missing; run traces/guests/build.sh" }
    }

    /// traces/guests in the repository these tests belong to.
    static let directory = URL(fileURLWithPath: packageRoot + "/traces/guests")

    /// The path of `traces/guests/<name>.wasm`, if it exists.
    static func path(_ name: String) -> String? {
        let path = directory.appendingPathComponent("\(name).wasm").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    private static let cache = Box<[String: GuestModule]>([:])

    /// Module `traces/guests/<name>.wasm`.
    static func module(_ name: String) throws -> GuestModule {
        if let module = cache.value[name] { return module }
        guard let path = path(name) else { throw Missing(name: name) }
        let module = try GuestModule(path: path)
        cache.update { $0[name] = module }
        return module
    }

    /// Module `traces/guests/<name>.wasm`, for static initialisers; a missing or broken module stops
    /// the test run with the reason (prefer the throwing `module(_:)`).
    static func load(_ name: String) -> GuestModule {
        do { return try module(name) } catch { fatalError("\(error)") }
    }

    static var rules: GuestModule { get throws { try module("rules") } }
    static var wild: GuestModule { get throws { try module("wild") } }
    static var pingpong: GuestModule { get throws { try module("pingpong") } }
}

/// The outcome of running one guest entry in a fresh environment.
struct GuestRun {
    let environment: Environment
    let pid: ProcessID
    let exit: ProcessExit
    let output: CapturedGuestOutput
    let trace: TraceCollector

    /// Standard output of all processes of the run.
    var stdout: String { output.stdout }
    /// Standard error of all processes of the run.
    var stderr: String { output.stderr }
    /// Every recorded event of `kind`.
    func events(_ kind: EventKind) -> [TraceEvent] { trace.events.filter { $0.kind == kind } }
    /// The failure reason, if the guest failed.
    var failureReason: String? {
        if case .failure(let reason) = exit { return reason }
        return nil
    }
}

/// Spawns `entry` of `module` with `params` in a fresh, traced environment, waits (up to
/// `timeout` seconds) for it and for every process it spawned to end.
func runGuest(
    _ module: GuestModule, _ entry: String, _ params: [GuestValue] = [],
    arguments: [String] = [], timeout: Double = 20
) async throws -> GuestRun {
    let trace = TraceCollector()
    let environment = Environment(trace: trace)
    let output = CapturedGuestOutput()
    let pid = try environment.spawnGuest(
        module: module, entry: entry, params: params,
        options: GuestOptions(output: output, arguments: arguments))
    let exit = await environment.waitForExit(of: pid, timeout: timeout) ?? .failure(reason: "test timed out")
    _ = await environment.waitUntilAllExited(timeout: timeout)
    return GuestRun(environment: environment, pid: pid, exit: exit, output: output, trace: trace)
}

/// Runs `entry` of the rules guest (traces/guests/rules.c).
func runRule(_ entry: String, _ params: [GuestValue] = []) async throws -> GuestRun {
    try await runGuest(try TestGuests.rules, entry, params)
}

/// Polls `condition` every few milliseconds for up to `seconds`.
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = MonotonicClock.deadline(after: seconds)
    while MonotonicClock.now() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 2_000_000)
    }
    return condition()
}
