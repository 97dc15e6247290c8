import ArgumentParser
import LunaRuntime
import TraceAnalysis
import TraceFormat

/// `--param VALUE` of `record` and `run`: the entry function's arguments, typed by its signature
/// (lunatic spawns entries with typed parameters; a program's `_start` takes none).
enum EntryParameters {
    static let help = ArgumentHelp(
        "A value for the entry function's next parameter (repeatable, in order): an integer "
            + "(decimal, or 0x hex; a negative one as --param=-5) for i32 and i64, 0x and up to 32 hex "
            + "digits for v128.",
        valueName: "VALUE")

    /// `values` as `entry`'s parameters; a wrong count or a value out of its type's range is
    /// reported on `io.err` and exits 64. An entry the module lacks yields no parameters (the
    /// spawn reports it).
    static func parse(
        _ values: [String], entry: String, module: GuestModule, name: String, io: CommandIO
    ) throws
        -> [GuestValue]
    {
        guard let type = module.exportedFunctionType(entry) else { return [] }
        let signature = "(" + type.parameters.map { "\($0)" }.joined(separator: ", ") + ")"
        guard values.count == type.parameters.count else {
            io.err.line(
                "luna-trace: \(name): entry '\(entry)' takes \(signature); \(values.count) --param value\(values.count == 1 ? "" : "s") given"
            )
            throw ArgumentParser.ExitCode(TraceExitCode.usage)
        }
        var out: [GuestValue] = []
        for (i, (text, type)) in zip(values, type.parameters).enumerated() {
            guard let value = value(text, as: "\(type)") else {
                io.err.line(
                    "luna-trace: \(name): --param \(text) is not a valid \(type) (parameter \(i + 1) of '\(entry)' \(signature))")
                throw ArgumentParser.ExitCode(TraceExitCode.usage)
            }
            out.append(value)
        }
        return out
    }

    /// `text` as a value of the WebAssembly type named `type` ("i32", "i64", "v128"), or nil.
    static func value(_ text: String, as type: String) -> GuestValue? {
        switch type {
        case "i32":
            guard let v = integer(text), v >= Int64(Int32.min), v <= Int64(UInt32.max) else { return nil }
            return .i32(Int32(truncatingIfNeeded: v))
        case "i64":
            if let v = integer(text) { return .i64(v) }
            guard let u = unsignedHex(text) ?? UInt64(text) else { return nil }
            return .i64(Int64(bitPattern: u))
        case "v128":
            let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : ""
            guard !digits.isEmpty, digits.count <= 32, digits.allSatisfy(\.isHexDigit) else { return nil }
            // Big-endian digits, the number's least significant byte first in the vector.
            guard let bigEndian = Hex.decode(String(repeating: "0", count: 32 - digits.count) + digits) else { return nil }
            let bytes = Array(bigEndian.reversed())
            return .v128(bytes)
        default:
            return nil
        }
    }

    /// A signed decimal or a 0x hex integer that fits an Int64.
    private static func integer(_ text: String) -> Int64? {
        if let v = Int64(text) { return v }
        if let u = unsignedHex(text), u <= UInt64(Int64.max) { return Int64(u) }
        return nil
    }

    private static func unsignedHex(_ text: String) -> UInt64? {
        guard text.lowercased().hasPrefix("0x") else { return nil }
        return UInt64(text.dropFirst(2), radix: 16)
    }
}
