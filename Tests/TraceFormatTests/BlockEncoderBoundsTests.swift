import Testing

@testable import TraceFormat

/// The encoder writes only into room it reserved.
@Suite struct BlockEncoderBoundsTests {
    /// A payload ending right at the buffer's end used to leave the result value (up to 10
    /// bytes, written after it) outside the buffer.
    @Test func aResultAfterAPayloadThatFillsTheBufferStaysInside() {
        var overruns: [String] = []
        for capacity in stride(from: 200, through: 260, by: 3) {
            for size in 0...220 {
                var encoder = BlockEncoder(unit: 1, storage: BlockBytes(capacity: capacity))
                let payload = [UInt8](repeating: 9, count: size)
                let record = EventRecord(kind: .writeData, pid: 1, start: 1, end: 2, message: 1, result: Int64.min)
                payload.withUnsafeBytes { encoder.encode(record, payload: $0, capture: .full) }
                let text = TraceEvent(kind: .spawn, pid: 2, text: String(repeating: "a", count: size), result: .value(Int64.min))
                var second = BlockEncoder(unit: 1, storage: BlockBytes(capacity: capacity))
                second.encode(text)
                if encoder.count > encoder.storage.capacity || second.count > second.storage.capacity {
                    overruns.append("capacity \(capacity), size \(size)")
                }
            }
        }
        #expect(overruns.isEmpty, "\(overruns.prefix(5))")
    }
}
