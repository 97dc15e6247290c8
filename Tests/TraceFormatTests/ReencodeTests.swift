import Foundation
import Testing

@testable import TraceFormat

/// Every committed trace (the conformance corpus and the golden inputs, written by earlier
/// format versions) read, written again by today's writer — payload references included — and
/// read back gives the same events: a new encoding never changes what a trace says.
@Suite struct ReencodeTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let files: [String] = ["traces/corpus", "Tests/Golden/inputs"].flatMap { dir -> [String] in
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + dir)) ?? []
        return names.filter { $0.hasSuffix(".trace") }.sorted().map { root + "/" + dir + "/" + $0 }
    }

    @Test func committedTracesReadTheSameWrittenAgain() throws {
        #expect(Self.files.count >= 60, "the corpus and golden inputs are where they were")
        var rawBefore: UInt64 = 0, rawAfter: UInt64 = 0
        for path in Self.files {
            let reader = try TraceReader(path: path)
            let (events, stop) = TraceSamples.readAll(reader)
            guard case .complete(let summary) = stop else {
                Issue.record("\(path): expected a complete trace, got \(stop)")
                continue
            }
            var header = reader.header
            header.formatMajor = TraceHeader.currentMajor
            header.formatMinor = TraceHeader.currentMinor
            let copy = TraceSamples.temporaryPath()
            defer { try? FileManager.default.removeItem(atPath: copy) }
            let writer = try TraceWriter(path: copy, header: header)
            for e in events { writer.record(e) }
            let written = try writer.close()
            let again = TraceSamples.readAll(try TraceReader(path: copy)).0
            #expect(again.count == events.count, "\(path)")
            if let i = again.indices.first(where: { $0 < events.count && again[$0] != events[$0] }) {
                Issue.record("\(path): event \(i) reads \(again[i]) after writing \(events[i])")
            }
            rawBefore += summary.rawBytes
            rawAfter += written.rawBytes
        }
        // Guests read what was written: real traces repeat payloads, and the references show.
        #expect(rawAfter < rawBefore, "raw bytes \(rawBefore) before, \(rawAfter) written again")
    }
}
