/// The raw event stream: the decompressed blocks back to back, which is exactly what
/// `zstd -dc FILE` prints for a trace (zstd skips the metadata frames).
public enum RawEventStream {
    /// Decodes a raw event stream. Each block-start record resets the delta state, so the
    /// stream decodes without knowing where the zstd frames were. `timeUnitNanos` comes from
    /// the file header (1 for exact times), and so does `formatMajor` (1: times inside each
    /// record; 2: in each block's time column). Error offsets count from the start of `bytes`.
    public static func decode(
        _ bytes: [UInt8], timeUnitNanos: UInt64 = 1, formatMajor: UInt16 = TraceHeader.currentMajor
    ) throws(TraceFormatError) -> [TraceEvent] {
        let result: Result<[TraceEvent], TraceFormatError> = bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw, base: 0)
            var decoder = BlockDecoder(unit: max(1, timeUnitNanos), timesInColumn: formatMajor >= 2)
            var out: [TraceEvent] = []
            var expected: UInt64 = 0
            do throws(TraceFormatError) {
                while !r.atEnd {
                    let at = r.pos
                    let code = try r.varint()
                    r.pos = at
                    if code == TraceLayout.blockStartCode {
                        let opened = try decoder.begin(&r)
                        guard opened.first == expected else {
                            throw TraceFormatError(
                                .badEvent, offset: UInt64(at),
                                "block starts at event \(opened.first), expected \(expected)")
                        }
                        expected += opened.count
                    } else if let e = try decoder.next(&r) {
                        out.append(e)
                    }
                }
                guard UInt64(out.count) == expected else {
                    throw TraceFormatError(
                        .badEvent, offset: UInt64(r.pos),
                        "blocks declare \(expected) events, the stream holds \(out.count)")
                }
                return .success(out)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
