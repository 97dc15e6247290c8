import ConformanceKit
import Foundation
import TraceFormat

/// Writes a (shrunk) failing case as three files: the trace, the adapter requests with the
/// reference adapter's answers (NDJSON, pipeable into an adapter: each line is a request and
/// adapters ignore the extra `expect`/`got` members), and a readable listing.
public enum MinimalCase {
    /// The paths written.
    public struct Files: Sendable {
        public var trace: String
        public var requests: String
        public var listing: String
        /// Requests of the case (after `hello`, counting `reset`).
        public var requestCount: Int
    }

    /// Writes `events` as a trace file.
    public static func writeTrace(_ events: [TraceEvent], to path: String, producer: String = "luna-conform") throws {
        let writer = try TraceWriter(path: path, header: TraceHeader(producer: producer))
        for e in events { writer.record(e) }
        _ = try writer.close()
    }

    /// Writes the case under `directory` with file names starting with `base`.
    public static func write(
        events: [TraceEvent], workload: Workload?, header: [String], adapter: [String],
        reference: [String]?, replay: ReplayOptions, directory: String, base: String
    ) throws -> Files {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stem = (directory as NSString).appendingPathComponent(base)
        let files = Files(trace: TraceFileName.named(stem), requests: stem + ".ndjson", listing: stem + ".txt", requestCount: 0)
        try writeTrace(events, to: files.trace)
        let got = capture(events, adapter: adapter, replay: replay, scratch: stem)
        let expect = reference.map { capture(events, adapter: $0, replay: replay, scratch: stem) }
        var lines: [String] = []
        var requests = 0
        for (line, request) in got.requests {
            guard case .object(var obj) = request, let id = request["id"]?.int else { continue }
            if request["op"]?.string != "hello" { requests += 1 }
            if let e = expect?.answers[id] { obj["expect"] = e }
            if let g = got.answers[id], expect?.answers[id] != g || expect == nil { obj["got"] = g }
            _ = line
            lines.append(JSONValue.object(obj).serialized)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: files.requests, atomically: true, encoding: .utf8)
        var text = header
        text.append("requests to the adapter: \(requests) (after hello, counting reset)")
        text.append("")
        if let workload {
            text.append(workload.listing)
        }
        text.append("trace (\(events.count) events):")
        text.append(contentsOf: events.enumerated().map { "  #\($0.offset) " + describe($0.element) })
        try (text.joined(separator: "\n") + "\n").write(toFile: files.listing, atomically: true, encoding: .utf8)
        var out = files
        out.requestCount = requests
        return out
    }

    /// Replays `events` through `adapter` with its stdin and stdout copied to files; returns
    /// the requests (in order) and the answers by request id.
    static func capture(
        _ events: [TraceEvent], adapter: [String], replay: ReplayOptions, scratch: String
    )
        -> (requests: [(String, JSONValue)], answers: [Int64: JSONValue])
    {
        let inFile = scratch + ".capture-in", outFile = scratch + ".capture-out"
        defer {
            try? FileManager.default.removeItem(atPath: inFile)
            try? FileManager.default.removeItem(atPath: outFile)
        }
        let shell = "tee \(quote(inFile)) | \(adapter.map(quote).joined(separator: " ")) | tee \(quote(outFile))"
        _ = ConformanceRunner(adapter: .init(command: ["sh", "-c", shell]), replay: replay)
            .run([TraceSource.events(events, name: "capture")])
        let reqText = (try? String(contentsOfFile: inFile, encoding: .utf8)) ?? ""
        let ansText = (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
        var requests: [(String, JSONValue)] = []
        for line in reqText.split(separator: "\n") {
            if let v = try? JSONParser.parse(String(line)) { requests.append((String(line), v)) }
        }
        var answers: [Int64: JSONValue] = [:]
        for line in ansText.split(separator: "\n") {
            guard case .object(var obj)? = try? JSONParser.parse(String(line)), let id = obj["id"]?.int else { continue }
            obj["id"] = nil
            answers[id] = .object(obj)
        }
        return (requests, answers)
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// One event as a line: `pid 2 receive(tags [1], timeout 5) → 9027`.
    public static func describe(_ e: TraceEvent) -> String {
        var s = "pid \(e.pid) \(e.kind.name)"
        var args = e.args.map { String($0) }
        if e.kind == .receive {
            args = ["tags \(e.tags)", "timeout \(e.args.at(0).map { $0 < 0 ? "forever" : String($0) } ?? "?")"]
        }
        s += "(" + args.joined(separator: ", ") + ")"
        if e.message != 0 { s += " message #\(e.message)" }
        switch e.payload {
        case .bytes(let b): s += " bytes \(b.count)"
        case .digest(let n, _): s += " bytes \(n)"
        case .none: break
        }
        switch e.result {
        case .value(let v): s += " → \(v)"
        case .trap(let r): s += " → trap \(r)"
        case .none: break
        }
        if !e.text.isEmpty && e.result.trapReason == nil { s += " \"\(e.text)\"" }
        return s
    }
}
