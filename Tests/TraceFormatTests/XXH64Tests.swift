import Foundation
import Testing

@testable import TraceFormat

@Suite struct XXH64Tests {
    /// Reference digests of the xxHash specification's implementation (seed 0 unless given).
    @Test func knownVectors() {
        #expect(XXH64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)
        #expect(XXH64.hash(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXH64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(XXH64.hash(Array("Nobody inspects the spammish repetition".utf8)) == 0xFBCE_A83C_8A37_8BF1)
        #expect(XXH64.hash([UInt8](), seed: 1) != XXH64.hash([UInt8]()))
    }

    /// zstd's frame checksum is the low 32 bits of XXH64 of the content: checks every length
    /// path (tails of 0…31 bytes, the 32-byte stripes) against libzstd's own XXH64.
    @Test func agreesWithZstdFrameChecksums() throws {
        let compressor = ZstdCompressor(level: 1)
        for length in [0, 1, 3, 4, 7, 8, 15, 31, 32, 33, 63, 64, 100, 1000, 4099] {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            let checksum: UInt32 = try data.withUnsafeBytes { src in
                try compressor.compress(src) { frame in
                    var r = ByteReader(frame, from: frame.count - 4, base: 0)
                    return try r.u32()
                }
            }
            #expect(checksum == UInt32(truncatingIfNeeded: XXH64.hash(data)), "length \(length)")
        }
    }
}
