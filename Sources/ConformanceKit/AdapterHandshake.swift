import TraceFormat

/// What an adapter said about itself in the `hello` answer.
public struct AdapterHandshake: Sendable, Equatable {
    /// The adapter's name.
    public var name: String
    /// Its own version text.
    public var version: String
    /// The protocol version it speaks.
    public var protocolVersion: Int64
    /// Resource kinds it supports (`module`, `tcp_stream`, …).
    public var resourceKinds: Set<String>
    /// Namespaces it implements (`lunatic::message`, `lifecycle`).
    public var namespaces: Set<String>

    /// Decodes the `result` of `hello`; nil when a required field is missing.
    init?(_ value: JSONValue) {
        guard let name = value["name"]?.string, let proto = value["protocol"]?.int else { return nil }
        self.name = name
        self.version = value["version"]?.string ?? ""
        self.protocolVersion = proto
        self.resourceKinds = Set((value["resource_kinds"]?.array ?? []).compactMap { $0.string })
        self.namespaces = Set((value["namespaces"]?.array ?? []).compactMap { $0.string })
    }
}
