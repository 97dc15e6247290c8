import Synchronization
import TraceFormat
import WasmKit

/// `lunatic::wasi`: the WASI settings of a config resource.
///
/// ABI (lunatic of November 2022):
/// - `config_add_environment_variable(config_id: i64, key_ptr, key_len, value_ptr, value_len)`
/// - `config_add_command_line_argument(config_id: i64, arg_ptr, arg_len)`
/// - `config_preopen_dir(config_id: i64, dir_ptr, dir_len)`
///
/// A config id the process does not hold traps with
/// `lunatic::wasi::<function>: Config ID doesn't exist`; text outside guest memory or not UTF-8
/// traps with `lunatic::wasi::<function>`. Each call is recorded as a `wasi_call` event (text =
/// `<function> <values>`, args `[config_id]`). The values are kept with the config
/// (`GuestConfig.wasiSettings`).
extension GuestProcess {
    /// The import module name.
    static let wasiConfigModule = "lunatic::wasi"

    static let wasiConfigFunctions: [HostFunctionDefinition] = {
        let w = wasiConfigModule
        return [
            HostFunctionDefinition(w, "config_add_environment_variable", [.i64, .i32, .i32, .i32, .i32], []) { p, c in
                let name = "config_add_environment_variable"
                let start = p.tracing ? p.context.now() : 0
                let config = try p.wasiConfig(c.u64(0), name)
                let key = try p.guestString(ptr: c.u32(1), len: c.u32(2), .wasiCall, [c.i64(0)], reason: "lunatic::wasi::\(name)")
                let value = try p.guestString(ptr: c.u32(3), len: c.u32(4), .wasiCall, [c.i64(0)], reason: "lunatic::wasi::\(name)")
                config.wasiSettings.update { $0.environment.append((key, value)) }
                p.recordCall(.wasiCall, start: start, args: [c.i64(0)], text: "\(name) \(key)=\(value)")
            },
            HostFunctionDefinition(w, "config_add_command_line_argument", [.i64, .i32, .i32], []) { p, c in
                let name = "config_add_command_line_argument"
                let start = p.tracing ? p.context.now() : 0
                let config = try p.wasiConfig(c.u64(0), name)
                let argument = try p.guestString(ptr: c.u32(1), len: c.u32(2), .wasiCall, [c.i64(0)], reason: "lunatic::wasi::\(name)")
                config.wasiSettings.update { $0.arguments.append(argument) }
                p.recordCall(.wasiCall, start: start, args: [c.i64(0)], text: "\(name) \(argument)")
            },
            HostFunctionDefinition(w, "config_preopen_dir", [.i64, .i32, .i32], []) { p, c in
                let name = "config_preopen_dir"
                let start = p.tracing ? p.context.now() : 0
                let config = try p.wasiConfig(c.u64(0), name)
                let directory = try p.guestString(ptr: c.u32(1), len: c.u32(2), .wasiCall, [c.i64(0)], reason: "lunatic::wasi::\(name)")
                config.wasiSettings.update { $0.preopenedDirectories.append(directory) }
                p.recordCall(.wasiCall, start: start, args: [c.i64(0)], text: "\(name) \(directory)")
            },
        ]
    }()

    /// Config `id` of this process, or the trap of `function`.
    private func wasiConfig(_ id: UInt64, _ function: String) throws -> GuestConfig {
        try context.checkAlive()
        if let config = context.resource(.config, id: id) as? GuestConfig { return config }
        throw trap(.wasiCall, [Int64(bitPattern: id)], "lunatic::wasi::\(function): Config ID doesn't exist")
    }
}

/// The WASI part of a config: environment variables, extra command-line arguments and
/// preopened directories, in the order they were added.
public struct GuestWasiSettings: Sendable {
    /// `KEY=VALUE` pairs.
    public var environment: [(key: String, value: String)] = []
    /// Command-line arguments.
    public var arguments: [String] = []
    /// Directories to preopen.
    public var preopenedDirectories: [String] = []
}

/// The mutable WASI settings held for one config object.
public final class GuestWasiSettingsBox: Sendable {
    private let state = Mutex(GuestWasiSettings())
    /// The current settings.
    public var value: GuestWasiSettings { state.withLock { $0 } }
    /// Changes the settings.
    public func update(_ change: (inout GuestWasiSettings) -> Void) { state.withLock { change(&$0) } }
}

extension GuestConfig {
    /// The WASI settings added to this config with `lunatic::wasi` (kept beside the config,
    /// by identity, for as long as the config lives).
    public var wasiSettings: GuestWasiSettingsBox { GuestConfigWasiTable.box(for: self) }
}

/// Side table of `GuestConfig.wasiSettings` (configs are another file's type; their stored
/// properties are theirs). Held weakly by config, pruned when configs are gone.
private enum GuestConfigWasiTable {
    private final class Entry: @unchecked Sendable {
        // @unchecked Sendable: `config` is only read under the table's lock; `box` is immutable.
        weak var config: GuestConfig?
        let box = GuestWasiSettingsBox()
        init(_ config: GuestConfig) { self.config = config }
    }

    private static let table = Mutex<[ObjectIdentifier: Entry]>([:])

    static func box(for config: GuestConfig) -> GuestWasiSettingsBox {
        table.withLock { table in
            let id = ObjectIdentifier(config)
            if let entry = table[id], entry.config === config { return entry.box }
            if table.count > 64 { table = table.filter { $0.value.config != nil } }
            let entry = Entry(config)
            table[id] = entry
            return entry.box
        }
    }
}
