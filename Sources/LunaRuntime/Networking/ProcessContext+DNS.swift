import TraceFormat

/// `lunatic::networking` name resolution on a process.
extension ProcessContext {
    /// `resolve`: looks up `"host:port"` within `timeoutMs` (`UInt64.max` = none); success =
    /// a DNS iterator id. Args `[timeout, iter]`, text = the name.
    public func resolve(_ name: String, timeoutMs: UInt64 = .max) throws -> NetworkOutcome {
        let start = now()
        let outcome = try networkOutcome { () throws(NetworkIOError) in
            insert(try DnsIteratorResource.resolve(name, timeoutMs: timeoutMs))
        }
        recordNetworking(.resolve, start: start, args: EventArguments(unsigned: timeoutMs), outcome: outcome, text: name)
        return outcome
    }

    /// `resolve_next`: the iterator's next address, `nil` when exhausted (status 1).
    /// Args `[iter]`, text = the address, result 0 or 1.
    public func resolveNext(_ iterator: UInt64) throws -> SocketAddress? {
        let start = now()
        let args = EventArguments(unsigned: iterator)
        let it = try networkResource(
            DnsIteratorResource.self, .dnsIterator, iterator, call: .resolveNext,
            name: "resolve_next", args: args, start: start)
        let next = it.next()
        recordNetworking(
            .resolveNext, start: start, args: args, text: next?.description ?? "",
            result: .value(next == nil ? 1 : 0))
        return next
    }

    /// `drop_dns_iterator`.
    public func dropDnsIterator(_ iterator: UInt64) throws {
        try dropNetworkResource(.dnsIterator, iterator, call: .dropDnsIterator, name: "drop_dns_iterator")
    }
}
