import TraceFormat
import WasmKit

/// `lunatic::process`: spawning guests, modules, configs, sleeping, links and ids.
extension GuestProcess {
    /// The import module name.
    static let processModule = "lunatic::process"

    static let processFunctions: [HostFunctionDefinition] = {
        let m = processModule
        var list: [HostFunctionDefinition] = [
            HostFunctionDefinition(m, "spawn", [.i64, .i64, .i64, .i32, .i32, .i32, .i32, .i32], [.i32]) { p, c in
                try p.spawn(c)
            },
            HostFunctionDefinition(m, "compile_module", [.i32, .i32, .i32], [.i32]) { p, c in
                try p.compileModule(c)
            },
            HostFunctionDefinition(m, "drop_module", [.i64], []) { p, c in
                try p.dropResource(
                    .module, id: c.u64(0), event: .dropModule,
                    reason: "lunatic::process::drop_module: Module ID doesn't exist")
            },
            HostFunctionDefinition(m, "create_config", [], [.i64]) { p, c in
                let start = p.tracing ? p.context.now() : 0
                // Without the permission lunatic answers -1 (no trap), as the guest's API expects.
                guard p.config.settings.canCreateConfigs else {
                    p.recordCall(.createConfig, start: start, result: .value(-1))
                    return c.returnI64(signed: -1)
                }
                let id = p.context.insert(GuestConfig())
                p.recordCall(.createConfig, start: start, result: .value(Int64(bitPattern: id)))
                c.returnI64(id)
            },
            HostFunctionDefinition(m, "drop_config", [.i64], []) { p, c in
                try p.dropResource(
                    .config, id: c.u64(0), event: .dropConfig,
                    reason: "lunatic::process::drop_config: Config ID doesn't exist")
            },
            HostFunctionDefinition(m, "sleep_ms", [.i64], []) { p, c in
                try p.context.sleepBlocking(ms: c.u64(0))
            },
            HostFunctionDefinition(m, "die_when_link_dies", [.i32], []) { p, c in
                try p.context.dieWhenLinkDies(c.u32(0) != 0)
            },
            HostFunctionDefinition(m, "process_id", [], [.i64]) { p, c in
                let id = p.context.id
                p.recordCall(.processId, start: p.tracing ? p.context.now() : 0, result: .value(Int64(bitPattern: id)))
                c.returnI64(id)
            },
            HostFunctionDefinition(m, "environment_id", [], [.i64]) { p, c in
                let id = p.context.environment.id
                p.recordCall(
                    .environmentId, start: p.tracing ? p.context.now() : 0,
                    result: .value(Int64(bitPattern: id)))
                c.returnI64(id)
            },
            HostFunctionDefinition(m, "link", [.i64, .i64], []) { p, c in
                try p.context.link(tag: c.i64(0), to: c.u64(1))
            },
            HostFunctionDefinition(m, "unlink", [.i64], []) { p, c in
                try p.context.unlink(c.u64(0))
            },
            HostFunctionDefinition(m, "kill", [.i64], []) { p, c in
                try p.context.kill(c.u64(0))
            },
            HostFunctionDefinition(m, "exists", [.i64], [.i32]) { p, c in
                c.returnI32(p.context.environment.exists(c.u64(0)) ? 1 : 0)
            },
        ]
        list += configFunctions
        return list
    }()

    /// `spawn(link, config_id, module_id, func_ptr, func_len, params_ptr, params_len, id_ptr) -> i32`
    /// in lunatic's order: config, module, function name, params; the child's pid (or an error
    /// id, result 1) is written to `id_ptr` after the child exists.
    ///
    /// The child instantiates the module on its own thread; a missing entry function or wrong
    /// parameter types make the child fail (as in lunatic, where the call happens in the child).
    private func spawn(_ c: HostCall) throws {
        let link = c.i64(0), configID = c.i64(1), moduleID = c.i64(2)
        let funcPtr = c.u32(3), funcLen = c.u32(4), paramsPtr = c.u32(5), paramsLen = c.u32(6), idPtr = c.u32(7)
        try context.checkAlive()
        let args: EventArguments = [0, link, moduleID, configID]
        try requireSpawnPermission(.spawn, args)
        let childConfig = try spawnConfig(configID, .spawn, args)
        let childModule: GuestModule
        if moduleID == -1 {
            childModule = module
        } else if let found = context.resource(.module, id: UInt64(bitPattern: moduleID)) as? GuestModule {
            childModule = found
        } else {
            throw trap(.spawn, args, "lunatic::process::spawn: Module ID doesn't exist")
        }
        let memory = try exportedMemory(.spawn, args)
        let (entry, params) = try spawnEntry(
            memory, funcPtr: funcPtr, funcLen: funcLen, paramsPtr: paramsPtr,
            paramsLen: paramsLen, .spawn, args
        ) { _ in "lunatic::process::spawn" }
        // Every pointer is checked before the child exists: a trap here leaves nothing running.
        try checkRange(memory, ptr: idPtr, count: 8, .spawn, args, reason: "lunatic::process::spawn")
        let child = context.environment.startGuest(
            module: childModule, entry: entry, params: params, link: link, parent: context.id,
            options: options, config: childConfig, moduleID: moduleID, configID: configID)
        guard writeU64IfInBounds(memory, ptr: idPtr, child) else {
            throw trap(.spawn, [Int64(bitPattern: child), link, moduleID, configID], "lunatic::process::spawn")
        }
        c.returnI32(0)
    }

    /// The config a child is spawned with: a copy of config `configID`'s, or of this process's
    /// own for -1. An unknown id traps as lunatic's spawn does.
    func spawnConfig(_ configID: Int64, _ kind: EventKind, _ args: EventArguments) throws -> GuestConfig {
        if configID == -1 { return config.copy() }
        guard let found = context.resource(.config, id: UInt64(bitPattern: configID)) as? GuestConfig else {
            throw trap(kind, args, "lunatic::process::spawn: Config ID doesn't exist")
        }
        return found.copy()
    }

    /// The entry function name and parameters (lunatic's 17-byte encoding) a spawn reads from
    /// guest memory, each range checked; `reason` names the trap of each part ("func_str",
    /// "func_str_utf8", "params"; a malformed params list traps with the decoder's reason).
    func spawnEntry(
        _ memory: Memory, funcPtr: UInt32, funcLen: UInt32, paramsPtr: UInt32, paramsLen: UInt32,
        _ kind: EventKind, _ args: EventArguments,
        reason: (String) -> String
    ) throws -> (entry: String, params: [GuestValue]) {
        try checkRange(memory, ptr: funcPtr, count: UInt64(funcLen), kind, args, reason: reason("func_str"))
        guard let entry = String(validating: copyCheckedBytes(memory, ptr: funcPtr, count: Int(funcLen)), as: UTF8.self)
        else { throw trap(kind, args, reason("func_str_utf8")) }
        try checkRange(memory, ptr: paramsPtr, count: UInt64(paramsLen), kind, args, reason: reason("params"))
        do {
            let params = try withCheckedBytes(memory, ptr: paramsPtr, count: Int(paramsLen)) {
                try GuestValue.decodeSpawnParams($0)
            }
            return (entry, params)
        } catch let error as LunaTrap {
            throw trap(kind, args, error.reason)
        }
    }

    /// `compile_module(ptr, len, id_ptr) -> i32`: 0 with the module id, or 1 with an error id.
    private func compileModule(_ c: HostCall) throws {
        let ptr = c.u32(0), len = c.u32(1), idPtr = c.u32(2)
        let start = tracing ? context.now() : 0
        let reason = "lunatic::process::compile_module"
        // Without the permission lunatic answers -1 before touching memory (no trap).
        guard config.settings.canCompileModules else {
            recordCall(.compileModule, start: start, args: [Int64(len)], result: .value(-1))
            return c.returnI32(signed: -1)
        }
        let memory = try exportedMemory(.compileModule, [Int64(len)])
        try checkRange(memory, ptr: ptr, count: UInt64(len), .compileModule, [Int64(len)], reason: reason)
        // The id out-pointer is checked before compiling: a bad pointer traps with no module made.
        try checkRange(memory, ptr: idPtr, count: 8, .compileModule, [Int64(len)], reason: reason)
        let bytes = copyCheckedBytes(memory, ptr: ptr, count: Int(len))
        let id: UInt64
        let result: UInt32
        do {
            id = context.insert(try GuestModule(bytes: bytes, name: "compiled by process \(context.id)"))
            result = 0
        } catch {
            id = context.insert(GuestErrorResource(message: error.description))
            result = 1
        }
        guard writeU64IfInBounds(memory, ptr: idPtr, id) else {
            throw trap(.compileModule, [Int64(len), Int64(bitPattern: id)], reason)
        }
        recordCall(.compileModule, start: start, args: [Int64(len), Int64(bitPattern: id)], result: .value(Int64(result)))
        c.returnI32(result)
    }

    /// Removes resource `id` of `kind` from the process's table, or traps with `reason`.
    package func dropResource(_ kind: ResourceKind, id: UInt64, event: EventKind, reason: String) throws {
        let start = tracing ? context.now() : 0
        guard context.removeResource(kind, id: id) != nil else {
            throw trap(event, [Int64(bitPattern: id)], reason)
        }
        recordCall(event, start: start, args: [Int64(bitPattern: id)])
    }

    /// Records a completed host call of the `lunatic::process`/`error`/`version` namespaces.
    @inline(__always)
    package func recordCall(
        _ kind: EventKind, start: UInt64, args: EventArguments = [], text: String = "", result: CallResult = .none
    ) {
        guard tracing else { return }
        context.record(
            TraceEvent(
                kind: kind, pid: context.id, start: start, end: context.now(),
                args: args, text: text, result: result))
    }
}
