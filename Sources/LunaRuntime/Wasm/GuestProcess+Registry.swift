import TraceFormat
import WasmKit

/// `lunatic::registry`: named processes, one registry per environment (`ProcessRegistry`).
///
/// ABI (lunatic of November 2022):
/// - `put(name_ptr, name_len, node_id: i64, process_id: i64)`
/// - `get(name_ptr, name_len, node_id_ptr, process_id_ptr) -> i32`: 0 found (both ids written
///   as little-endian u64), 1 not found (nothing written)
/// - `remove(name_ptr, name_len)`
///
/// A name outside guest memory or not UTF-8 traps with `lunatic::registry::put` (put) or
/// `lunatic::registry::get` (get and remove, as lunatic reports both). Each call is recorded as
/// a `registry_call` event with text `<function> <name>`, args the ids, result as returned.
extension GuestProcess {
    /// The import module name.
    static let registryModule = "lunatic::registry"

    static let registryFunctions: [HostFunctionDefinition] = {
        let r = registryModule
        return [
            HostFunctionDefinition(r, "put", [.i32, .i32, .i64, .i64], []) { p, c in
                let start = p.tracing ? p.context.now() : 0
                let node = c.u64(2), pid = c.u64(3)
                let args: EventArguments = [Int64(bitPattern: node), Int64(bitPattern: pid)]
                try p.context.checkAlive()
                let name = try p.guestString(ptr: c.u32(0), len: c.u32(1), .registryCall, args,
                                             reason: "lunatic::registry::put")
                p.context.environment.registry.put(name, node: node, process: pid)
                p.recordCall(.registryCall, start: start, args: args, text: "put \(name)")
            },
            HostFunctionDefinition(r, "get", [.i32, .i32, .i32, .i32], [.i32]) { p, c in
                let start = p.tracing ? p.context.now() : 0
                let reason = "lunatic::registry::get"
                try p.context.checkAlive()
                let name = try p.guestString(ptr: c.u32(0), len: c.u32(1), .registryCall, [], reason: reason)
                guard let entry = p.context.environment.registry.get(name) else {
                    p.recordCall(.registryCall, start: start, text: "get \(name)", result: .value(1))
                    return c.returnI32(1)
                }
                let args: EventArguments = [Int64(bitPattern: entry.node), Int64(bitPattern: entry.process)]
                let memory = try p.exportedMemory(.registryCall, args)
                guard p.writeU64IfInBounds(memory, ptr: c.u32(2), entry.node),
                      p.writeU64IfInBounds(memory, ptr: c.u32(3), entry.process) else {
                    throw p.trap(.registryCall, args, reason)
                }
                p.recordCall(.registryCall, start: start, args: args, text: "get \(name)", result: .value(0))
                c.returnI32(0)
            },
            HostFunctionDefinition(r, "remove", [.i32, .i32], []) { p, c in
                let start = p.tracing ? p.context.now() : 0
                try p.context.checkAlive()
                let name = try p.guestString(ptr: c.u32(0), len: c.u32(1), .registryCall, [],
                                             reason: "lunatic::registry::get")
                let removed = p.context.environment.registry.remove(name)
                p.recordCall(.registryCall, start: start, text: "remove \(name)", result: .value(removed ? 1 : 0))
            },
        ]
    }()

    /// The UTF-8 text at `[ptr, ptr + len)` of guest memory, or a trap of `kind` with `reason`
    /// (range outside memory, or not UTF-8).
    package func guestString(
        ptr: UInt32, len: UInt32, _ kind: EventKind, _ args: @autoclosure () -> EventArguments, reason: String
    ) throws -> String {
        let memory = try exportedMemory(kind, args())
        try checkRange(memory, ptr: ptr, count: UInt64(len), kind, args(), reason: reason)
        let bytes = copyCheckedBytes(memory, ptr: ptr, count: Int(len))
        guard let text = String(validating: bytes, as: UTF8.self) else { throw trap(kind, args(), reason) }
        return text
    }
}
