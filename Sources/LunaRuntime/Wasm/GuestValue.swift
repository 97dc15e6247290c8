import WasmKit

/// A parameter of a guest entry function.
public enum GuestValue: Sendable, Hashable {
    /// A WebAssembly i32.
    case i32(Int32)
    /// A WebAssembly i64.
    case i64(Int64)
    /// A WebAssembly v128 (16 bytes, little-endian lane order).
    case v128([UInt8])

    /// The value WasmKit passes.
    package var wasmValue: Value {
        switch self {
        case .i32(let v): return .i32(UInt32(bitPattern: v))
        case .i64(let v): return .i64(UInt64(bitPattern: v))
        case .v128(let bytes):
            var b = Array(bytes.prefix(16))
            while b.count < 16 { b.append(0) }
            return .v128(V128(bytes: b))
        }
    }

    /// The WebAssembly type.
    package var valueType: ValueType {
        switch self {
        case .i32: return .i32
        case .i64: return .i64
        case .v128: return .v128
        }
    }

    /// Size of one encoded spawn parameter: a type byte and a 16-byte little-endian value.
    public static let encodedSize = 17

    /// Decodes lunatic's spawn parameter array (`lunatic::process::spawn`): chunks of 17 bytes,
    /// byte 0 the WebAssembly type (0x7F i32, 0x7E i64, 0x7B v128), bytes 1…16 the value as a
    /// little-endian u128 (i32/i64 take its low bits). Throws lunatic's error text.
    package static func decodeSpawnParams(_ bytes: UnsafeRawBufferPointer) throws(LunaTrap) -> [GuestValue] {
        let whole = bytes.count / encodedSize
        var values: [GuestValue] = []
        values.reserveCapacity(whole)
        for chunk in 0..<whole {
            let base = chunk * encodedSize
            var low: UInt64 = 0
            for i in 0..<8 { low |= UInt64(bytes[base + 1 + i]) << (8 * UInt64(i)) }
            switch bytes[base] {
            case 0x7F: values.append(.i32(Int32(truncatingIfNeeded: low)))
            case 0x7E: values.append(.i64(Int64(bitPattern: low)))
            case 0x7B: values.append(.v128(Array(bytes[(base + 1)..<(base + 17)])))
            default: throw LunaTrap(reason: "Unsupported type ID")
            }
        }
        let remainder = bytes.count - whole * encodedSize
        if remainder != 0 {
            throw LunaTrap(reason: "Params array must be in chunks of 17 bytes, but \(remainder) bytes remained")
        }
        return values
    }

    /// Encodes values the way `decodeSpawnParams` reads them (for hosts building spawn params).
    public static func encodeSpawnParams(_ values: [GuestValue]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * encodedSize)
        for value in values {
            switch value {
            case .i32(let v):
                out.append(0x7F)
                let u = UInt64(bitPattern: Int64(v))
                for i in 0..<16 { out.append(i < 8 ? UInt8(truncatingIfNeeded: u >> (8 * UInt64(i))) : (v < 0 ? 0xFF : 0)) }
            case .i64(let v):
                out.append(0x7E)
                let u = UInt64(bitPattern: v)
                for i in 0..<16 { out.append(i < 8 ? UInt8(truncatingIfNeeded: u >> (8 * UInt64(i))) : (v < 0 ? 0xFF : 0)) }
            case .v128(let bytes):
                out.append(0x7B)
                for i in 0..<16 { out.append(i < bytes.count ? bytes[i] : 0) }
            }
        }
        return out
    }
}
