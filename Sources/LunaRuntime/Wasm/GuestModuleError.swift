/// Why a WebAssembly module could not be loaded as a guest.
public enum GuestModuleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The WAT text does not parse.
    case invalidText(name: String, reason: String)
    /// The bytes are not a valid WebAssembly module (parse or validation error).
    case invalid(name: String, reason: String)
    /// The module imports functions the runtime does not provide (`module::name` each).
    case missingImports(name: String, imports: [String])
    /// An import exists but the module declares it with another WebAssembly type.
    case importTypeMismatch(name: String, import: String, declared: String, provided: String)
    /// The module imports a memory, table, global or tag; the runtime provides only functions.
    case unsupportedImport(name: String, import: String, kind: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read WebAssembly module \(path): \(reason)"
        case .invalidText(let name, let reason):
            return "module \(name): invalid WAT text: \(reason)"
        case .invalid(let name, let reason):
            return "module \(name): invalid WebAssembly: \(reason)"
        case .missingImports(let name, let imports):
            return "module \(name) imports functions the runtime does not provide: "
                + imports.joined(separator: ", ")
        case .importTypeMismatch(let name, let imp, let declared, let provided):
            return "module \(name) imports \(imp) as \(declared), but the runtime provides \(provided)"
        case .unsupportedImport(let name, let imp, let kind):
            return "module \(name) imports \(kind) \(imp); the runtime provides only functions"
        }
    }
}
