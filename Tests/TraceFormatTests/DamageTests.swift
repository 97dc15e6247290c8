import Foundation
import LunaSupport
import Testing

@testable import TraceFormat

/// Bad input: every kind gives a specific error with its offset, never a crash or a hang.
@Suite struct DamageTests {
    /// A realistic multi-block file: 200 ping-pong events in blocks of 32.
    static let sample: (events: [TraceEvent], bytes: [UInt8]) = {
        let events = TraceSamples.pingPong(rounds: 20)
        // swift-format-ignore: NeverUseForceTry
        let file = try! TraceSamples.write(events, options: .init(eventsPerBlock: 32))
        try? FileManager.default.removeItem(atPath: file.path)
        return (events, file.bytes)
    }()

    @Test func truncationAtEveryByteYieldsAPrefixAndTheOffset() throws {
        let (events, bytes) = Self.sample
        let full = try TraceReader(bytes: bytes)
        let index = try #require(full.blockIndex)
        #expect(index.count == 7)
        let headerEnd = Int(index[0].frameOffset)
        let blockEnds = index.map { Int($0.frameOffset) + Int($0.frameBytes) }
        let indexEnd = bytes.count - (8 + TraceLayout.summaryContentBytes)

        for cut in 0..<bytes.count {
            let prefix = Array(bytes[0..<cut])
            if cut < headerEnd {
                do {
                    _ = try TraceReader(bytes: prefix)
                    Issue.record("cut at \(cut): header accepted")
                } catch let e as TraceFormatError {
                    #expect(e.kind == (cut == 0 ? .emptyFile : .truncated), "cut at \(cut): \(e)")
                    #expect(e.offset == 0)
                }
                continue
            }
            let reader = try TraceReader(bytes: prefix)
            let (read, stop) = TraceSamples.readAll(reader)
            let completeBlocks = blockEnds.filter { $0 <= cut }.count
            let expectedCount = index.prefix(completeBlocks).reduce(0) { $0 + Int($1.eventCount) }
            #expect(read == Array(events.prefix(expectedCount)), "cut at \(cut)")
            let lastGood = ([headerEnd] + blockEnds + [indexEnd]).filter { $0 <= cut }.max()!
            guard case .incomplete(let offset, let reason) = stop else {
                Issue.record("cut at \(cut): expected incomplete, got \(stop)")
                continue
            }
            #expect(offset == UInt64(lastGood), "cut at \(cut)")
            #expect(reason.offset == UInt64(lastGood))
            #expect(reason.kind == (cut == lastGood ? .missingSummary : .truncated), "cut at \(cut): \(reason)")
            #expect(reason.description.contains("\(lastGood)"))
        }
    }

    @Test func flushedButNotClosedIsIncomplete() throws {
        let events = TraceSamples.pingPong(rounds: 10)
        let file = try TraceSamples.write(events, options: .init(eventsPerBlock: 16), close: false)
        defer { try? FileManager.default.removeItem(atPath: file.path) }
        let (read, stop) = TraceSamples.readAll(try TraceReader(bytes: file.bytes))
        #expect(read == events)
        #expect(
            stop
                == .incomplete(
                    lastGoodOffset: UInt64(file.bytes.count),
                    reason: stop.error ?? TraceFormatError(.io, offset: 0, "")))
        #expect(stop.error?.kind == .missingSummary)
    }

    @Test func thousandsOfRandomByteFlipsNeverCrashOrHang() {
        let (events, bytes) = Self.sample
        var rng = SplitMix(seed: 0x1234_5678)
        let began = MonotonicClock.now()
        var outcomes: [String: Int] = [:]
        for round in 0..<4000 {
            var damaged = bytes
            let flips = 1 + Int(rng.next() % 3)
            for _ in 0..<flips {
                let at = Int(rng.next() % UInt64(damaged.count))
                damaged[at] ^= UInt8(1 + rng.next() % 255)
            }
            if round % 10 == 0 { damaged.removeLast(Int(rng.next() % 200)) }
            do {
                let reader = try TraceReader(bytes: damaged)
                var count = 0
                for e in reader.events() {
                    count += 1
                    if count > events.count * 2 { break }
                    _ = EventJSON.line(e)
                }
                #expect(count <= events.count + 1)
                switch reader.stop {
                case .reading: outcomes["reading", default: 0] += 1
                case .complete: outcomes["complete", default: 0] += 1
                case .incomplete(_, let e), .damaged(let e): outcomes[e.kind.rawValue, default: 0] += 1
                }
            } catch let e as TraceFormatError {
                outcomes["init " + e.kind.rawValue, default: 0] += 1
            } catch {
                Issue.record("unexpected error type \(error)")
            }
        }
        #expect(Double(MonotonicClock.now() - began) / 1e9 < 120)
        // Flips land in compressed blocks and metadata alike; both are detected.
        #expect((outcomes["corruptFrame"] ?? 0) > 100)
        #expect((outcomes["complete"] ?? 0) < 4000 / 10)
    }

    @Test func emptyFile() {
        #expect(throws: TraceFormatError(.emptyFile, offset: 0, "the input is empty")) { try TraceReader(bytes: []) }
    }

    @Test func nonTraceFiles() throws {
        for input in [
            Array("hello, this is not a trace\n".utf8), [0x28, 0xB5, 0x2F, 0xFD, 0, 0, 0, 0], [0x50, 0x2A, 0x4D, 0x19],
        ] {
            do {
                _ = try TraceReader(bytes: input)
                Issue.record("accepted \(input)")
            } catch let e as TraceFormatError {
                #expect(e.kind == .notATrace)
                #expect(e.offset == 0)
            }
        }
        // Another tool's skippable frame with our magic but not our signature.
        var other = ByteWriter()
        other.u32(TraceLayout.headerMagic); other.u32(4); other.raw(Array("ABCD".utf8))
        #expect(throws: TraceFormatError.self) { try TraceReader(bytes: other.bytes) }
    }

    @Test func newerMajorVersionRejectedNewerMinorAccepted() throws {
        let newer = try TraceSamples.write([], header: TraceHeader(formatMajor: TraceHeader.currentMajor + 1, formatMinor: 0))
        defer { try? FileManager.default.removeItem(atPath: newer.path) }
        do {
            _ = try TraceReader(bytes: newer.bytes)
            Issue.record("major \(TraceHeader.currentMajor + 1) accepted")
        } catch let e as TraceFormatError {
            #expect(e.kind == .unsupportedVersion)
            #expect(e.offset == 12)
            #expect(e.detail.contains("\(TraceHeader.currentMajor + 1).0"))
        }
        let minor = try TraceSamples.write(
            TraceSamples.pingPong(rounds: 2), header: TraceHeader(timeUnitNanos: 1, formatMinor: 9))
        defer { try? FileManager.default.removeItem(atPath: minor.path) }
        let reader = try TraceReader(bytes: minor.bytes)
        #expect(reader.header.formatMinor == 9)
        #expect(TraceSamples.readAll(reader).0.count == 20)
    }

    @Test func decompressionBombIsRefused() throws {
        let zeros = TraceSamples.temporaryPath("bin")
        defer { try? FileManager.default.removeItem(atPath: zeros) }
        try Data(count: TraceLayout.maxBlockBytes + 1).write(to: URL(fileURLWithPath: zeros))
        for flags in [["-c"], ["--no-content-size", "-c"]] {
            let frame = try ZstdCLI.run(flags + [zeros])
            var file = MetadataFrames.header(TraceHeader())
            file += frame.stdout
            do {
                let reader = try TraceReader(bytes: file)
                _ = try reader.next()
                Issue.record("bomb accepted with \(flags)")
            } catch let e as TraceFormatError {
                #expect(e.kind == .decompressionBomb, "\(flags): \(e)")
                #expect(e.offset == UInt64(MetadataFrames.header(TraceHeader()).count))
            }
        }
    }

    @Test func summaryThatDisagreesIsDamage() throws {
        var file = MetadataFrames.header(TraceHeader())
        file += MetadataFrames.summary(TraceSummary(eventCount: 5, blockCount: 1), indexOffset: nil)
        let reader = try TraceReader(bytes: file)
        #expect(throws: TraceFormatError.self) { try reader.next() }
        #expect(reader.stop.error?.kind == .corruptFrame)
    }
}
