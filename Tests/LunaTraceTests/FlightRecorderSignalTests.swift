import Dispatch
import Foundation
import LunaTestSupport
import Testing
import TraceFormat

#if canImport(Glibc)
import Glibc
#endif

/// The built `luna-trace run --flight-recorder` driven by signals: SIGUSR1 writes a window
/// while the program runs on, SIGTERM and SIGINT the final one.
@Suite("flight recorder on signals (the built binary)")
struct FlightRecorderSignalTests {
    /// Reads a pipe as output comes, until some text appears.
    final class Watch: @unchecked Sendable {  // used by one thread at a time
        private let handle: FileHandle
        private var seen = ""
        init(_ pipe: Pipe) { handle = pipe.fileHandleForReading }

        /// Whether `text` appeared (after what earlier calls consumed) before the output ended.
        func wait(for text: String) -> Bool {
            while true {
                if let r = seen.range(of: text) {
                    seen = String(seen[r.upperBound...])
                    return true
                }
                let data = handle.availableData
                if data.isEmpty { return false }
                seen += String(decoding: data, as: UTF8.self)
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// One window as read back: its window, events, and how reading stopped.
    struct Read {
        var window: TraceWindow
        var events: [TraceEvent]
        var stop: TraceStop
        init(_ path: String) throws {
            let reader = try TraceReader(path: path)
            events = Array(reader.events())
            stop = reader.stop
            window = try #require(reader.header.window, "\(path) has no window")
        }
        var isComplete: Bool { if case .complete = stop { return true } else { return false } }
    }

    /// Events of the recording that both windows hold are the same events.
    static func agree(_ a: Read, _ b: Read) -> Bool {
        let from = max(a.window.droppedEvents, b.window.droppedEvents)
        let to = min(a.window.droppedEvents + UInt64(a.events.count), b.window.droppedEvents + UInt64(b.events.count))
        guard from < to else { return true }
        return (from..<to).allSatisfy { n in
            a.events[Int(n - a.window.droppedEvents)] == b.events[Int(n - b.window.droppedEvents)]
        }
    }

    @Test(
        "SIGUSR1 twice writes FILE.1 and FILE.2 while the program runs on; SIGTERM and SIGINT write FILE",
        arguments: [SIGTERM, SIGINT])
    func dumpsOnSignals(signal: Int32) async throws {
        guard let binary = TraceFixtures.binary else { throw Failure(description: "luna-trace not built") }
        let dir = try TraceFixtures.directory()
        let guest = try FlightGuest.file(in: dir, rounds: nil, ready: 200)
        let trace = dir.appendingPathComponent("flight.trace").path
        let status = try await offPool { () throws -> Int32 in
            let p = Process()
            p.executableURL = binary
            p.arguments = ["run", "--flight-recorder", "64k", "-o", trace, guest]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            // A safety net only: a recorder that hangs is killed, which ends its output.
            let pid = p.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + 300) { if p.isRunning { kill(pid, SIGKILL) } }
            let stdout = Watch(out), stderr = Watch(err)
            guard stdout.wait(for: "ready") else { throw Failure(description: "the guest never got ready") }
            for n in 1...2 {
                kill(pid, SIGUSR1)
                guard stderr.wait(for: "flight recorder, SIGUSR1: \(trace).\(n) written") else {
                    throw Failure(description: "no report of \(trace).\(n)")
                }
            }
            kill(pid, signal)
            guard stderr.wait(for: "\(trace) written") else { throw Failure(description: "no report of the final window") }
            p.waitUntilExit()
            return p.terminationStatus
        }
        #expect(status == 128 + signal)
        let first = try Read(trace + ".1"), second = try Read(trace + ".2"), final = try Read(trace)
        #expect(first.isComplete && second.isComplete && final.isComplete)
        #expect(first.window.trigger == "SIGUSR1" && second.window.trigger == "SIGUSR1")
        #expect(final.window.trigger == (signal == SIGTERM ? "SIGTERM" : "SIGINT"))
        #expect(first.events.count > 100 && second.events.count > 100)
        #expect(
            first.window.droppedEvents <= second.window.droppedEvents
                && second.window.droppedEvents <= final.window.droppedEvents)
        // Each ends no earlier than the one before (a loaded machine may not run the guest
        // between two signals); the final one ends later, with the host's kills.
        func end(_ r: Read) -> UInt64 { r.window.droppedEvents + UInt64(r.events.count) }
        #expect(end(first) <= end(second) && end(second) < end(final))
        #expect(Self.agree(first, second) && Self.agree(second, final))
        // The final window ends with the host stopping both processes.
        #expect(final.events.contains { $0.kind == .kill && $0.pid == 0 })
        // Both ended; after the last exit at most the host's kills and what the ends released
        // (drops, link notices) were still being recorded when the window was written.
        #expect(final.events.filter { $0.kind == .exit }.count == 2)
        let lastExit = final.events.lastIndex { $0.kind == .exit } ?? 0
        let after = final.events[(lastExit + 1)...].map(\.kind)
        #expect(after.allSatisfy { [.kill, .messageDropped, .resourceDropped, .linkDied].contains($0) }, "\(after)")
        #expect(!FileManager.default.fileExists(atPath: trace + ".3"))
    }
}
