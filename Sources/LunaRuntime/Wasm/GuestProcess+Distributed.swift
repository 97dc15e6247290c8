import Synchronization
import TraceFormat
import WasmKit

/// `lunatic::distributed` with single-node semantics: Luna is node 0 and knows no other node,
/// as lunatic when distribution is off.
///
/// ABI (lunatic of November 2022):
/// - `nodes_count() -> i32` = 0; `get_nodes(ptr, len) -> i32` copies no ids, returns 0
/// - `node_id() -> i64` = 0; `module_id() -> i64` = the environment-wide id of the caller's module
/// - `send(node, pid) -> i32` and `send_receive_skip_search(node, pid, timeout) -> i32`: to node
///   0 exactly `lunatic::message::send` / `send_receive_skip_search` (same events, same traps)
/// - `spawn(node, config_id, module_id, func_ptr, func_len, params_ptr, params_len, id_ptr) -> i32`:
///   on node 0 a local unlinked spawn of module `module_id` (an id `module_id()` returned); an
///   unknown module gives result 1 with id 0, as lunatic's node client reports a failed spawn
/// - anything addressed to another node traps
///   `lunatic::distributed::<function>: Distributed is not initialized` (lunatic without a
///   distributed state fails every such call).
///
/// Each call is also recorded as a `distributed_call` event (text = function name, args as
/// passed, result as returned).
extension GuestProcess {
    /// The import module name.
    static let distributedModule = "lunatic::distributed"

    static let distributedFunctions: [HostFunctionDefinition] = {
        let d = distributedModule
        return [
            HostFunctionDefinition(d, "nodes_count", [], [.i32]) { p, c in
                p.recordCall(
                    .distributedCall, start: p.tracing ? p.context.now() : 0, text: "nodes_count",
                    result: .value(0))
                c.returnI32(0)
            },
            HostFunctionDefinition(d, "get_nodes", [.i32, .i32], [.i32]) { p, c in
                let start = p.tracing ? p.context.now() : 0
                let args: EventArguments = [Int64(c.u32(1))]
                let memory = try p.exportedMemory(.distributedCall, args)
                // No node ids to copy: only the (empty) range must lie in memory.
                try p.checkRange(
                    memory, ptr: c.u32(0), count: 0, .distributedCall, args,
                    reason: "lunatic::distributed::get_nodes::memory")
                p.recordCall(.distributedCall, start: start, args: args, text: "get_nodes", result: .value(0))
                c.returnI32(0)
            },
            HostFunctionDefinition(d, "node_id", [], [.i64]) { p, c in
                p.recordCall(
                    .distributedCall, start: p.tracing ? p.context.now() : 0, text: "node_id",
                    result: .value(0))
                c.returnI64(0)
            },
            HostFunctionDefinition(d, "module_id", [], [.i64]) { p, c in
                let start = p.tracing ? p.context.now() : 0
                let id = p.context.environment.guestModuleIDs.id(of: p.module)
                p.recordCall(.distributedCall, start: start, text: "module_id", result: .value(Int64(bitPattern: id)))
                c.returnI64(id)
            },
            HostFunctionDefinition(d, "send", [.i64, .i64], [.i32]) { p, c in
                let node = c.u64(0), pid = c.u64(1)
                let start = p.tracing ? p.context.now() : 0
                let args: EventArguments = [Int64(bitPattern: node), Int64(bitPattern: pid)]
                try p.requireLocalNode(node, "send", args)
                let result = try p.context.send(to: pid)
                p.recordCall(.distributedCall, start: start, args: args, text: "send", result: .value(Int64(result)))
                c.returnI32(signed: result)
            },
            HostFunctionDefinition(d, "send_receive_skip_search", [.i64, .i64, .i64], [.i32]) { p, c in
                let node = c.u64(0), pid = c.u64(1), timeout = c.u64(2)
                let start = p.tracing ? p.context.now() : 0
                let args: EventArguments = [Int64(bitPattern: node), Int64(bitPattern: pid), Int64(bitPattern: timeout)]
                try p.requireLocalNode(node, "send_receive_skip_search", args)
                let result = try p.context.sendReceiveSkipSearchBlocking(to: pid, timeoutMs: timeout)
                p.recordCall(
                    .distributedCall, start: start, args: args, text: "send_receive_skip_search",
                    result: .value(Int64(result)))
                c.returnI32(signed: result)
            },
            HostFunctionDefinition(d, "spawn", [.i64, .i64, .i64, .i32, .i32, .i32, .i32, .i32], [.i32]) { p, c in
                try p.distributedSpawn(c)
            },
        ]
    }()

    /// Traps a call addressed to a node other than 0.
    private func requireLocalNode(_ node: UInt64, _ function: String, _ args: EventArguments) throws {
        try context.checkAlive()
        if node != 0 {
            throw trap(.distributedCall, args, "lunatic::distributed::\(function): Distributed is not initialized")
        }
    }

    /// `spawn(node, config_id, module_id, func_ptr, func_len, params_ptr, params_len, id_ptr) -> i32`.
    private func distributedSpawn(_ c: HostCall) throws {
        let node = c.u64(0), configID = c.i64(1), moduleID = c.u64(2)
        let funcPtr = c.u32(3), funcLen = c.u32(4), paramsPtr = c.u32(5), paramsLen = c.u32(6), idPtr = c.u32(7)
        let start = tracing ? context.now() : 0
        let args: EventArguments = [Int64(bitPattern: node), configID, Int64(bitPattern: moduleID)]
        try context.checkAlive()
        try requireSpawnPermission(.distributedCall, args)
        let reason = "lunatic::distributed::spawn"
        let memory = try exportedMemory(.distributedCall, args)
        let (entry, params) = try spawnEntry(
            memory, funcPtr: funcPtr, funcLen: funcLen, paramsPtr: paramsPtr,
            paramsLen: paramsLen, .distributedCall, args
        ) { reason + "::" + $0 }
        let childConfig = try spawnConfig(configID, .distributedCall, args)
        // The id out-pointer is checked before the child exists: a trap leaves nothing running.
        try checkRange(memory, ptr: idPtr, count: 8, .distributedCall, args, reason: reason + "::write_id")
        guard node == 0 else {
            throw trap(.distributedCall, args, "lunatic::distributed::spawn: Distributed is not initialized")
        }
        var child: UInt64 = 0
        var result: UInt32 = 1
        if let module = context.environment.guestModuleIDs.module(moduleID) {
            child = context.environment.startGuest(
                module: module, entry: entry, params: params, link: 0, parent: context.id,
                options: options, config: childConfig, moduleID: Int64(bitPattern: moduleID), configID: configID)
            result = 0
        }
        guard writeU64IfInBounds(memory, ptr: idPtr, child) else {
            throw trap(.distributedCall, args, reason + "::write_id")
        }
        var done = args
        done.append(Int64(bitPattern: child))
        recordCall(
            .distributedCall, start: start, args: done, text: "spawn \(entry)",
            result: .value(Int64(result)))
        c.returnI32(result)
    }
}

/// Environment-wide ids of the modules guests run (`lunatic::distributed::module_id`), so that
/// a distributed spawn can name a module by id. A module gets its id when first asked for; the
/// table keeps the modules it has named alive as long as the environment lives.
package final class GuestModuleIDs: Sendable {
    private struct State {
        var ids: [ObjectIdentifier: UInt64] = [:]
        var modules: [UInt64: GuestModule] = [:]
        var next: UInt64 = 1
    }
    private let state = Mutex(State())

    package init() {}

    /// The id of `module`, given on first use (from 1).
    package func id(of module: GuestModule) -> UInt64 {
        state.withLock { s in
            if let id = s.ids[ObjectIdentifier(module)] { return id }
            let id = s.next
            s.next += 1
            s.ids[ObjectIdentifier(module)] = id
            s.modules[id] = module
            return id
        }
    }

    /// The module with `id`, if one was given it.
    package func module(_ id: UInt64) -> GuestModule? { state.withLock { $0.modules[id] } }
}

extension Environment {
    /// The module ids of `lunatic::distributed` in this environment.
    package var guestModuleIDs: GuestModuleIDs { attachment("guest-module-ids") { GuestModuleIDs() } }
}
