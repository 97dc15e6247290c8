import ConformanceKit
import Foundation
import LunaConformCommands
import LunaRuntime
import LunaTestSupport
import TraceFormat

/// The committed corpus (traces/MANIFEST.tsv, traces/corpus/) as the corpus tests see it.
enum CorpusSupport {
    /// traces/ of the package.
    static let tracesDirectory = TestSupport.packageRoot + "/traces"

    /// The parsed manifest (the tests fail on a malformed one).
    static func manifest() throws -> CorpusManifest {
        try CorpusManifest(path: tracesDirectory + "/MANIFEST.tsv")
    }

    /// The corpus's known replay failures (its `--expect` file).
    static func expectations() throws -> ExpectationFile {
        ExpectationFile(text: try String(contentsOfFile: tracesDirectory + "/corpus/EXPECTED_FAILURES", encoding: .utf8))
    }

    /// Every corpus trace as a replay source, in manifest order.
    static func sources() throws -> [TraceSource] {
        let m = try manifest()
        return m.entries.map { TraceSource.file(m.path(of: $0)) }
    }

    /// Replays the whole corpus through `command` with the corpus's expectations.
    static func replay(_ command: [String], callTimeout: Double = 2) throws -> ConformanceReport {
        try replay(sources(), command, callTimeout: callTimeout)
    }

    /// Replays `sources` through `command` with the corpus's expectations.
    static func replay(_ sources: [TraceSource], _ command: [String], callTimeout: Double = 2) throws -> ConformanceReport {
        ConformanceRunner(
            adapter: .init(command: command),
            replay: .init(callTimeout: callTimeout, traceTimeout: 60),
            expectations: try expectations()
        )
        .run(sources)
    }

    /// All events of a trace file, or the reader's error.
    static func events(of path: String) throws -> (TraceHeader, [TraceEvent]) {
        let reader = try TraceReader(path: path)
        var events: [TraceEvent] = []
        while let e = try reader.next() { events.append(e) }
        return (reader.header, events)
    }

    /// Records `entry` of `guest` under LunaRuntime into a temporary file, as
    /// `luna-trace record` does, and returns its path.
    static func record(_ entry: CorpusManifest.Entry, in m: CorpusManifest) throws -> String {
        let path = Scratch.path("luna-corpus", extension: "trace")
        let module = try GuestModule(path: m.directory + "/" + entry.guest)
        let writer = try TraceWriter(
            path: path,
            header: TraceHeader(
                producer: "CorpusTests", clock: "monotonic",
                wallClockStartNanos: 0, metadata: [:]))
        var arguments = [entry.guest.split(separator: "/").last.map(String.init) ?? entry.guest]  // as record passes it
        if entry.entry == "tls_acceptor" {
            for file in ["localhost.crt", "localhost.key"] {
                arguments.append(
                    try String(contentsOfFile: m.directory + "/corpus/tls/" + file, encoding: .utf8)
                        .trimmingCharacters(in: .newlines))
            }
        }
        let environment = Environment(trace: writer)
        let pid = try environment.spawnGuest(
            module: module, entry: entry.entry,
            options: GuestOptions(output: CapturedGuestOutput(), arguments: arguments))
        _ = environment.waitForExitBlocking(of: pid, timeout: 60)
        _ = environment.waitUntilAllExited(timeout: 5)
        _ = try writer.close()
        return path
    }

    /// A trace's calls and results with timing taken out: events
    /// ordered by process (each process's own order kept), message ids renumbered by first
    /// appearance, and what the network picks (ports, addresses) dropped from networking calls.
    static func callsAndResults(_ events: [TraceEvent]) -> [String] {
        let ordered = events.enumerated().sorted { ($0.element.pid, $0.offset) < ($1.element.pid, $1.offset) }.map(\.element)
        var ids: [MessageID: Int] = [:]
        return ordered.map { e in
            var message = 0
            if e.message != 0 {
                if ids[e.message] == nil { ids[e.message] = ids.count + 1 }
                message = ids[e.message]!
            }
            let name = e.kind.name
            let network = ["tcp_", "tls_", "udp_", "resolve", "drop_dns", "drop_tcp", "drop_tls", "drop_udp"]
                .contains { name.hasPrefix($0) }
            var line = "\(e.pid) \(name) m\(message) \(e.result) tags\(e.tags)"
            if !network { line += " args\(e.args) \(e.text) payload\(e.payload)" }
            return line
        }
    }
}
