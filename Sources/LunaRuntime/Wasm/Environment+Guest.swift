import TraceFormat
import WasmKit

/// How guest processes are run: where their output goes, and the WASI of the first guest.
///
/// `output` and `standardInput` are inherited by every guest spawned from this one. The WASI
/// values (`arguments`, `environment`, `preopenedDirectories`) go into the config of the guest
/// the host spawns; guests it spawns get their config's values, as in lunatic (`spawn` with
/// config -1 passes the spawner's on, a new config has none until `lunatic::wasi` adds them).
public struct GuestOptions: Sendable {
    /// Receives WASI output to fd 1 and 2.
    public var output: any GuestOutput
    /// WASI `args_get` (by convention the first is the program name).
    public var arguments: [String]
    /// WASI `environ_get`, `KEY=VALUE` pairs in order (a later key replaces an earlier one).
    public var environment: [(key: String, value: String)]
    /// Host directories to preopen, each seen by the guest under the path as given.
    public var preopenedDirectories: [String]
    /// Host descriptor WASI fd 0 reads (nil: standard input is empty).
    public var standardInput: Int32?

    /// Options with `output` (default: the host's stdout/stderr), `arguments`, `environment`,
    /// `preopenedDirectories` (default: none) and `standardInput` (default: empty).
    public init(
        output: any GuestOutput = StandardGuestOutput.shared, arguments: [String] = [],
        environment: [(key: String, value: String)] = [], preopenedDirectories: [String] = [],
        standardInput: Int32? = nil
    ) {
        self.output = output
        self.arguments = arguments
        self.environment = environment
        self.preopenedDirectories = preopenedDirectories
        self.standardInput = standardInput
    }

    /// The WASI part as a config's settings.
    var wasiSettings: GuestWasiSettings {
        GuestWasiSettings(arguments: arguments, environment: environment, preopenedDirectories: preopenedDirectories)
    }
}

/// Why the host could not spawn a guest.
public enum GuestSpawnError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The module exports no function `entry`.
    case entryNotFound(module: String, entry: String)
    /// The entry's parameter types differ from the values given.
    case parameterMismatch(entry: String, expected: String, given: String)

    public var description: String {
        switch self {
        case .entryNotFound(let module, let entry):
            return "module \(module) exports no function '\(entry)'"
        case .parameterMismatch(let entry, let expected, let given):
            return "function '\(entry)' takes (\(expected)), given (\(given))"
        }
    }
}

extension Environment {
    /// Spawns a guest process running export `entry` of `module` with `params`, on its own thread.
    ///
    /// With `parent` and `link != 0` the processes are linked asymmetrically before the guest
    /// starts (R-PROC-4). The guest ends normally when `entry` returns, with failure when it traps
    /// (the reason is recorded: a host function's name as lunatic reports it, or WasmKit's trap
    /// description in a `trap` event), and is killed while blocked in receive or sleep.
    /// A guest spinning in pure computation is stopped by `kill` too, at its next loop
    /// iteration or call (`GuestInterrupter`).
    ///
    /// - Throws: `GuestSpawnError` if `entry` does not exist or takes other parameter types.
    @discardableResult
    public func spawnGuest(
        module: GuestModule, entry: String, params: [GuestValue] = [], link: Int64 = 0,
        parent: ProcessID? = nil, options: GuestOptions = GuestOptions()
    ) throws(GuestSpawnError) -> ProcessID {
        guard let type = module.exportedFunctionType(entry) else {
            throw .entryNotFound(module: module.name, entry: entry)
        }
        let given = params.map(\.valueType)
        guard type.parameters == given else {
            throw .parameterMismatch(
                entry: entry, expected: type.parameters.map { "\($0)" }.joined(separator: ", "),
                given: given.map { "\($0)" }.joined(separator: ", "))
        }
        let config = GuestConfig.permissive()
        config.wasiSettings.update { $0 = options.wasiSettings }
        return startGuest(
            module: module, entry: entry, params: params, link: link, parent: parent,
            options: options, config: config, moduleID: -1, configID: -1)
    }

    /// Starts a guest thread without checking `entry` (a guest's `spawn`: a bad entry makes the
    /// child fail, as in lunatic).
    package func startGuest(
        module: GuestModule, entry: String, params: [GuestValue], link: Int64, parent: ProcessID?,
        options: GuestOptions, config: GuestConfig, moduleID: Int64, configID: Int64
    ) -> ProcessID {
        spawnThread(link: link, parent: parent, entry: entry, moduleID: moduleID, configID: configID) { context in
            let process = GuestProcess(context: context, module: module, options: options, config: config)
            try process.run(entry: entry, params: params)
        }
    }
}
