import Synchronization
import TraceFormat

/// A process configuration (`lunatic::process::create_config`), kept in the `.config` table.
///
/// Processes spawned with a config are held to it as lunatic does (see
/// `GuestProcess+ProcessConfig.swift`): spawning, compiling modules and creating configs need
/// the permission, `max_memory` bounds memory growth and `max_fuel` meters instructions.
public final class GuestConfig: Resource {
    /// The resource table this belongs to.
    public var resourceKind: ResourceKind { .config }

    /// The configuration's settings.
    public struct Settings: Sendable, Equatable {
        /// Maximum memory in bytes (lunatic's default: 4 GiB).
        public var maxMemory: UInt64 = 4 << 30
        /// Maximum fuel, 0 = unlimited.
        public var maxFuel: UInt64 = 0
        /// Whether processes spawned with this config may compile modules.
        public var canCompileModules = false
        /// Whether they may create configs.
        public var canCreateConfigs = false
        /// Whether they may spawn processes.
        public var canSpawnProcesses = false

        /// Settings with lunatic's defaults for a new config unless given.
        public init(
            maxMemory: UInt64 = 4 << 30, maxFuel: UInt64 = 0, canCompileModules: Bool = false,
            canCreateConfigs: Bool = false, canSpawnProcesses: Bool = false
        ) {
            self.maxMemory = maxMemory
            self.maxFuel = maxFuel
            self.canCompileModules = canCompileModules
            self.canCreateConfigs = canCreateConfigs
            self.canSpawnProcesses = canSpawnProcesses
        }
    }

    private let state: Mutex<Settings>

    /// A configuration with `settings`.
    public init(_ settings: Settings = Settings()) { state = Mutex(settings) }

    /// The configuration the host gives guests it spawns: every permission granted.
    public static func permissive() -> GuestConfig {
        GuestConfig(Settings(canCompileModules: true, canCreateConfigs: true, canSpawnProcesses: true))
    }

    /// The current settings.
    public var settings: Settings { state.withLock { $0 } }

    /// The `lunatic::wasi` settings: arguments, environment, preopened directories
    /// (GuestProcess+WasiConfig.swift); a process spawned with this config gets them in its WASI.
    public let wasiSettings = GuestWasiSettingsBox()

    /// Changes the settings.
    public func update(_ change: (inout Settings) -> Void) { state.withLock { change(&$0) } }

    /// A copy (a spawned process gets its own).
    public func copy() -> GuestConfig {
        let copy = GuestConfig(settings)
        copy.wasiSettings.update { $0 = wasiSettings.value }
        return copy
    }
}

/// An error a guest can inspect with `lunatic::error` (kept in the `.error` table): the reason
/// `compile_module` failed, for example.
public final class GuestErrorResource: Resource {
    /// The resource table this belongs to.
    public var resourceKind: ResourceKind { .error }
    /// The error's text (what `lunatic::error::to_string` writes).
    public let message: String
    /// An error with `message`.
    public init(message: String) { self.message = message }
}
