import WasmKit

/// The WasmKit engines guests run on.
///
/// An `Engine` is immutable configuration plus a type interner behind one mutex. Each guest
/// process gets an engine and a `Store` of its own (a store is thread-confined; WasmKit compiles
/// function bodies lazily into the store that calls them), so the parsed `Module` is shared
/// while compiled code and memory are per process. The engine is per process too: instantiation
/// interns the type of every function and import through that mutex, so with one engine for all
/// processes, guests starting or running at the same time contended on it (with spinning) for
/// each of a large module's thousands of functions. A new engine costs a few allocations.
package enum GuestEngine {
    /// mprotect bounds checking: each memory is a reservation of 4 GiB (+ a 64 KiB guard) of
    /// address space whose pages are committed as it grows, so `memory.grow` commits the new
    /// pages in place (software checking reallocates and copies the whole memory on each grow,
    /// and holds both copies meanwhile). Address space is plentiful on 64-bit hosts; where a
    /// reservation fails WasmKit falls back to software checking for that memory.
    ///
    /// Fuel metering: the only way WasmKit 0.4.2 lets another thread stop running code
    /// (`GuestInterrupter`); a process without `max_fuel` runs on an unlimited budget.
    package static let configuration = EngineConfiguration(memoryBoundsChecking: .mprotect, fuelMetering: true)

    /// A new engine for one guest process.
    package static func makeProcessEngine() -> Engine { Engine(configuration: configuration) }

    /// An engine that compiles every function at instantiation: loading a module instantiates
    /// it once here, which validates every function body up front.
    package static let validating = Engine(
        configuration: EngineConfiguration(compilationMode: .eager, memoryBoundsChecking: .software))
}
