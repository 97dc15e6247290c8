import Testing

@testable import TraceFormat

/// The encoder writes only into room it reserved, and its reservation bounds
/// (`maxRecordBytes`, `maxEventBytes`) hold, so a fixed-size buffer (a flight recorder's chunk)
/// is never outgrown.
@Suite struct BlockEncoderBoundsTests {
    /// A payload or text ending right at the buffer's end must still leave room for the result
    /// value (up to 10 bytes) written after it.
    @Test func aResultAfterAPayloadThatFillsTheBufferStaysInside() {
        var overruns: [String] = []
        for columns in [false, true] {
            for capacity in stride(from: 200, through: 260, by: 3) {
                for size in 0...220 {
                    var encoder = BlockEncoder(unit: 1, storage: BlockBytes(capacity: capacity), timesInColumn: columns)
                    let payload = [UInt8](repeating: 9, count: size)
                    let record = EventRecord(kind: .writeData, pid: 1, start: 1, end: 2, message: 1, result: Int64.min)
                    payload.withUnsafeBytes { encoder.encode(record, payload: $0, capture: .full) }
                    let text = TraceEvent(
                        kind: .spawn, pid: 2, text: String(repeating: "a", count: size), result: .value(Int64.min))
                    var second = BlockEncoder(unit: 1, storage: BlockBytes(capacity: capacity), timesInColumn: columns)
                    second.encode(text)
                    if encoder.count > encoder.storage.capacity || second.count > second.storage.capacity {
                        overruns.append("columns \(columns), capacity \(capacity), size \(size)")
                    }
                }
            }
        }
        #expect(overruns.isEmpty, "\(overruns.prefix(5))")
    }

    @Test func eventsFitTheRoomTheirBoundSays() {
        var growths = 0
        for i in 0..<3_000 {
            var e = FlightRecorderTests.event(i)
            if i % 4 == 1 { e.tags = (0..<Int64(i % 300)).map { -$0 } }
            if i % 5 == 2 { e.text = String(repeating: "ü", count: i % 500) }
            if i % 6 == 3 { e.payload = .bytes([UInt8](repeating: 3, count: i)) }
            if i % 11 == 4 { e.result = .trap(String(repeating: "r", count: i % 700)) }
            for capture in [PayloadCapture.full, .digestAbove(100)] {
                for columns in [false, true] {
                    let need = BlockEncoder.maxEventBytes(e, capture: capture)
                    var encoder = BlockEncoder(
                        unit: 100, storage: BlockBytes(capacity: BlockEncoder.headerRoom + need), timesInColumn: columns)
                    encoder.encode(e, capture: capture)
                    if encoder.storage.capacity != BlockEncoder.headerRoom + need { growths += 1 }
                    if let plain = EventRecord(plain: e), case .bytes(let b) = e.payload {
                        let need = BlockEncoder.maxRecordBytes(payloadBytes: b.count, capture: capture)
                        var encoder = BlockEncoder(
                            unit: 100, storage: BlockBytes(capacity: BlockEncoder.headerRoom + need), timesInColumn: columns)
                        b.withUnsafeBytes { encoder.encode(plain, payload: $0, capture: capture) }
                        if encoder.storage.capacity != BlockEncoder.headerRoom + need { growths += 1 }
                    }
                }
            }
        }
        #expect(growths == 0)
    }
}
