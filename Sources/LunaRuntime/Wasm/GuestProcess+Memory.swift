import TraceFormat
import WasmKit

/// Bounds-checked access to guest memory.
///
/// WasmKit's raw accessors (`withUnsafeBufferPointer(offset:count:)`) stop the host on an
/// out-of-range access, so every guest pointer and length is checked here first, in 64-bit
/// arithmetic (a 32-bit `ptr + len` could wrap). An out-of-range range traps the guest with
/// lunatic's reason and is recorded as the call's trap.
extension GuestProcess {
    /// lunatic's trap text when the module exports no memory.
    static let noMemoryExport = "No export `memory` found"

    /// Whether `[ptr, ptr + count)` lies inside a memory of `size` bytes.
    @inline(__always)
    package static func inBounds(ptr: UInt32, count: UInt64, size: Int) -> Bool {
        // ptr < 2^32 and count ≤ 2^35 here, so the sum cannot overflow UInt64.
        UInt64(ptr) + count <= UInt64(size)
    }

    /// Records a trap of host call `kind` (with the call's `args`) and returns the error to throw.
    package func trap(_ kind: EventKind, _ args: EventArguments, _ reason: String) -> LunaTrap {
        context.recordTrap(kind, args: args, reason: reason)
        return LunaTrap(reason: reason)
    }

    /// The exported memory, or lunatic's "no memory" trap recorded as a trap of `kind`.
    @inline(__always)
    package func exportedMemory(_ kind: EventKind, _ args: @autoclosure () -> EventArguments) throws -> Memory {
        if let memory { return memory }
        throw trap(kind, args(), GuestProcess.noMemoryExport)
    }

    /// Checks `[ptr, ptr + count)` against the memory, or traps as `kind` with `reason`.
    @inline(__always)
    package func checkRange(
        _ memory: Memory, ptr: UInt32, count: UInt64,
        _ kind: EventKind, _ args: @autoclosure () -> EventArguments, reason: String
    ) throws {
        if !GuestProcess.inBounds(ptr: ptr, count: count, size: memory.byteCount) {
            throw trap(kind, args(), reason)
        }
    }

    /// Runs `body` on guest bytes `[ptr, ptr + count)`, which the caller has checked.
    @inline(__always)
    package func withCheckedBytes<T>(
        _ memory: Memory, ptr: UInt32, count: Int, _ body: (UnsafeRawBufferPointer) throws -> T
    ) rethrows -> T {
        if count == 0 { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try memory.withUnsafeBufferPointer(offset: UInt(ptr), count: count, body)
    }

    /// Runs `body` on writable guest bytes `[ptr, ptr + count)`, which the caller has checked.
    @inline(__always)
    package func withCheckedMutableBytes<T>(
        _ memory: Memory, ptr: UInt32, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T
    ) rethrows -> T {
        if count == 0 { return try body(UnsafeMutableRawBufferPointer(start: nil, count: 0)) }
        return try memory.withUnsafeMutableBufferPointer(offset: UInt(ptr), count: count, body)
    }

    /// Copies checked guest bytes out.
    package func copyCheckedBytes(_ memory: Memory, ptr: UInt32, count: Int) -> [UInt8] {
        withCheckedBytes(memory, ptr: ptr, count: count) { Array($0) }
    }

    /// Writes `bytes` at `ptr` if they fit; returns false (touching nothing) otherwise.
    package func writeBytesIfInBounds(_ memory: Memory, ptr: UInt32, _ bytes: [UInt8]) -> Bool {
        guard GuestProcess.inBounds(ptr: ptr, count: UInt64(bytes.count), size: memory.byteCount) else {
            return false
        }
        withCheckedMutableBytes(memory, ptr: ptr, count: bytes.count) { dst in
            bytes.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
        return true
    }

    /// Writes a little-endian u64 at `ptr` if it fits.
    package func writeU64IfInBounds(_ memory: Memory, ptr: UInt32, _ value: UInt64) -> Bool {
        writeBytesIfInBounds(memory, ptr: ptr, (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    /// Writes a little-endian u32 at `ptr` if it fits.
    package func writeU32IfInBounds(_ memory: Memory, ptr: UInt32, _ value: UInt32) -> Bool {
        writeBytesIfInBounds(memory, ptr: ptr, (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) })
    }

    /// Reads a little-endian u32 at `ptr` if it fits.
    package func readU32IfInBounds(_ memory: Memory, ptr: UInt32) -> UInt32? {
        guard GuestProcess.inBounds(ptr: ptr, count: 4, size: memory.byteCount) else { return nil }
        return withCheckedBytes(memory, ptr: ptr, count: 4) { $0.loadUnaligned(as: UInt32.self).littleEndian }
    }
}
