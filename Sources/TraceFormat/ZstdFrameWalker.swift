/// Finds the extent of a zstd frame by walking its header and block headers (RFC 8878 §3.1.1),
/// without decompressing, so a frame can be read whole from a stream and checked before use.
enum ZstdFrameWalker {
    struct Extent {
        /// Total frame size in bytes.
        var size: Int
        /// The Frame_Content_Size field, when present.
        var contentSize: UInt64?
        /// An upper bound of the decompressed size from the block headers.
        var contentBound: Int
    }

    private static let maxBlock = 128 << 10

    /// The extent of the frame at the input's current offset (`at`), or nil if the input ends
    /// inside it. Throws for malformed headers and for frames over the block limit.
    static func measure(_ input: TraceInput, at: UInt64) throws(TraceFormatError) -> Extent? {
        guard try input.ensure(5) == 5 else { return nil }
        let fhd = input.byte(4)
        let fcsFlag = Int(fhd >> 6)
        let single = (fhd >> 5) & 1 == 1
        guard (fhd >> 3) & 1 == 0 else {
            throw TraceFormatError(.corruptFrame, offset: at + 4, "zstd frame at byte \(at): reserved header bit set")
        }
        let hasChecksum = (fhd >> 2) & 1 == 1
        let dictBytes = [0, 1, 2, 4][Int(fhd & 3)]
        let fcsBytes = fcsFlag == 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]
        let headerBytes = 5 + (single ? 0 : 1) + dictBytes + fcsBytes
        guard try input.ensure(headerBytes) == headerBytes else { return nil }
        if dictBytes > 0 {
            throw TraceFormatError(.corruptFrame, offset: at + 4, "zstd frame at byte \(at) needs a dictionary")
        }
        var contentSize: UInt64?
        if fcsBytes > 0 {
            var v: UInt64 = 0
            let base = headerBytes - fcsBytes
            for i in 0..<fcsBytes { v |= UInt64(input.byte(base + i)) << UInt64(8 * i) }
            if fcsBytes == 2 { v += 256 }
            contentSize = v
            guard v <= UInt64(TraceLayout.maxBlockBytes) else {
                throw TraceFormatError(
                    .decompressionBomb, offset: at,
                    "block at byte \(at) declares \(v) decompressed bytes (limit \(TraceLayout.maxBlockBytes))")
            }
        }
        var pos = headerBytes
        var bound = 0
        while true {
            guard try input.ensure(pos + 3) == pos + 3 else { return nil }
            let v = Int(input.byte(pos)) | Int(input.byte(pos + 1)) << 8 | Int(input.byte(pos + 2)) << 16
            let last = v & 1 == 1
            let type = (v >> 1) & 3
            let size = v >> 3
            guard type != 3 else {
                throw TraceFormatError(.corruptFrame, offset: at + UInt64(pos), "zstd frame at byte \(at): reserved block type")
            }
            guard size <= maxBlock else {
                throw TraceFormatError(
                    .corruptFrame, offset: at + UInt64(pos), "zstd frame at byte \(at): block of \(size) bytes")
            }
            bound += type == 2 ? maxBlock : size
            pos += 3 + (type == 1 ? 1 : size)
            if bound > TraceLayout.maxBlockBytes + maxBlock && contentSize == nil {
                throw TraceFormatError(
                    .decompressionBomb, offset: at,
                    "block at byte \(at) decompresses to more than \(TraceLayout.maxBlockBytes) bytes")
            }
            // zstd never stores a block larger than its content, so a frame within the
            // content limit is at most that plus its headers.
            if pos > TraceLayout.maxBlockBytes + 4096 {
                throw TraceFormatError(.corruptFrame, offset: at, "zstd frame at byte \(at) is larger than any block can be")
            }
            if last { break }
        }
        if hasChecksum { pos += 4 }
        guard try input.ensure(pos) == pos else { return nil }
        return Extent(size: pos, contentSize: contentSize, contentBound: bound)
    }
}
