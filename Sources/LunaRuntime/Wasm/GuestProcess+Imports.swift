import WasmKit

/// The process an instance's host functions act for.
///
/// An instance's imports are bound to a binding rather than to a process, so that an instance
/// can be made before the process that runs it exists (`InstancePool`): the process is set when
/// it takes the instance, and cleared when its run ends (which also breaks the cycle process →
/// memory → store → host functions → process).
package final class GuestBinding: @unchecked Sendable {
    // @unchecked Sendable: set before the instance's first call and cleared after its last, on
    // the thread that runs the instance; a prepared instance is handed over under a lock.

    /// The process running the instance; nil before it is taken and after its run.
    @exclusivity(unchecked) package var process: GuestProcess?

    package init() {}
}

extension GuestProcess {
    /// Defines every import of `module` in `store` as a host function acting for whichever
    /// process `binding` holds when it is called.
    ///
    /// The functions capture neither the module nor a process, so that a prepared instance kept
    /// by the module's pool does not keep the module alive.
    package static func makeImports(module: GuestModule, store: Store, binding: GuestBinding) -> Imports {
        var imports = Imports()
        for imp in module.wasm.imports {
            let name = imp.name
            if let definition = HostFunctionCatalog.definition(module: imp.module, name: name) {
                let body = definition.body
                let function = Function(
                    store: store, parameters: definition.type.parameters, results: definition.type.results
                ) { caller, params, results in
                    guard let process = binding.process else { throw unboundCall(name) }
                    if process.memory == nil { process.memory = caller.instance?.exports[memory: "memory"] }
                    process.context.waitForTraceWriter()
                    try body(process, HostCall(params: params, results: results))
                }
                imports.define(module: imp.module, name: name, function)
            } else if HostFunctionCatalog.isUnsupportedWASI(module: imp.module, name: name),
                case .function = imp.descriptor,
                let type = module.importedFunctionType(module: imp.module, name: name)
            {
                let function = Function(store: store, parameters: type.parameters, results: type.results) {
                    _, _, results in
                    guard let process = binding.process else { throw unboundCall(name) }
                    process.recordWASI(
                        name, start: process.tracing ? process.context.now() : 0, args: [], errno: WASIErrno.nosys)
                    results[0] = .i32(UInt32(WASIErrno.nosys))
                }
                imports.define(module: imp.module, name: name, function)
            }
            // Anything else was rejected when the module was loaded.
        }
        return imports
    }

    /// A host function called while no process holds its instance: never, since only modules
    /// without a start function are instantiated ahead of their process.
    private static func unboundCall(_ name: String) -> LunaTrap {
        LunaTrap(reason: "host function \(name) called by an instance no process holds")
    }
}
