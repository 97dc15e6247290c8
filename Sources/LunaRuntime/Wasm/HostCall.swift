import WasmKit

/// The parameters and result slots of one host-function call, as WasmKit hands them over.
///
/// Valid only during the call. Accessors read the WebAssembly value the import's type declares
/// (the catalog fixes that type, so a mismatch cannot reach here; it reads as 0 defensively).
package struct HostCall {
    let params: UnsafeBufferPointer<Value>
    let results: UnsafeMutableBufferPointer<Value>

    /// Parameter `i` as an unsigned i32 (pointers, lengths, flags).
    @inline(__always)
    func u32(_ i: Int) -> UInt32 {
        if case .i32(let v) = params[i] { return v }
        return 0
    }

    /// Parameter `i` as an unsigned i64 (ids, timeouts, capacities).
    @inline(__always)
    func u64(_ i: Int) -> UInt64 {
        if case .i64(let v) = params[i] { return v }
        return 0
    }

    /// Parameter `i` as a signed i64 (tags, link tags, `-1` module/config ids).
    @inline(__always)
    func i64(_ i: Int) -> Int64 { Int64(bitPattern: u64(i)) }

    /// Sets the single i32 result.
    @inline(__always)
    func returnI32(_ v: UInt32) { results[0] = .i32(v) }

    /// Sets the single i32 result from a signed value.
    @inline(__always)
    func returnI32(signed v: Int32) { results[0] = .i32(UInt32(bitPattern: v)) }

    /// Sets the single i64 result.
    @inline(__always)
    func returnI64(_ v: UInt64) { results[0] = .i64(v) }

    /// Sets the single i64 result from a signed value.
    @inline(__always)
    func returnI64(signed v: Int64) { results[0] = .i64(UInt64(bitPattern: v)) }
}
