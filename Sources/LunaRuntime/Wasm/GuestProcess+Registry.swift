import TraceFormat
import WasmKit

/// `lunatic::registry`: named processes, one registry per environment (`ProcessRegistry`).
///
/// ABI (lunatic of November 2022):
/// - `put(name_ptr, name_len, node_id: i64, process_id: i64)`
/// - `get(name_ptr, name_len, node_id_ptr, process_id_ptr) -> i32`: 0 found (both ids written
///   as little-endian u64), 1 not found (nothing written)
/// - `get_or_put_later(name_ptr, name_len, node_id_ptr, process_id_ptr) -> i32`: as `get`, but
///   atomic with the caller's next `put`: when it returns 1 the caller holds the registry, and
///   every other process's registry call waits, until the caller `put`s (lunatic requires it
///   to) or ends
/// - `remove(name_ptr, name_len)`
///
/// A name outside guest memory or not UTF-8 traps with `lunatic::registry::put` (put) or
/// `lunatic::registry::get` (get, get_or_put_later and remove, as lunatic reports them).
/// `get` or `remove` while holding the registry traps with lunatic's
/// "calling `lunatic::registry::get` after `get_or_put_later` will deadlock" (and `remove` in
/// its place); a second `get_or_put_later` while holding it, which would deadlock in lunatic,
/// traps the same way instead. Each call is recorded as a `registry_call` event with text
/// `<function> <name>`, args the ids, result as returned; its duration includes any wait.
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
                let name = try p.guestString(
                    ptr: c.u32(0), len: c.u32(1), .registryCall, args,
                    reason: "lunatic::registry::put")
                try p.context.environment.registry.put(
                    name, node: node, process: pid, caller: p.context.id,
                    alive: p.context.checkAlive)
                p.holdsRegistry = false
                p.recordCall(.registryCall, start: start, args: args, text: "put \(name)")
            },
            HostFunctionDefinition(r, "get", [.i32, .i32, .i32, .i32], [.i32]) { p, c in
                try p.registryLookup("get", c)
            },
            HostFunctionDefinition(r, "get_or_put_later", [.i32, .i32, .i32, .i32], [.i32]) { p, c in
                try p.registryLookup("get_or_put_later", c)
            },
            HostFunctionDefinition(r, "remove", [.i32, .i32], []) { p, c in
                let start = p.tracing ? p.context.now() : 0
                try p.context.checkAlive()
                let name = try p.guestString(
                    ptr: c.u32(0), len: c.u32(1), .registryCall, [],
                    reason: "lunatic::registry::get")
                try p.refuseWhileHoldingRegistry("remove")
                let removed = try p.context.environment.registry.remove(
                    name, caller: p.context.id,
                    alive: p.context.checkAlive)
                p.recordCall(.registryCall, start: start, text: "remove \(name)", result: .value(removed ? 1 : 0))
            },
        ]
    }()

    /// `get` and `get_or_put_later`: 0 with the ids written, or 1 (for `get_or_put_later` the
    /// caller then holds the registry until its `put`).
    private func registryLookup(_ function: String, _ c: HostCall) throws {
        let start = tracing ? context.now() : 0
        let reason = "lunatic::registry::get"
        try context.checkAlive()
        let name = try guestString(ptr: c.u32(0), len: c.u32(1), .registryCall, [], reason: reason)
        try refuseWhileHoldingRegistry(function)
        let registry = context.environment.registry
        let found =
            function == "get"
            ? try registry.get(name, caller: context.id, alive: context.checkAlive)
            : try registry.getOrPutLater(name, caller: context.id, alive: context.checkAlive)
        guard let entry = found else {
            if function != "get" { holdsRegistry = true }
            recordCall(.registryCall, start: start, text: "\(function) \(name)", result: .value(1))
            return c.returnI32(1)
        }
        let args: EventArguments = [Int64(bitPattern: entry.node), Int64(bitPattern: entry.process)]
        let memory = try exportedMemory(.registryCall, args)
        guard writeU64IfInBounds(memory, ptr: c.u32(2), entry.node),
            writeU64IfInBounds(memory, ptr: c.u32(3), entry.process)
        else {
            throw trap(.registryCall, args, reason)
        }
        recordCall(.registryCall, start: start, args: args, text: "\(function) \(name)", result: .value(0))
        c.returnI32(0)
    }

    /// lunatic's trap for `function` called while this process holds the registry.
    private func refuseWhileHoldingRegistry(_ function: String) throws {
        guard holdsRegistry else { return }
        throw trap(
            .registryCall, [],
            "calling `lunatic::registry::\(function)` after `get_or_put_later` will deadlock")
    }

    /// Ends this process's hold of the registry, if it has one (called when its run ends).
    package func releaseRegistryIfHeld() {
        guard holdsRegistry else { return }
        holdsRegistry = false
        context.environment.registry.release(heldBy: context.id)
    }

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
