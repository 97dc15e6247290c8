// libFuzzer entry point for the trace reader: any bytes must give events, a clean stop or a
// TraceFormatError (never a crash, a hang or unbounded memory). Compiled by fuzz/run.sh into
// one module with Sources/TraceFormat.

@_cdecl("LLVMFuzzerTestOneInput")
public func traceReaderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let reader = try? TraceReader(bytes: bytes) {
        var count = 0
        do {
            var event = TraceEvent(kind: EventKind(rawValue: 0), pid: 0)
            while try reader.next(into: &event) {
                count += 1
                _ = EventJSON.line(event, index: UInt64(count))
            }
        } catch {}
        _ = reader.stop
        // Seeking, when the trace has an index.
        if let index = reader.blockIndex, !index.isEmpty {
            _ = try? reader.seek(toBlock: index.count - 1)
            _ = try? reader.next()
            _ = try? reader.seek(toEvent: 0)
            _ = try? reader.next()
        }
    }
    // The same bytes as a raw event stream (zstd -dc output) of either major version, and as a
    // JSON line.
    _ = try? RawEventStream.decode(bytes, timeUnitNanos: 100, formatMajor: 2)
    _ = try? RawEventStream.decode(bytes, timeUnitNanos: 1, formatMajor: 1)
    if size < 4096 { _ = try? EventJSON.parse(String(decoding: bytes, as: UTF8.self)) }
    return 0
}
