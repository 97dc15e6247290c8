import WasmKit

/// The WasmKit engines every guest of every environment shares.
///
/// An `Engine` is immutable configuration plus an internally synchronised type interner, so one
/// engine serves all processes on all threads. Each guest process gets its own `Store` (a store is
/// thread-confined; WasmKit compiles function bodies lazily into the store that calls them), so
/// the parsed `Module` is shared while compiled code and memory are per process.
package enum GuestEngine {
    /// Software bounds checking: an mprotect-guarded memory reserves 4 GiB (+guard) of address
    /// space per instance, which thousands of guest processes cannot afford.
    package static let configuration = EngineConfiguration(memoryBoundsChecking: .software)

    /// The engine guest processes run on.
    package static let shared = Engine(configuration: configuration)

    /// An engine that compiles every function at instantiation: loading a module instantiates
    /// it once here, which validates every function body up front.
    package static let validating = Engine(
        configuration: EngineConfiguration(compilationMode: .eager, memoryBoundsChecking: .software))
}
