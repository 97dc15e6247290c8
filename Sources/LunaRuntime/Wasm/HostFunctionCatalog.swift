import WasmKit

/// One host function the runtime provides to guests: its import name, its WebAssembly type and
/// its implementation against a guest process.
package struct HostFunctionDefinition: Sendable {
    /// Import module, e.g. `lunatic::message`.
    package let module: String
    /// Import name, e.g. `write_data`.
    package let name: String
    /// The exact WebAssembly type (SEMANTICS.md §1).
    package let type: FunctionType
    /// The implementation; runs on the calling guest's thread.
    package let body: @Sendable (GuestProcess, HostCall) throws -> Void

    init(
        _ module: String, _ name: String, _ parameters: [ValueType], _ results: [ValueType],
        _ body: @escaping @Sendable (GuestProcess, HostCall) throws -> Void
    ) {
        self.module = module
        self.name = name
        self.type = FunctionType(parameters: parameters, results: results)
        self.body = body
    }

    /// `module::name`, the form lunatic uses in trap texts.
    package var qualifiedName: String { "\(module)::\(name)" }
}

/// Every import a guest module may use: `lunatic::message`, `lunatic::process`,
/// `lunatic::error`, `lunatic::version`, `lunatic::networking` (`Networking+HostFunctions.swift`),
/// `lunatic::distributed`/`registry`/`timer` (`GuestProcess+Distributed.swift`), `lunatic::wasi`
/// (`GuestProcess+WasiConfig.swift`) and WASI preview 1 through WasmKit's WASI
/// (`GuestProcess+WASI.swift`).
package enum HostFunctionCatalog {
    /// All definitions, by import module and name.
    package static let definitions: [String: [String: HostFunctionDefinition]] = {
        var table: [String: [String: HostFunctionDefinition]] = [:]
        let all =
            GuestProcess.messageFunctions + GuestProcess.processFunctions
            + GuestProcess.errorAndVersionFunctions + GuestProcess.wasiFunctions
            + GuestProcess.networkingFunctions
            + GuestProcess.distributedFunctions + GuestProcess.registryFunctions + GuestProcess.timerFunctions
            + GuestProcess.wasiConfigFunctions
        for definition in all {
            precondition(
                table[definition.module]?[definition.name] == nil,
                "duplicate host function \(definition.qualifiedName)")
            table[definition.module, default: [:]][definition.name] = definition
        }
        return table
    }()

    /// The definition of import `module`.`name`, if the runtime provides it.
    package static func definition(module: String, name: String) -> HostFunctionDefinition? {
        definitions[module]?[name]
    }

    /// Whether `module`.`name` is a WASI preview 1 function the runtime answers with `ENOSYS`
    /// (any declared signature with one i32 result; the guest sees "not supported"). None now:
    /// WasmKit's WASI defines every preview 1 function.
    package static func isUnsupportedWASI(module: String, name: String) -> Bool {
        module == GuestProcess.wasiModule && GuestProcess.unsupportedWASINames.contains(name)
    }
}
