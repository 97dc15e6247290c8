// libFuzzer entry point for the adapter protocol's JSON lines: the parser both sides use
// (luna-conform reading responses, the built-in adapter reading requests) must return a value
// or a JSONParseError for any line. Compiled by fuzz/run.sh into one module with
// ConformanceKit's JSON and response decoding (and the JSON string writer they use).

@_cdecl("LLVMFuzzerTestOneInput")
public func adapterProtocolFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let line = UnsafeBufferPointer(start: data, count: size)
    guard let value = try? JSONParser.parse(line) else { return 0 }
    _ = value["id"]?.int
    _ = value["op"]?.string
    _ = value["tags"]?.array?.compactMap(\.int)
    if let response = AdapterResponse(value) { _ = response.summary }
    // What the parser reads must print back to something it reads the same way.
    let text = value.serialized
    guard let again = try? JSONParser.parse(text) else { fatalError("serialized value does not parse: \(text)") }
    if again.serialized != text { fatalError("serialization is not stable: \(text) vs \(again.serialized)") }
    return 0
}
