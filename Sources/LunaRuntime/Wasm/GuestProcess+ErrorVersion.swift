import TraceFormat
import WasmKit

/// `lunatic::error` (error resources) and `lunatic::version`.
extension GuestProcess {
    /// The lunatic version Luna reproduces (the runtime of November 2022).
    package static let lunaticVersion: (major: UInt32, minor: UInt32, patch: UInt32) = (0, 12, 0)

    static let errorAndVersionFunctions: [HostFunctionDefinition] = {
        let e = "lunatic::error", v = "lunatic::version"
        return [
            HostFunctionDefinition(e, "string_size", [.i64], [.i32]) { p, c in
                let id = c.u64(0)
                let start = p.tracing ? p.context.now() : 0
                let error = try p.errorResource(id, .errorStringSize, "lunatic::error::string_size")
                let size = UInt32(truncatingIfNeeded: error.message.utf8.count)
                p.recordCall(.errorStringSize, start: start, args: [Int64(bitPattern: id)], result: .value(Int64(size)))
                c.returnI32(size)
            },
            HostFunctionDefinition(e, "to_string", [.i64, .i32], []) { p, c in
                // lunatic reports both failures of to_string with string_size's name.
                let id = c.u64(0), ptr = c.u32(1)
                let start = p.tracing ? p.context.now() : 0
                let error = try p.errorResource(id, .errorToString, "lunatic::error::string_size")
                let memory = try p.exportedMemory(.errorToString, [Int64(bitPattern: id)])
                guard p.writeBytesIfInBounds(memory, ptr: ptr, Array(error.message.utf8)) else {
                    throw p.trap(.errorToString, [Int64(bitPattern: id)], "lunatic::error::string_size")
                }
                p.recordCall(.errorToString, start: start, args: [Int64(bitPattern: id)], text: error.message)
            },
            HostFunctionDefinition(e, "drop", [.i64], []) { p, c in
                try p.dropResource(.error, id: c.u64(0), event: .errorDrop, reason: "lunatic::error::drop")
            },
            HostFunctionDefinition(v, "major", [], [.i32]) { p, c in
                p.recordCall(
                    .version, start: p.tracing ? p.context.now() : 0, text: "major",
                    result: .value(Int64(lunaticVersion.major)))
                c.returnI32(lunaticVersion.major)
            },
            HostFunctionDefinition(v, "minor", [], [.i32]) { p, c in
                p.recordCall(
                    .version, start: p.tracing ? p.context.now() : 0, text: "minor",
                    result: .value(Int64(lunaticVersion.minor)))
                c.returnI32(lunaticVersion.minor)
            },
            HostFunctionDefinition(v, "patch", [], [.i32]) { p, c in
                p.recordCall(
                    .version, start: p.tracing ? p.context.now() : 0, text: "patch",
                    result: .value(Int64(lunaticVersion.patch)))
                c.returnI32(lunaticVersion.patch)
            },
        ]
    }()

    /// Error resource `id`, or a trap of `kind` with `reason`.
    private func errorResource(_ id: UInt64, _ kind: EventKind, _ reason: String) throws -> GuestErrorResource {
        if let error = context.resource(.error, id: id) as? GuestErrorResource { return error }
        throw trap(kind, [Int64(bitPattern: id)], reason)
    }
}
