import TraceFormat
@_spi(Fuzzing) import WasmKit  // Store.resourceLimiter (max_memory) is SPI in WasmKit 0.4.2

/// Enforcing a process's config (`lunatic::process::config_*`) as lunatic does:
/// - `spawn` traps when the config of the *calling* process lacks `can_spawn_processes`, with
///   lunatic's text ("Process doesn't have permissions to spawn sub-processes");
///   `compile_module` and `create_config` without `can_compile_modules` / `can_create_configs`
///   return -1, as lunatic's do;
/// - `max_memory` bounds the instance's linear memory (growth beyond it fails, `memory.grow`
///   returns -1; a module whose initial memory is larger fails to start);
/// - `max_fuel` (0 = unlimited) is lunatic's unit of 100 000 instructions: the process runs on
///   a fuel-metered engine and traps when the budget is spent.
///
/// Guests the host spawns get every permission and no limits (`GuestConfig.permissive()`), as
/// lunatic's first process.
extension GuestProcess {
    /// Instructions per unit of `max_fuel` (lunatic's UNIT_OF_COMPUTE_IN_INSTRUCTIONS).
    package static let instructionsPerFuelUnit: UInt64 = 100_000

    /// Traps call `kind` unless the process may spawn processes.
    package func requireSpawnPermission(_ kind: EventKind, _ args: @autoclosure () -> EventArguments) throws {
        if !config.settings.canSpawnProcesses {
            throw trap(kind, args(), "Process doesn't have permissions to spawn sub-processes")
        }
    }

    /// Gives `store` (new, or prepared by the module's pool and never run) this process's
    /// memory and fuel limits. WasmKit reads the store's limiter at each `memory.grow`; the
    /// initial memory, which it checks at instantiation, is checked by `InstancePool.take`.
    package func applyLimits(to store: Store) {
        let settings = config.settings
        if settings.maxFuel != 0 {
            let (budget, overflow) = settings.maxFuel.multipliedReportingOverflow(by: Self.instructionsPerFuelUnit)
            store.fuel = Fuel(remaining: overflow ? .max : budget)
        }
        if settings.maxMemory < UInt64(Int.max) {
            store.resourceLimiter = GuestMemoryLimiter(maxBytes: Int(settings.maxMemory))
        }
    }
}

/// Denies linear-memory growth beyond a config's `max_memory`.
final class GuestMemoryLimiter: ResourceLimiter {
    let maxBytes: Int
    init(maxBytes: Int) { self.maxBytes = maxBytes }
    func limitMemoryGrowth(to desired: Int) throws -> Bool { desired <= maxBytes }
    func limitTableGrowth(to desired: Int) throws -> Bool { true }
}
