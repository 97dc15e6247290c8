import TraceFormat

extension ProcessContext {
    /// The push/take event kinds and lunatic names of a movable resource kind.
    private static func calls(_ kind: ResourceKind) -> (push: EventKind, take: EventKind, name: String)? {
        switch kind {
        case .module: return (.pushModule, .takeModule, "module")
        case .tcpStream: return (.pushTcpStream, .takeTcpStream, "tcp_stream")
        case .tlsStream: return (.pushTlsStream, .takeTlsStream, "tls_stream")
        case .udpSocket: return (.pushUdpSocket, .takeUdpSocket, "udp_socket")
        default: return nil
        }
    }

    /// `push_module/tcp_stream/tls_stream/udp_socket(id)`: appends the resource to the scratch
    /// message's slots and returns the slot index (R-RES-2). TCP, TLS and UDP resources move
    /// out of the table, and do so before the scratch area is checked, so a push with an
    /// empty scratch area loses the resource (R-RES-3, R-RES-4); modules stay.
    public func push(_ kind: ResourceKind, id rid: UInt64) throws -> UInt64 {
        try checkAlive()
        guard let call = Self.calls(kind) else {
            throw LunaTrap(reason: "lunatic::message::push: \(kind) cannot be sent in a message")
        }
        let a: EventArguments = .of(Int64(bitPattern: rid))
        let reason = "lunatic::message::push_\(call.name)"
        let resource: any Resource
        if kind == .module {
            guard let r = resources.get(kind, rid) else { throw trap(call.push, a, reason) }
            resource = r
        } else {
            guard let r = resources.remove(kind, rid) else { throw trap(call.push, a, reason) }
            resource = r
        }
        guard let m = scratch else { throw trap(call.push, a, reason) }
        if m.isLinkDied { throw trap(call.push, a, LunaTrap.linkDiedInScratch, message: m.id) }
        m.slots.append(resource)
        let index = UInt64(m.slots.count - 1)
        if let trace {
            trace.record(
                TraceEvent(
                    kind: call.push, pid: id, start: now(), args: a, message: m.id,
                    result: .value(Int64(index))))
        }
        return index
    }

    /// `take_module/tcp_stream/tls_stream/udp_socket(index)`: moves the resource in slot
    /// `index` into this process's table and returns its new id (R-RES-5). Traps on a bad
    /// index, an empty slot or a resource of another kind, which then stays in its slot (R-RES-6).
    public func take(_ kind: ResourceKind, index: UInt64) throws -> UInt64 {
        try checkAlive()
        guard let call = Self.calls(kind) else {
            throw LunaTrap(reason: "lunatic::message::take: \(kind) cannot be sent in a message")
        }
        let a: EventArguments = .of(Int64(bitPattern: index))
        let reason = "lunatic::message::take_\(call.name)"
        guard let m = scratch else { throw trap(call.take, a, reason) }
        if m.isLinkDied { throw trap(call.take, a, LunaTrap.linkDiedInScratch, message: m.id) }
        guard index < UInt64(m.slots.count), let r = m.slots[Int(index)], r.resourceKind == kind else {
            throw trap(call.take, a, reason, message: m.id)
        }
        m.slots[Int(index)] = nil
        let newID = resources.insert(r)
        if let trace {
            trace.record(
                TraceEvent(
                    kind: call.take, pid: id, start: now(), args: a, message: m.id,
                    result: .value(Int64(bitPattern: newID))))
        }
        return newID
    }
}
