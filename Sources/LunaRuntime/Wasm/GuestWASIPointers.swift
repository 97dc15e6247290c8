import WasmKit

/// The guest memory each WASI preview 1 call touches, checked before WasmKit's WASI runs it.
///
/// WasmKit's WASI reaches guest memory through `Memory`'s `GuestMemory` accessors, which stop
/// the host process (`precondition`) on an out-of-range access instead of reporting it. So every
/// pointer a call will dereference — fixed-size results, strings, buffers, and each iovec of an
/// iovec array — is checked here first; a call with any range outside memory is answered with
/// `EFAULT` (as wasmtime answers it) without running, so it has no effect at all.
///
/// Ranges are checked from the pointer rounded up to 8 (WasmKit aligns struct fields as it
/// writes them), in 64-bit arithmetic.
enum GuestWASIPointers {
    /// One range a call touches, described by its parameters.
    enum Range {
        /// `size` bytes at parameter `pointer`.
        case fixed(pointer: Int, size: UInt64)
        /// Parameter `length` bytes at parameter `pointer`.
        case sized(pointer: Int, length: Int)
        /// Parameter `count` records of `size` bytes at parameter `pointer`.
        case array(pointer: Int, count: Int, size: UInt64)
        /// An iovec array (parameter `count` × 8 bytes at parameter `pointer`) and every buffer
        /// it names.
        case iovecs(pointer: Int, count: Int)
        /// `args_get`/`environ_get`: `count` pointers at parameter 0, `bytes` at parameter 1.
        case strings
    }

    /// The ranges of each preview 1 function (functions not listed take no pointers).
    static let ranges: [String: [Range]] = [
        "args_get": [.strings],
        "args_sizes_get": [.fixed(pointer: 0, size: 4), .fixed(pointer: 1, size: 4)],
        "environ_get": [.strings],
        "environ_sizes_get": [.fixed(pointer: 0, size: 4), .fixed(pointer: 1, size: 4)],
        "clock_res_get": [.fixed(pointer: 1, size: 8)],
        "clock_time_get": [.fixed(pointer: 2, size: 8)],
        "fd_fdstat_get": [.fixed(pointer: 1, size: 24)],
        "fd_filestat_get": [.fixed(pointer: 1, size: 64)],
        "fd_pread": [.iovecs(pointer: 1, count: 2), .fixed(pointer: 4, size: 4)],
        "fd_prestat_dir_name": [.sized(pointer: 1, length: 2)],
        "fd_prestat_get": [.fixed(pointer: 1, size: 8)],
        "fd_pwrite": [.iovecs(pointer: 1, count: 2), .fixed(pointer: 4, size: 4)],
        "fd_read": [.iovecs(pointer: 1, count: 2), .fixed(pointer: 3, size: 4)],
        "fd_readdir": [.sized(pointer: 1, length: 2), .fixed(pointer: 4, size: 4)],
        "fd_seek": [.fixed(pointer: 3, size: 8)],
        "fd_tell": [.fixed(pointer: 1, size: 8)],
        "fd_write": [.iovecs(pointer: 1, count: 2), .fixed(pointer: 3, size: 4)],
        "path_create_directory": [.sized(pointer: 1, length: 2)],
        "path_filestat_get": [.sized(pointer: 2, length: 3), .fixed(pointer: 4, size: 64)],
        "path_filestat_set_times": [.sized(pointer: 2, length: 3)],
        "path_link": [.sized(pointer: 2, length: 3), .sized(pointer: 5, length: 6)],
        "path_open": [.sized(pointer: 2, length: 3), .fixed(pointer: 8, size: 4)],
        "path_readlink": [.sized(pointer: 1, length: 2), .sized(pointer: 3, length: 4), .fixed(pointer: 5, size: 4)],
        "path_remove_directory": [.sized(pointer: 1, length: 2)],
        "path_rename": [.sized(pointer: 1, length: 2), .sized(pointer: 4, length: 5)],
        "path_symlink": [.sized(pointer: 0, length: 1), .sized(pointer: 3, length: 4)],
        "path_unlink_file": [.sized(pointer: 1, length: 2)],
        "poll_oneoff": [
            .array(pointer: 0, count: 2, size: 48), .array(pointer: 1, count: 2, size: 32),
            .fixed(pointer: 3, size: 4),
        ],
        "random_get": [.sized(pointer: 0, length: 1)],
        "sock_accept": [.fixed(pointer: 2, size: 4)],
        "sock_recv": [.iovecs(pointer: 1, count: 2), .fixed(pointer: 4, size: 4), .fixed(pointer: 5, size: 2)],
        "sock_send": [.iovecs(pointer: 1, count: 2), .fixed(pointer: 4, size: 4)],
    ]

    /// Whether every range call `name` with `params` would touch lies inside `memory`.
    /// `strings` gives the count and NUL-terminated byte size of what `args_get`/`environ_get`
    /// write.
    static func inBounds(
        _ name: String, _ params: UnsafeBufferPointer<Value>, memory: Memory,
        strings: (String) -> (count: UInt64, bytes: UInt64)
    ) -> Bool {
        guard let ranges = ranges[name] else { return true }
        let size = UInt64(memory.byteCount)
        func u32(_ i: Int) -> UInt64 {
            guard i < params.count, case .i32(let v) = params[i] else { return 0 }
            return UInt64(v)
        }
        func fits(_ pointer: UInt64, _ count: UInt64) -> Bool {
            // pointer < 2^32 and count < 2^38 here: no overflow.
            let aligned = count == 0 ? pointer : (pointer + 7) & ~7
            return aligned + count <= size && pointer + count <= size
        }
        for range in ranges {
            switch range {
            case .fixed(let p, let n):
                guard fits(u32(p), n) else { return false }
            case .sized(let p, let l):
                guard fits(u32(p), 0), u32(p) + u32(l) <= size else { return false }
            case .array(let p, let c, let n):
                guard fits(u32(p), u32(c) * n) else { return false }
            case .iovecs(let p, let c):
                let base = u32(p), count = u32(c)
                guard fits(base, count * 8) else { return false }
                for i in 0..<count {
                    let entry = UInt32(base + i * 8)
                    let (buffer, length) = memory.withUnsafeBufferPointer(offset: UInt(entry), count: 8) {
                        (
                            UInt64($0.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian),
                            UInt64($0.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
                        )
                    }
                    guard buffer + length <= size else { return false }
                }
            case .strings:
                let (count, bytes) = strings(name)
                guard fits(u32(0), count * 4), u32(1) + bytes <= size else { return false }
            }
        }
        return true
    }

    /// The bytes an `fd_write` with these checked parameters wrote (the first `written` bytes
    /// of its buffers), for the trace payload.
    static func writtenBytes(_ params: UnsafeBufferPointer<Value>, written: UInt32, memory: Memory) -> [UInt8] {
        guard params.count >= 3, case .i32(let base) = params[1], case .i32(let count) = params[2] else { return [] }
        var bytes: [UInt8] = []
        var remaining = Int(written)
        for i in 0..<UInt64(count) where remaining > 0 {
            let (buffer, length) = memory.withUnsafeBufferPointer(offset: UInt(UInt64(base) + i * 8), count: 8) {
                (
                    UInt($0.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian),
                    Int($0.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
                )
            }
            let n = min(length, remaining)
            if n > 0 {
                memory.withUnsafeBufferPointer(offset: buffer, count: n) { bytes.append(contentsOf: $0) }
            }
            remaining -= n
        }
        return bytes
    }
}
