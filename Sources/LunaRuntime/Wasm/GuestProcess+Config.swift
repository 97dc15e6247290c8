import TraceFormat
import WasmKit

/// `lunatic::process::config_*`: setters and getters of config resources (recorded as
/// `config_call` events; `GuestProcess+ProcessConfig.swift` enforces them).
extension GuestProcess {
    static let configFunctions: [HostFunctionDefinition] = {
        let m = processModule
        typealias Settings = GuestConfig.Settings
        func setter(
            _ name: String, _ type: ValueType, _ apply: @escaping @Sendable (inout Settings, UInt64) -> Void
        )
            -> HostFunctionDefinition
        {
            HostFunctionDefinition(m, name, [.i64, type], []) { p, c in
                let value = type == .i64 ? c.u64(1) : UInt64(c.u32(1))
                let config = try p.config(id: c.u64(0), function: name)
                config.update { apply(&$0, value) }
                p.recordCall(
                    .configCall, start: p.tracing ? p.context.now() : 0,
                    args: [c.i64(0), Int64(bitPattern: value)], text: name)
            }
        }
        func getter(
            _ name: String, _ type: ValueType, _ read: @escaping @Sendable (Settings) -> UInt64
        )
            -> HostFunctionDefinition
        {
            HostFunctionDefinition(m, name, [.i64], [type]) { p, c in
                let value = read(try p.config(id: c.u64(0), function: name).settings)
                if type == .i64 { c.returnI64(value) } else { c.returnI32(UInt32(truncatingIfNeeded: value)) }
                p.recordCall(
                    .configCall, start: p.tracing ? p.context.now() : 0, args: [c.i64(0)], text: name,
                    result: .value(Int64(bitPattern: value)))
            }
        }
        return [
            setter("config_set_max_memory", .i64) { $0.maxMemory = $1 },
            getter("config_get_max_memory", .i64) { $0.maxMemory },
            setter("config_set_max_fuel", .i64) { $0.maxFuel = $1 },
            getter("config_get_max_fuel", .i64) { $0.maxFuel },
            setter("config_set_can_compile_modules", .i32) { $0.canCompileModules = $1 != 0 },
            getter("config_can_compile_modules", .i32) { $0.canCompileModules ? 1 : 0 },
            setter("config_set_can_create_configs", .i32) { $0.canCreateConfigs = $1 != 0 },
            getter("config_can_create_configs", .i32) { $0.canCreateConfigs ? 1 : 0 },
            setter("config_set_can_spawn_processes", .i32) { $0.canSpawnProcesses = $1 != 0 },
            getter("config_can_spawn_processes", .i32) { $0.canSpawnProcesses ? 1 : 0 },
        ]
    }()

    /// Config `id` of this process, or lunatic's "Config ID doesn't exist" trap for `function`.
    private func config(id: UInt64, function: String) throws -> GuestConfig {
        if let config = context.resource(.config, id: id) as? GuestConfig { return config }
        throw trap(
            .configCall, [Int64(bitPattern: id)],
            "lunatic::process::\(function): Config ID doesn't exist")
    }
}
