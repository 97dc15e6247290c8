import LunaSupport
import TraceFormat
import WAT
@_spi(Fuzzing) @_spi(OnlyForCLI) import WasmKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A compiled WebAssembly module that guest processes are spawned from.
///
/// A module is a resource (kind `.module`): `push_module` shares it inside a message,
/// `take_module` puts it into the receiver's table, and `spawn` with that id runs it. It is
/// immutable and shared by every process spawned from it; each process instantiates it in its own
/// WasmKit store.
///
/// Loading validates the whole module up front (every function body, and every import against
/// the functions the runtime provides), so a module importing something unknown fails here with
/// an error naming the import, never later inside a running process.
public final class GuestModule: Resource {
    /// The resource table this belongs to.
    public var resourceKind: ResourceKind { .module }
    /// A name for messages (file name, or what the creator passed).
    public let name: String
    /// The size of the module binary in bytes.
    public let byteCount: Int
    /// The names of the exported functions (the possible entries).
    public let exportedFunctions: [String]
    /// The parsed module, shared by all processes (without its active segments' bytes when
    /// `memoryImage` holds them).
    package let wasm: Module
    /// The initialised memory every instance maps, when the module's layout allows one
    /// (`MemoryImageLayout`); nil: instantiation copies the data segments.
    package let memoryImage: MemoryImage?
    /// Instances prepared ahead of the processes that take them (`InstancePool`): only for
    /// modules with a memory image (no start function, memory a constant of the module).
    package let pool: InstancePool?

    /// Loads a module from its binary form.
    public convenience init(bytes: [UInt8], name: String = "module") throws(GuestModuleError) {
        try self.init(bytes: bytes, name: name, memoryImages: true)
    }

    /// Loads a module from its binary form; `memoryImages: false` always copies data segments
    /// at instantiation (the reference the image path is compared with).
    package convenience init(bytes: [UInt8], name: String, memoryImages: Bool) throws(GuestModuleError) {
        try self.init(bytes: bytes, name: name, memoryImages: memoryImages, pooling: true)
    }

    /// Loads a module; `pooling: false` gives it no instance pool, so that every process
    /// instantiates it on its own thread (what the pool is compared with); `preparer` fills
    /// its pool.
    package init(
        bytes: [UInt8], name: String, memoryImages: Bool, pooling: Bool, preparer: InstancePreparer = .shared
    ) throws(GuestModuleError) {
        let binary = GuestModule.withoutCustomSections(bytes)
        let loaded: (Module, importTypes: [String: FunctionType], exportTypes: [String: FunctionType])
        var image: MemoryImage?
        // A module that does not load without its segments' bytes is loaded whole, so that its
        // error is the one the copying path reports.
        if memoryImages, let layout = MemoryImageLayout(bytes: binary),
            let built = MemoryImage(layout: layout, binary: binary),
            let stripped = try? GuestModule.load(layout.strippedBinary, name: name)
        {
            loaded = stripped
            image = built
        } else {
            loaded = try GuestModule.load(binary, name: name)
        }
        let (module, importTypes, exportTypes) = loaded
        self.name = name
        self.byteCount = bytes.count
        self.wasm = module
        self.memoryImage = image
        self.pool = pooling ? image.map { InstancePool(initialMemoryBytes: $0.initialBytes, preparer: preparer) } : nil
        self.exportTypes = exportTypes
        self.importTypes = importTypes
        self.exportedFunctions = module.exports.compactMap { export in
            if case .function = export.descriptor { return export.name }
            return nil
        }
        pool?.module = self
    }

    /// Loads a module from a file: WebAssembly text when its name ends in `.wat`, else a
    /// binary module. The module's name is the file's last path component.
    public convenience init(path: String) throws(GuestModuleError) {
        let bytes = try GuestModule.readFile(path)
        let base = Paths.baseName(path)
        if path.hasSuffix(".wat") {
            try self.init(wat: String(decoding: bytes, as: UTF8.self), name: base)
        } else {
            try self.init(bytes: bytes, name: base)
        }
    }

    /// Loads a module from WebAssembly text (WAT).
    public convenience init(wat: String, name: String = "wat") throws(GuestModuleError) {
        let bytes: [UInt8]
        do {
            bytes = try wat2wasm(wat)
        } catch {
            throw .invalidText(name: name, reason: "\(error)")
        }
        try self.init(bytes: bytes, name: name)
    }

    /// Instantiates the module in `store` and puts its memory image in place, before any guest
    /// code runs. Returns the instance and how the image got into its memory (nil: no image).
    package func instantiate(
        store: Store, imports: Imports
    ) throws -> (instance: Instance, placement: MemoryImage.Placement?) {
        let instance = try wasm.instantiate(store: store, imports: imports)
        guard let memoryImage else { return (instance, nil) }
        guard let memory = instance.exports[memory: memoryImage.memoryExport] else {
            throw LunaTrap("module \(name) has no memory \"\(memoryImage.memoryExport)\" for its memory image")
        }
        return (instance, try memoryImage.place(into: memory))
    }

    /// The WebAssembly type of exported function `name`, if there is one.
    package func exportedFunctionType(_ name: String) -> FunctionType? { exportTypes[name] }

    /// The types of the exported functions, found while validating.
    private let exportTypes: [String: FunctionType]

    /// The declared type of function import `module`.`name`.
    package func importedFunctionType(module: String, name: String) -> FunctionType? {
        importTypes["\(module)::\(name)"]
    }

    /// Declared types of the function imports, by `module::name`.
    private let importTypes: [String: FunctionType]

    // MARK: - Loading steps

    /// Parses `binary` (custom sections already removed), checks its imports and validates it.
    private static func load(
        _ binary: [UInt8], name: String
    ) throws(GuestModuleError) -> (Module, importTypes: [String: FunctionType], exportTypes: [String: FunctionType]) {
        let module: Module
        do {
            module = try parseWasm(bytes: binary)
        } catch {
            throw .invalid(name: name, reason: "\(error)")
        }
        let importTypes = try checkImports(of: module, name: name)
        let exportTypes = try validateByInstantiating(module, name: name)
        return (module, importTypes, exportTypes)
    }

    /// `bytes` without its custom sections (names, producers, DWARF), or `bytes` itself when
    /// its section structure cannot be walked (the parser then reports the error).
    ///
    /// Nothing of the runtime reads them, and WasmKit reads the `name` section on each
    /// process's first trap to symbolicate a backtrace the runtime never shows: parsing the
    /// names of a large module's thousands of functions, per process, delayed every trap.
    static func withoutCustomSections(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 8 else { return bytes }
        var out: [UInt8] = []
        var i = 8
        var dropped = false
        var kept: [Range<Int>] = [0..<8]
        while i < bytes.count {
            let sectionStart = i
            let id = bytes[i]
            i += 1
            var size = 0, shift = 0
            while true {
                guard i < bytes.count, shift < 35 else { return bytes }
                let b = bytes[i]
                i += 1
                size |= Int(b & 0x7f) << shift
                shift += 7
                if b & 0x80 == 0 { break }
            }
            guard size <= bytes.count - i else { return bytes }
            i += size
            if id == 0 { dropped = true } else { kept.append(sectionStart..<i) }
        }
        guard dropped else { return bytes }
        out.reserveCapacity(kept.reduce(0) { $0 + $1.count })
        for range in kept { out.append(contentsOf: bytes[range]) }
        return out
    }

    private static func readFile(_ path: String) throws(GuestModuleError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(file) != 0 { throw .unreadable(path: path, reason: "read error") }
                break
            }
        }
        return bytes
    }

    /// Every function import must be provided with exactly the declared type; no other import
    /// kinds are provided.
    private static func checkImports(
        of module: Module, name: String
    ) throws(GuestModuleError) -> [String: FunctionType] {
        var missing: [String] = []
        var types: [String: FunctionType] = [:]
        for imp in module.imports {
            let qualified = "\(imp.module)::\(imp.name)"
            guard case .function(let typeIndex) = imp.descriptor else {
                let kind: String
                switch imp.descriptor {
                case .memory: kind = "a memory"
                case .table: kind = "a table"
                case .global: kind = "a global"
                default: kind = "a tag"
                }
                throw .unsupportedImport(name: name, import: qualified, kind: kind)
            }
            guard let declared = module.functionType(at: typeIndex) else {
                throw .invalid(name: name, reason: "import \(qualified) has an invalid type index")
            }
            types[qualified] = declared
            if let definition = HostFunctionCatalog.definition(module: imp.module, name: imp.name) {
                if declared != definition.type {
                    throw .importTypeMismatch(
                        name: name, import: qualified, declared: describe(declared),
                        provided: describe(definition.type))
                }
            } else if HostFunctionCatalog.isUnsupportedWASI(module: imp.module, name: imp.name) {
                if declared.results != [.i32] {
                    throw .importTypeMismatch(
                        name: name, import: qualified, declared: describe(declared),
                        provided: "a function returning i32 (errno)")
                }
            } else {
                missing.append(qualified)
            }
        }
        if !missing.isEmpty { throw .missingImports(name: name, imports: missing) }
        return types
    }

    /// Instantiates the module (without its start function) in a throwaway store of an engine
    /// that compiles eagerly: this runs WasmKit's full validation, including every function body.
    /// Returns the types of the exported functions.
    private static func validateByInstantiating(
        _ module: Module, name: String
    ) throws(GuestModuleError) -> [String: FunctionType] {
        var module = module
        module.dropStartFunction()
        let store = Store(engine: GuestEngine.validating)
        var imports = Imports()
        for imp in module.imports {
            guard case .function(let typeIndex) = imp.descriptor,
                let type = module.functionType(at: typeIndex)
            else { continue }
            imports.define(
                module: imp.module, name: imp.name,
                Function(store: store, type: type) { _, _ in
                    throw LunaTrap(reason: "validation stub called")
                })
        }
        let instance: Instance
        do {
            instance = try module.instantiate(store: store, imports: imports)
        } catch {
            throw .invalid(name: name, reason: "\(error)")
        }
        var types: [String: FunctionType] = [:]
        for (exportName, value) in instance.exports {
            if case .function(let function) = value { types[exportName] = function.type }
        }
        return types
    }

    static func describe(_ type: FunctionType) -> String {
        func list(_ types: [ValueType]) -> String { types.map { "\($0)" }.joined(separator: ", ") }
        return "(\(list(type.parameters))) -> (\(list(type.results)))"
    }
}
