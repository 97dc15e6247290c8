import Foundation
import Testing

@testable import TraceFormat

/// A trace is a valid zstd file: the real `zstd` tool checks it and decompresses the events.
@Suite struct ZstdCompatibilityTests {
    @Test func zstdTestAcceptsTheFileAndDecompressesTheRawStream() throws {
        let events = TraceSamples.pingPong(rounds: 30) + TraceSamples.everyKind
        let file = try TraceSamples.write(events, options: .init(eventsPerBlock: 50))
        defer { try? FileManager.default.removeItem(atPath: file.path) }

        let check = try ZstdCLI.run(["-t", file.path])
        #expect(check.status == 0, "zstd -t: \(check.stderr)")

        let raw = try ZstdCLI.run(["-dc", file.path])
        #expect(raw.status == 0, "zstd -dc: \(raw.stderr)")
        #expect(try RawEventStream.decode(raw.stdout) == events)

        // The stream opens with the documented block-start record: code 0, body length 3 or
        // 4, event count 50 (0x32), first event index 0, then the bytes of the event records,
        // after which the block's time column record (code 65 536) begins.
        let out = raw.stdout
        #expect(Array(out.prefix(4)) == [0x00, out[1], 0x32, 0x00] && (3...4).contains(out[1]))
        let eventBytes = out[1] == 3 ? Int(out[4]) : Int(out[4] & 0x7F) | Int(out[5]) << 7
        let column = 2 + Int(out[1]) + eventBytes
        #expect(Array(out[column..<(column + 3)]) == [0x80, 0x80, 0x04])
        // Its size is the sum of the blocks' decompressed sizes, as the summary says.
        let reader = try TraceReader(path: file.path)
        #expect(reader.summary?.rawBytes == UInt64(raw.stdout.count))
    }

    @Test func cutFileFailsZstdTestButReadsItsCompleteBlocks() throws {
        let events = TraceSamples.pingPong(rounds: 30)
        let file = try TraceSamples.write(events, options: .init(eventsPerBlock: 100))
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let reader = try TraceReader(bytes: file.bytes)
        let second = try #require(reader.blockIndex?[1])
        let cut = Array(file.bytes[0..<Int(second.frameOffset + 10)])
        let (read, stop) = TraceSamples.readAll(try TraceReader(bytes: cut))
        #expect(read == Array(events.prefix(100)))
        #expect(stop.error?.kind == .truncated)
        #expect(stop.error?.offset == second.frameOffset)
    }
}
