import TraceFormat
import WasmKit

/// `lunatic::networking`: the whole namespace with lunatic's ABI of November 2022
/// (SEMANTICS.md §1.1). Networking semantics live in `ProcessContext+TCP/UDP/TLS/DNS`; these
/// functions only move values between WebAssembly and the context.
///
/// Every guest range (buffers, address bytes, ciovec arrays and the buffers they name, strings,
/// out-pointers) is checked before the operation runs, so a bad pointer traps without side
/// effects. `addr_type` other than 4 or 6 traps; unknown resource ids trap (in the context).
/// Out-pointers receive a little-endian u64: the new id or byte count on status 0, an error id
/// on status 1, nothing on 9027.
extension GuestProcess {
    /// The import module name.
    static let networkingModule = "lunatic::networking"

    static let networkingFunctions: [HostFunctionDefinition] = {
        func def(
            _ name: String, _ params: [ValueType], _ results: [ValueType],
            _ body: @escaping @Sendable (GuestProcess, HostCall, NetworkingCall) throws -> Void
        ) -> HostFunctionDefinition {
            let kind = EventKind(name: name) ?? networkingEventKind(for: name)
            return HostFunctionDefinition(networkingModule, name, params, results) { p, c in
                try body(p, c, NetworkingCall(process: p, call: c, kind: kind, name: name))
            }
        }
        let i32 = ValueType.i32, i64 = ValueType.i64
        let addr: [ValueType] = [i32, i32, i32, i32, i32]  // addr_type, addr_u8_ptr, port, flow_info, scope_id

        var all: [HostFunctionDefinition] = [
            // MARK: names
            def("resolve", [i32, i32, i64, i32], [i32]) { p, c, n in
                let name = try n.string(c.u32(0), c.u32(1))
                try n.checkOut(c.u32(3))
                try n.finish(p.context.resolve(name, timeoutMs: c.u64(2)), out: c.u32(3))
            },
            def("resolve_next", [i64, i32, i32, i32, i32, i32], [i32]) { p, c, n in
                guard let next = try p.context.resolveNext(c.u64(0)) else { return c.returnI32(1) }
                try n.writeU32(c.u32(1), next.family.rawValue)
                try n.write(c.u32(2), next.bytes)
                try n.write(c.u32(3), [UInt8(truncatingIfNeeded: next.port), UInt8(truncatingIfNeeded: next.port >> 8)])
                if next.family == .v6 {
                    try n.writeU32(c.u32(4), next.flowInfo)
                    try n.writeU32(c.u32(5), next.scopeId)
                }
                c.returnI32(0)
            },
            def("drop_dns_iterator", [i64], []) { p, c, _ in try p.context.dropDnsIterator(c.u64(0)) },

            // MARK: TCP
            def("tcp_bind", addr + [i32], [i32]) { p, c, n in
                let address = try n.socketAddress(c, at: 0)
                try n.checkOut(c.u32(5))
                try n.finish(p.context.tcpBind(address), out: c.u32(5))
            },
            def("tcp_local_addr", [i64, i32], [i32]) { p, c, n in
                try n.checkOut(c.u32(1))
                try n.finish(p.context.tcpLocalAddress(c.u64(0)), out: c.u32(1))
            },
            def("tcp_accept", [i64, i32, i32], [i32]) { p, c, n in
                try n.checkOut(c.u32(1)); try n.checkOut(c.u32(2))
                let (stream, peer) = try p.context.tcpAccept(c.u64(0))
                try n.writeU64(c.u32(2), peer)
                try n.finish(stream, out: c.u32(1))
            },
            def("tcp_connect", addr + [i64, i32], [i32]) { p, c, n in
                let address = try n.socketAddress(c, at: 0)
                try n.checkOut(c.u32(6))
                try n.finish(p.context.tcpConnect(address, timeoutMs: c.u64(5)), out: c.u32(6))
            },
            def("tcp_read", [i64, i32, i32, i32], [i32]) { p, c, n in
                try n.finish(
                    n.withBuffer(c.u32(1), c.u32(2), out: c.u32(3)) { try p.context.tcpRead(c.u64(0), into: $0) }, out: c.u32(3))
            },
            def("tcp_peek", [i64, i32, i32, i32], [i32]) { p, c, n in
                try n.finish(
                    n.withBuffer(c.u32(1), c.u32(2), out: c.u32(3)) { try p.context.tcpPeek(c.u64(0), into: $0) }, out: c.u32(3))
            },
            def("tcp_write_vectored", [i64, i32, i32, i32], [i32]) { p, c, n in
                try n.finish(
                    n.withCiovecs(c.u32(1), c.u32(2), out: c.u32(3)) { try p.context.tcpWriteVectored(c.u64(0), $0) },
                    out: c.u32(3))
            },
            def("tcp_flush", [i64, i32], [i32]) { p, c, n in
                try n.checkOut(c.u32(1))
                try n.finish(p.context.tcpFlush(c.u64(0)), out: c.u32(1))
            },
            def("drop_tcp_stream", [i64], []) { p, c, _ in try p.context.dropTcpStream(c.u64(0)) },
            def("drop_tcp_listener", [i64], []) { p, c, _ in try p.context.dropTcpListener(c.u64(0)) },
            def("clone_tcp_stream", [i64], [i64]) { p, c, _ in c.returnI64(try p.context.cloneTcpStream(c.u64(0))) },

            // MARK: UDP
            def("udp_bind", addr + [i32], [i32]) { p, c, n in
                let address = try n.socketAddress(c, at: 0)
                try n.checkOut(c.u32(5))
                try n.finish(p.context.udpBind(address), out: c.u32(5))
            },
            def("udp_local_addr", [i64, i32], [i32]) { p, c, n in
                try n.checkOut(c.u32(1))
                try n.finish(p.context.udpLocalAddress(c.u64(0)), out: c.u32(1))
            },
            def("udp_connect", [i64] + addr + [i64, i32], [i32]) { p, c, n in
                let address = try n.socketAddress(c, at: 1)
                try n.checkOut(c.u32(7))
                try n.finish(p.context.udpConnect(c.u64(0), to: address, timeoutMs: c.u64(6)), out: c.u32(7))
            },
            def("udp_send_to", [i64, i32, i32] + addr + [i32], [i32]) { p, c, n in
                let address = try n.socketAddress(c, at: 3)
                let outcome = try n.withBuffer(c.u32(1), c.u32(2), out: c.u32(8)) {
                    try p.context.udpSendTo(c.u64(0), UnsafeRawBufferPointer($0), to: address)
                }
                try n.finish(outcome, out: c.u32(8))
            },
            def("udp_send", [i64, i32, i32, i32], [i32]) { p, c, n in
                let outcome = try n.withBuffer(c.u32(1), c.u32(2), out: c.u32(3)) {
                    try p.context.udpSend(c.u64(0), UnsafeRawBufferPointer($0))
                }
                try n.finish(outcome, out: c.u32(3))
            },
            def("udp_receive", [i64, i32, i32, i32], [i32]) { p, c, n in
                try n.finish(
                    n.withBuffer(c.u32(1), c.u32(2), out: c.u32(3)) { try p.context.udpReceive(c.u64(0), into: $0) },
                    out: c.u32(3))
            },
            def("udp_receive_from", [i64, i32, i32, i32, i32], [i32]) { p, c, n in
                try n.checkOut(c.u32(4))
                var sender: UInt64 = 0
                let outcome = try n.withBuffer(c.u32(1), c.u32(2), out: c.u32(3)) {
                    let (outcome, senderIterator) = try p.context.udpReceiveFrom(c.u64(0), into: $0)
                    sender = senderIterator
                    return outcome
                }
                if outcome.code == 0 { try n.writeU64(c.u32(4), sender) }
                try n.finish(outcome, out: c.u32(3))
            },
            def("set_udp_socket_broadcast", [i64, i32], []) { p, c, _ in
                try p.context.setUdpOption(c.u64(0), .broadcast, value: c.u32(1))
            },
            def("get_udp_socket_broadcast", [i64], [i32]) { p, c, _ in
                c.returnI32(try p.context.udpOption(c.u64(0), .broadcast))
            },
            def("set_udp_socket_ttl", [i64, i32], []) { p, c, _ in
                try p.context.setUdpOption(c.u64(0), .ttl, value: c.u32(1))
            },
            def("get_udp_socket_ttl", [i64], [i32]) { p, c, _ in
                c.returnI32(try p.context.udpOption(c.u64(0), .ttl))
            },
            def("drop_udp_socket", [i64], []) { p, c, _ in try p.context.dropUdpSocket(c.u64(0)) },
            def("clone_udp_socket", [i64], [i64]) { p, c, _ in c.returnI64(try p.context.cloneUdpSocket(c.u64(0))) },

            // MARK: TLS
            def("tls_bind", addr + [i32, i32, i32, i32, i32], [i32]) { p, c, n in
                let address = try n.socketAddress(c, at: 0)
                try n.checkOut(c.u32(5))
                let certificate = try n.bytes(c.u32(6), c.u32(7))
                let key = try n.bytes(c.u32(8), c.u32(9))
                try n.finish(p.context.tlsBind(address, certificatePEM: certificate, keyPEM: key), out: c.u32(5))
            },
            def("tls_local_addr", [i64, i32], [i32]) { p, c, n in
                try n.checkOut(c.u32(1))
                try n.finish(p.context.tlsLocalAddress(c.u64(0)), out: c.u32(1))
            },
            def("tls_accept", [i64, i32, i32], [i32]) { p, c, n in
                try n.checkOut(c.u32(1)); try n.checkOut(c.u32(2))
                let (stream, peer) = try p.context.tlsAccept(c.u64(0))
                try n.writeU64(c.u32(2), peer)
                try n.finish(stream, out: c.u32(1))
            },
            def("tls_connect", [i32, i32, i32, i64, i32, i32, i32], [i32]) { p, c, n in
                let host = try n.string(c.u32(0), c.u32(1))
                try n.checkOut(c.u32(4))
                // certs: a ciovec array of PEM blobs; length 0 = the system's roots.
                let roots = try n.ciovecs(c.u32(5), c.u32(6)).map { try n.bytes($0.ptr, $0.len) }
                let outcome = try p.context.tlsConnect(
                    host: host, port: UInt16(truncatingIfNeeded: c.u32(2)),
                    rootCertificatePEMs: roots, timeoutMs: c.u64(3))
                try n.finish(outcome, out: c.u32(4))
            },
            def("tls_read", [i64, i32, i32, i32], [i32]) { p, c, n in
                try n.finish(
                    n.withBuffer(c.u32(1), c.u32(2), out: c.u32(3)) { try p.context.tlsRead(c.u64(0), into: $0) }, out: c.u32(3))
            },
            def("tls_write_vectored", [i64, i32, i32, i32], [i32]) { p, c, n in
                try n.finish(
                    n.withCiovecs(c.u32(1), c.u32(2), out: c.u32(3)) { try p.context.tlsWriteVectored(c.u64(0), $0) },
                    out: c.u32(3))
            },
            def("tls_flush", [i64, i32], [i32]) { p, c, n in
                try n.checkOut(c.u32(1))
                try n.finish(p.context.tlsFlush(c.u64(0)), out: c.u32(1))
            },
            def("drop_tls_stream", [i64], []) { p, c, _ in try p.context.dropTlsStream(c.u64(0)) },
            def("drop_tls_listener", [i64], []) { p, c, _ in try p.context.dropTlsListener(c.u64(0)) },
            def("clone_tls_stream", [i64], [i64]) { p, c, _ in c.returnI64(try p.context.cloneTlsStream(c.u64(0))) },
        ]

        // MARK: timeouts (TCP: set_read_timeout …; TLS: set_tls_read_timeout …)
        for which in StreamTimeouts.Which.allCases {
            let w = which.rawValue
            all.append(
                def("set_\(w)_timeout", [i64, i64], []) { p, c, _ in
                    try p.context.setTcpTimeout(c.u64(0), which, ms: c.u64(1))
                })
            all.append(
                def("get_\(w)_timeout", [i64], [i64]) { p, c, _ in
                    c.returnI64(try p.context.tcpTimeout(c.u64(0), which))
                })
            all.append(
                def("set_tls_\(w)_timeout", [i64, i64], []) { p, c, _ in
                    try p.context.setTlsTimeout(c.u64(0), which, ms: c.u64(1))
                })
            all.append(
                def("get_tls_\(w)_timeout", [i64], [i64]) { p, c, _ in
                    c.returnI64(try p.context.tlsTimeout(c.u64(0), which))
                })
        }
        return all
    }()

    /// The event kind that records host function `name` when it has no kind of its own.
    private static func networkingEventKind(for name: String) -> EventKind {
        if name.hasPrefix("set_tls_") || name.hasPrefix("get_tls_") { return .tlsTimeout }
        if name.hasSuffix("_timeout") { return .tcpTimeout }
        return .udpOption
    }
}

/// Guest-memory plumbing of one `lunatic::networking` call: range checks that trap with the
/// call's name, address decoding and out-pointer writes.
struct NetworkingCall {
    let process: GuestProcess
    let call: HostCall
    let kind: EventKind
    let name: String

    private var reason: String { "lunatic::networking::\(name)" }

    /// The call's parameters as event arguments (for trap events).
    private var args: EventArguments {
        EventArguments(
            call.params.map { value -> Int64 in
                switch value {
                case .i32(let v): return Int64(v)
                case .i64(let v): return Int64(bitPattern: v)
                default: return 0
                }
            })
    }

    private func memory() throws -> Memory { try process.exportedMemory(kind, args) }

    /// Traps unless `[ptr, ptr + count)` is inside guest memory.
    func check(_ ptr: UInt32, _ count: UInt64) throws {
        try process.checkRange(try memory(), ptr: ptr, count: count, kind, args, reason: reason)
    }

    /// Traps unless a u64 out-pointer fits.
    func checkOut(_ ptr: UInt32) throws { try check(ptr, 8) }

    /// Writes `bytes` at `ptr`, or traps.
    func write(_ ptr: UInt32, _ bytes: [UInt8]) throws {
        guard process.writeBytesIfInBounds(try memory(), ptr: ptr, bytes) else { throw process.trap(kind, args, reason) }
    }

    /// Writes a little-endian u64 at `ptr`, or traps.
    func writeU64(_ ptr: UInt32, _ value: UInt64) throws {
        guard process.writeU64IfInBounds(try memory(), ptr: ptr, value) else { throw process.trap(kind, args, reason) }
    }

    /// Writes a little-endian u32 at `ptr`, or traps.
    func writeU32(_ ptr: UInt32, _ value: UInt32) throws {
        guard process.writeU32IfInBounds(try memory(), ptr: ptr, value) else { throw process.trap(kind, args, reason) }
    }

    /// Returns `outcome`'s status and writes its value to `out` (nothing on a timeout).
    func finish(_ outcome: NetworkOutcome, out: UInt32) throws {
        if outcome != .timedOut { try writeU64(out, outcome.value) }
        call.returnI32(outcome.code)
    }

    /// A copy of guest bytes `[ptr, ptr + len)`, or a trap.
    func bytes(_ ptr: UInt32, _ len: UInt32) throws -> [UInt8] {
        try check(ptr, UInt64(len))
        return process.copyCheckedBytes(try memory(), ptr: ptr, count: Int(len))
    }

    /// Guest bytes `[ptr, ptr + len)` as UTF-8 text; invalid UTF-8 traps (as lunatic).
    func string(_ ptr: UInt32, _ len: UInt32) throws -> String {
        guard let text = String(validating: try bytes(ptr, len), as: UTF8.self) else {
            throw process.trap(kind, args, reason)
        }
        return text
    }

    /// The socket address in params `first ..< first + 5` (addr_type, addr_u8_ptr, port,
    /// flow_info, scope_id); an `addr_type` other than 4 or 6 traps.
    func socketAddress(_ c: HostCall, at first: Int) throws -> SocketAddress {
        guard let family = SocketAddress.Family(rawValue: c.u32(first)) else { throw process.trap(kind, args, reason) }
        let raw = try bytes(c.u32(first + 1), family == .v4 ? 4 : 16)
        guard
            let address = SocketAddress(
                family: family, bytes: raw, port: UInt16(truncatingIfNeeded: c.u32(first + 2)),
                flowInfo: c.u32(first + 3), scopeId: c.u32(first + 4))
        else { throw process.trap(kind, args, reason) }
        return address
    }

    /// Runs `body` on the writable guest buffer `[ptr, ptr + len)` after checking it and the
    /// u64 out-pointer `out`.
    func withBuffer(
        _ ptr: UInt32, _ len: UInt32, out: UInt32,
        _ body: (UnsafeMutableRawBufferPointer) throws -> NetworkOutcome
    ) throws -> NetworkOutcome {
        try check(ptr, UInt64(len))
        try checkOut(out)
        return try process.withCheckedMutableBytes(try memory(), ptr: ptr, count: Int(len), body)
    }

    /// The `(ptr u32, len u32)` pairs of a ciovec array of `count` entries, each checked.
    func ciovecs(_ ptr: UInt32, _ count: UInt32) throws -> [(ptr: UInt32, len: UInt32)] {
        guard count > 0 else { return [] }
        let total = UInt64(count) * 8
        try check(ptr, total)
        let table = process.copyCheckedBytes(try memory(), ptr: ptr, count: Int(total))
        var entries: [(ptr: UInt32, len: UInt32)] = []
        entries.reserveCapacity(Int(count))
        table.withUnsafeBytes { t in
            for i in 0..<Int(count) {
                entries.append(
                    (
                        UInt32(littleEndian: t.loadUnaligned(fromByteOffset: i * 8, as: UInt32.self)),
                        UInt32(littleEndian: t.loadUnaligned(fromByteOffset: i * 8 + 4, as: UInt32.self))
                    ))
            }
        }
        for entry in entries { try check(entry.ptr, UInt64(entry.len)) }
        return entries
    }

    /// Runs `body` on the buffers a checked ciovec array names (pointing into guest memory),
    /// after checking the u64 out-pointer `out`.
    func withCiovecs(
        _ ptr: UInt32, _ count: UInt32, out: UInt32,
        _ body: ([UnsafeRawBufferPointer]) throws -> NetworkOutcome
    ) throws -> NetworkOutcome {
        let entries = try ciovecs(ptr, count)
        try checkOut(out)
        let memory = try memory()
        let size = memory.byteCount
        return try process.withCheckedBytes(memory, ptr: 0, count: size) { whole in
            let buffers = entries.map { entry in
                UnsafeRawBufferPointer(rebasing: whole[Int(entry.ptr)..<Int(entry.ptr) + Int(entry.len)])
            }
            return try body(buffers)
        }
    }
}
