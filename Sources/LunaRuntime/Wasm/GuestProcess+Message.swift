import TraceFormat
import WasmKit

/// `lunatic::message`: the whole namespace, with the exact ABI of SEMANTICS.md §1.
///
/// Message semantics live in `ProcessContext`; these functions only move values between
/// WebAssembly and the context, checking every guest pointer range first.
extension GuestProcess {
    /// The import module name.
    static let messageModule = "lunatic::message"

    static let messageFunctions: [HostFunctionDefinition] = {
        let m = messageModule
        return [
            HostFunctionDefinition(m, "create_data", [.i64, .i64], []) { p, c in
                p.context.createData(tag: c.i64(0), capacity: c.u64(1))
            },
            HostFunctionDefinition(m, "write_data", [.i32, .i32], [.i32]) { p, c in
                try p.writeData(c)
            },
            HostFunctionDefinition(m, "read_data", [.i32, .i32], [.i32]) { p, c in
                try p.readData(c)
            },
            HostFunctionDefinition(m, "seek_data", [.i64], []) { p, c in
                try p.context.seekData(c.u64(0))
            },
            HostFunctionDefinition(m, "get_tag", [], [.i64]) { p, c in
                c.returnI64(signed: try p.context.getTag())
            },
            HostFunctionDefinition(m, "data_size", [], [.i64]) { p, c in
                c.returnI64(try p.context.dataSize())
            },
            pushDefinition("push_module", .module),
            takeDefinition("take_module", .module),
            pushDefinition("push_tcp_stream", .tcpStream),
            takeDefinition("take_tcp_stream", .tcpStream),
            pushDefinition("push_tls_stream", .tlsStream),
            takeDefinition("take_tls_stream", .tlsStream),
            pushDefinition("push_udp_socket", .udpSocket),
            takeDefinition("take_udp_socket", .udpSocket),
            HostFunctionDefinition(m, "send", [.i64], [.i32]) { p, c in
                c.returnI32(signed: try p.context.send(to: c.u64(0)))
            },
            HostFunctionDefinition(m, "send_receive_skip_search", [.i64, .i64], [.i32]) { p, c in
                c.returnI32(signed: try p.context.sendReceiveSkipSearchBlocking(to: c.u64(0), timeoutMs: c.u64(1)))
            },
            HostFunctionDefinition(m, "receive", [.i32, .i32, .i64], [.i32]) { p, c in
                try p.receive(c)
            },
        ]
    }()

    private static func pushDefinition(_ name: String, _ kind: ResourceKind) -> HostFunctionDefinition {
        HostFunctionDefinition(messageModule, name, [.i64], [.i64]) { p, c in
            c.returnI64(try p.context.push(kind, id: c.u64(0)))
        }
    }

    private static func takeDefinition(_ name: String, _ kind: ResourceKind) -> HostFunctionDefinition {
        HostFunctionDefinition(messageModule, name, [.i64], [.i64]) { p, c in
            c.returnI64(try p.context.take(kind, index: c.u64(0)))
        }
    }

    /// `write_data(ptr, len) -> i32`. lunatic takes the scratch message before checking the
    /// range; both failures trap as `lunatic::message::write_data`, so checking the range first
    /// gives the same reason in every case (also with a LinkDied message in the scratch area,
    /// where lunatic's range check comes before its LinkDied check).
    private func writeData(_ c: HostCall) throws {
        let ptr = c.u32(0), len = c.u32(1)
        let memory = try exportedMemory(.writeData, [Int64(len)])
        try checkRange(
            memory, ptr: ptr, count: UInt64(len), .writeData, [Int64(len)],
            reason: "lunatic::message::write_data")
        let written = try withCheckedBytes(memory, ptr: ptr, count: Int(len)) { try context.writeData($0) }
        c.returnI32(written)
    }

    /// `read_data(ptr, len) -> i32`, reading straight into guest memory.
    private func readData(_ c: HostCall) throws {
        let ptr = c.u32(0), len = c.u32(1)
        let memory = try exportedMemory(.readData, [Int64(len)])
        try checkRange(
            memory, ptr: ptr, count: UInt64(len), .readData, [Int64(len)],
            reason: "lunatic::message::read_data")
        let read = try withCheckedMutableBytes(memory, ptr: ptr, count: Int(len)) {
            try context.readData(into: $0)
        }
        c.returnI32(read)
    }

    /// `receive(tag_ptr, tag_len, timeout) -> i32`: `tag_len` little-endian i64 tags.
    ///
    /// The range `tag_ptr + tag_len * 8` is checked in 64-bit arithmetic. (lunatic computes it
    /// in u32, where a huge `tag_len` wraps; Luna traps instead, R-RECV-9.)
    private func receive(_ c: HostCall) throws {
        let ptr = c.u32(0), count = c.u32(1), timeout = c.u64(2)
        var tags: [Int64] = []
        if count > 0 {
            let memory = try exportedMemory(.receive, [Int64(bitPattern: timeout)])
            let bytes = UInt64(count) * 8
            try checkRange(
                memory, ptr: ptr, count: bytes, .receive, [Int64(bitPattern: timeout)],
                reason: "lunatic::message::receive")
            tags.reserveCapacity(Int(count))
            withCheckedBytes(memory, ptr: ptr, count: Int(bytes)) { raw in
                for i in 0..<Int(count) {
                    tags.append(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                }
            }
        }
        c.returnI32(signed: try context.receiveBlocking(tags: tags, timeoutMs: timeout))
    }
}
