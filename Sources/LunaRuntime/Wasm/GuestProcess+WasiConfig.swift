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
/// (`GuestConfig.wasiSettings`, copied with it) and applied, as lunatic applies them, to every
/// process spawned with that config: its WASI `args_get`, `environ_get` and preopened
/// directories are exactly the config's (a new config has none; `spawn` with config -1 passes
/// the spawner's own config on).
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
                let value = try p.guestString(
                    ptr: c.u32(3), len: c.u32(4), .wasiCall, [c.i64(0)], reason: "lunatic::wasi::\(name)")
                config.wasiSettings.update { $0.environment.append((key, value)) }
                p.recordCall(.wasiCall, start: start, args: [c.i64(0)], text: "\(name) \(key)=\(value)")
            },
            appendingSetter("config_add_command_line_argument", \.arguments),
            appendingSetter("config_preopen_dir", \.preopenedDirectories),
        ]
    }()

    /// `name(config_id, ptr, len)`: appends the guest string to `list` of the config's settings.
    private static func appendingSetter(
        _ name: String, _ list: WritableKeyPath<GuestWasiSettings, [String]> & Sendable
    )
        -> HostFunctionDefinition
    {
        HostFunctionDefinition(wasiConfigModule, name, [.i64, .i32, .i32], []) { p, c in
            let start = p.tracing ? p.context.now() : 0
            let config = try p.wasiConfig(c.u64(0), name)
            let text = try p.guestString(ptr: c.u32(1), len: c.u32(2), .wasiCall, [c.i64(0)], reason: "lunatic::wasi::\(name)")
            config.wasiSettings.update { $0[keyPath: list].append(text) }
            p.recordCall(.wasiCall, start: start, args: [c.i64(0)], text: "\(name) \(text)")
        }
    }

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
    /// Directories to preopen (each seen by the guest under the path as given, which the host
    /// resolves against its current directory, as lunatic does).
    public var preopenedDirectories: [String] = []

    /// Settings with these values (none by default, as a new config has).
    public init(
        arguments: [String] = [], environment: [(key: String, value: String)] = [],
        preopenedDirectories: [String] = []
    ) {
        self.arguments = arguments
        self.environment = environment
        self.preopenedDirectories = preopenedDirectories
    }
}

/// The mutable WASI settings held for one config object.
public final class GuestWasiSettingsBox: Sendable {
    private let state = Mutex(GuestWasiSettings())
    /// The current settings.
    public var value: GuestWasiSettings { state.withLock { $0 } }
    /// Changes the settings.
    public func update(_ change: (inout GuestWasiSettings) -> Void) { state.withLock { change(&$0) } }
}
