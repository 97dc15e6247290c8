import TraceFormat
import WasmKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// WASI preview 1 errno values Luna returns.
package enum WASIErrno {
    static let success: UInt32 = 0
    static let badf: UInt32 = 8
    static let fault: UInt32 = 21
    static let inval: UInt32 = 28
    static let nosys: UInt32 = 52
}

/// The WASI subset guests need to print and exit (`wasi_snapshot_preview1`).
///
/// Luna's own instead of WasmKitWASI: output must go to a per-environment `GuestOutput` sink
/// (tests and `luna-trace test` capture it) and `proc_exit` must end only its own process thread.
/// fd 1 and 2 go to the sink; arguments are `GuestOptions.arguments`; the environment is empty.
/// Pointers out of range give `EFAULT` (WASI reports, it does not trap). Other preview 1
/// functions are linked as stubs returning `ENOSYS` (`fd_prestat_get` returns `EBADF`: no
/// preopened directories).
extension GuestProcess {
    /// The import module name.
    static let wasiModule = "wasi_snapshot_preview1"

    /// Preview 1 functions answered with ENOSYS.
    static let unsupportedWASINames: Set<String> = [
        "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_set_flags",
        "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times",
        "fd_pread", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber", "fd_seek", "fd_sync",
        "fd_tell", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
        "path_link", "path_open", "path_readlink", "path_remove_directory", "path_rename",
        "path_symlink", "path_unlink_file", "poll_oneoff", "proc_raise", "sock_accept",
        "sock_recv", "sock_send", "sock_shutdown",
    ]

    static let wasiFunctions: [HostFunctionDefinition] = {
        let w = wasiModule
        return [
            HostFunctionDefinition(w, "fd_write", [.i32, .i32, .i32, .i32], [.i32]) { p, c in
                c.returnI32(p.fdWrite(fd: c.u32(0), iovs: c.u32(1), count: c.u32(2), written: c.u32(3)))
            },
            HostFunctionDefinition(w, "fd_fdstat_get", [.i32, .i32], [.i32]) { p, c in
                c.returnI32(p.fdFdstatGet(fd: c.u32(0), ptr: c.u32(1)))
            },
            HostFunctionDefinition(w, "fd_prestat_get", [.i32, .i32], [.i32]) { p, c in
                p.recordWASI("fd_prestat_get", start: p.tracing ? p.context.now() : 0, args: [Int64(c.u32(0))],
                             errno: WASIErrno.badf)
                c.returnI32(WASIErrno.badf)
            },
            HostFunctionDefinition(w, "fd_prestat_dir_name", [.i32, .i32, .i32], [.i32]) { p, c in
                p.recordWASI("fd_prestat_dir_name", start: p.tracing ? p.context.now() : 0, args: [Int64(c.u32(0))],
                             errno: WASIErrno.badf)
                c.returnI32(WASIErrno.badf)
            },
            HostFunctionDefinition(w, "proc_exit", [.i32], []) { p, c in
                let code = c.u32(0)
                p.recordWASI("proc_exit", start: p.tracing ? p.context.now() : 0, args: [Int64(code)], errno: nil)
                throw GuestExit(code: code)
            },
            HostFunctionDefinition(w, "args_sizes_get", [.i32, .i32], [.i32]) { p, c in
                c.returnI32(p.stringsSizesGet("args_sizes_get", p.options.arguments, countPtr: c.u32(0), sizePtr: c.u32(1)))
            },
            HostFunctionDefinition(w, "args_get", [.i32, .i32], [.i32]) { p, c in
                c.returnI32(p.stringsGet("args_get", p.options.arguments, pointersPtr: c.u32(0), bufferPtr: c.u32(1)))
            },
            HostFunctionDefinition(w, "environ_sizes_get", [.i32, .i32], [.i32]) { p, c in
                c.returnI32(p.stringsSizesGet("environ_sizes_get", [], countPtr: c.u32(0), sizePtr: c.u32(1)))
            },
            HostFunctionDefinition(w, "environ_get", [.i32, .i32], [.i32]) { p, c in
                c.returnI32(p.stringsGet("environ_get", [], pointersPtr: c.u32(0), bufferPtr: c.u32(1)))
            },
            HostFunctionDefinition(w, "clock_time_get", [.i32, .i64, .i32], [.i32]) { p, c in
                c.returnI32(p.clockTimeGet(clock: c.u32(0), ptr: c.u32(2)))
            },
            HostFunctionDefinition(w, "clock_res_get", [.i32, .i32], [.i32]) { p, c in
                let clock = c.u32(0)
                let start = p.tracing ? p.context.now() : 0
                guard clock <= 3 else {
                    p.recordWASI("clock_res_get", start: start, args: [Int64(clock)], errno: WASIErrno.inval)
                    return c.returnI32(WASIErrno.inval)
                }
                guard let memory = p.memory, p.writeU64IfInBounds(memory, ptr: c.u32(1), 1) else {
                    p.recordWASI("clock_res_get", start: start, args: [Int64(clock)], errno: WASIErrno.fault)
                    return c.returnI32(WASIErrno.fault)
                }
                p.recordWASI("clock_res_get", start: start, args: [Int64(clock)], errno: WASIErrno.success)
                c.returnI32(WASIErrno.success)
            },
            HostFunctionDefinition(w, "random_get", [.i32, .i32], [.i32]) { p, c in
                c.returnI32(p.randomGet(ptr: c.u32(0), len: c.u32(1)))
            },
            HostFunctionDefinition(w, "sched_yield", [], [.i32]) { p, c in
                p.recordWASI("sched_yield", start: p.tracing ? p.context.now() : 0, args: [], errno: WASIErrno.success)
                sched_yield()
                c.returnI32(WASIErrno.success)
            },
        ]
    }()

    /// Records a WASI call as a `wasi_call` event (text = function name, result = errno).
    package func recordWASI(_ name: String, start: UInt64, args: EventArguments, errno: UInt32?,
                            payload: Payload = .none) {
        guard tracing else { return }
        context.record(TraceEvent(kind: .wasiCall, pid: context.id, start: start, end: context.now(),
                                  args: args, payload: payload, text: name,
                                  result: errno.map { .value(Int64($0)) } ?? .none))
    }

    /// `fd_write(fd, iovs, iovs_len, nwritten_ptr) -> errno`: fd 1 and 2 to the output sink.
    private func fdWrite(fd: UInt32, iovs: UInt32, count: UInt32, written: UInt32) -> UInt32 {
        let start = tracing ? context.now() : 0
        let args: EventArguments = [Int64(fd), Int64(count)]
        guard fd == 1 || fd == 2 else {
            recordWASI("fd_write", start: start, args: args, errno: WASIErrno.badf)
            return WASIErrno.badf
        }
        guard let memory,
              GuestProcess.inBounds(ptr: iovs, count: UInt64(count) * 8, size: memory.byteCount) else {
            recordWASI("fd_write", start: start, args: args, errno: WASIErrno.fault)
            return WASIErrno.fault
        }
        // Check every buffer before writing any, so a bad vector writes nothing.
        var vectors: [(ptr: UInt32, len: UInt32)] = []
        vectors.reserveCapacity(Int(count))
        var total: UInt64 = 0
        for i in 0..<count {
            let ptr = readU32IfInBounds(memory, ptr: iovs + i * 8) ?? 0
            let len = readU32IfInBounds(memory, ptr: iovs + i * 8 + 4) ?? 0
            guard GuestProcess.inBounds(ptr: ptr, count: UInt64(len), size: memory.byteCount) else {
                recordWASI("fd_write", start: start, args: args, errno: WASIErrno.fault)
                return WASIErrno.fault
            }
            vectors.append((ptr, len))
            total += UInt64(len)
        }
        guard total <= UInt64(UInt32.max), writeU32IfInBounds(memory, ptr: written, UInt32(total)) else {
            recordWASI("fd_write", start: start, args: args, errno: WASIErrno.fault)
            return WASIErrno.fault
        }
        var captured: [UInt8] = []
        for vector in vectors where vector.len > 0 {
            withCheckedBytes(memory, ptr: vector.ptr, count: Int(vector.len)) { bytes in
                options.output.write(pid: context.id, fd: Int32(fd), bytes: bytes)
                if tracing { captured.append(contentsOf: bytes) }
            }
        }
        recordWASI("fd_write", start: start, args: args, errno: WASIErrno.success,
                   payload: tracing ? .bytes(captured) : .none)
        return WASIErrno.success
    }

    /// `fd_fdstat_get(fd, ptr) -> errno`: fd 0–2 are character devices.
    private func fdFdstatGet(fd: UInt32, ptr: UInt32) -> UInt32 {
        let start = tracing ? context.now() : 0
        guard fd <= 2 else {
            recordWASI("fd_fdstat_get", start: start, args: [Int64(fd)], errno: WASIErrno.badf)
            return WASIErrno.badf
        }
        // struct fdstat { u8 filetype; u16 flags @2; u64 rights_base @8; u64 rights_inheriting @16 }
        var stat = [UInt8](repeating: 0, count: 24)
        stat[0] = 2  // character_device
        let rights: UInt64 = fd == 0 ? 0x2 : 0x40  // fd_read / fd_write
        for i in 0..<8 { stat[8 + i] = UInt8(truncatingIfNeeded: rights >> (8 * UInt64(i))) }
        guard let memory, writeBytesIfInBounds(memory, ptr: ptr, stat) else {
            recordWASI("fd_fdstat_get", start: start, args: [Int64(fd)], errno: WASIErrno.fault)
            return WASIErrno.fault
        }
        recordWASI("fd_fdstat_get", start: start, args: [Int64(fd)], errno: WASIErrno.success)
        return WASIErrno.success
    }

    /// `args_sizes_get` / `environ_sizes_get`: count and total NUL-terminated size.
    private func stringsSizesGet(_ name: String, _ strings: [String], countPtr: UInt32, sizePtr: UInt32) -> UInt32 {
        let start = tracing ? context.now() : 0
        let size = strings.reduce(0) { $0 + $1.utf8.count + 1 }
        guard let memory,
              GuestProcess.inBounds(ptr: countPtr, count: 4, size: memory.byteCount),
              GuestProcess.inBounds(ptr: sizePtr, count: 4, size: memory.byteCount) else {
            recordWASI(name, start: start, args: [], errno: WASIErrno.fault)
            return WASIErrno.fault
        }
        _ = writeU32IfInBounds(memory, ptr: countPtr, UInt32(strings.count))
        _ = writeU32IfInBounds(memory, ptr: sizePtr, UInt32(size))
        recordWASI(name, start: start, args: [Int64(strings.count), Int64(size)], errno: WASIErrno.success)
        return WASIErrno.success
    }

    /// `args_get` / `environ_get`: pointers at `pointersPtr`, NUL-terminated strings at `bufferPtr`.
    private func stringsGet(_ name: String, _ strings: [String], pointersPtr: UInt32, bufferPtr: UInt32) -> UInt32 {
        let start = tracing ? context.now() : 0
        var buffer: [UInt8] = []
        var pointers: [UInt8] = []
        for string in strings {
            let address = UInt64(bufferPtr) + UInt64(buffer.count)
            for i in 0..<4 { pointers.append(UInt8(truncatingIfNeeded: address >> (8 * UInt64(i)))) }
            buffer.append(contentsOf: string.utf8)
            buffer.append(0)
        }
        guard let memory,
              GuestProcess.inBounds(ptr: pointersPtr, count: UInt64(pointers.count), size: memory.byteCount),
              GuestProcess.inBounds(ptr: bufferPtr, count: UInt64(buffer.count), size: memory.byteCount) else {
            recordWASI(name, start: start, args: [], errno: WASIErrno.fault)
            return WASIErrno.fault
        }
        _ = writeBytesIfInBounds(memory, ptr: pointersPtr, pointers)
        _ = writeBytesIfInBounds(memory, ptr: bufferPtr, buffer)
        recordWASI(name, start: start, args: [Int64(strings.count)], errno: WASIErrno.success)
        return WASIErrno.success
    }

    /// `clock_time_get(id, precision, time_ptr) -> errno`: 0 realtime, 1 monotonic, 2/3 CPU time
    /// (answered with the monotonic clock).
    private func clockTimeGet(clock: UInt32, ptr: UInt32) -> UInt32 {
        let start = tracing ? context.now() : 0
        var ts = timespec()
        switch clock {
        case 0: clock_gettime(CLOCK_REALTIME, &ts)
        case 1, 2, 3: clock_gettime(CLOCK_MONOTONIC, &ts)
        default:
            recordWASI("clock_time_get", start: start, args: [Int64(clock)], errno: WASIErrno.inval)
            return WASIErrno.inval
        }
        let ns = UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
        guard let memory, writeU64IfInBounds(memory, ptr: ptr, ns) else {
            recordWASI("clock_time_get", start: start, args: [Int64(clock)], errno: WASIErrno.fault)
            return WASIErrno.fault
        }
        recordWASI("clock_time_get", start: start, args: [Int64(clock)], errno: WASIErrno.success)
        return WASIErrno.success
    }

    /// `random_get(buf, len) -> errno`.
    private func randomGet(ptr: UInt32, len: UInt32) -> UInt32 {
        let start = tracing ? context.now() : 0
        guard let memory, GuestProcess.inBounds(ptr: ptr, count: UInt64(len), size: memory.byteCount) else {
            recordWASI("random_get", start: start, args: [Int64(len)], errno: WASIErrno.fault)
            return WASIErrno.fault
        }
        var generator = SystemRandomNumberGenerator()
        withCheckedMutableBytes(memory, ptr: ptr, count: Int(len)) { bytes in
            for i in 0..<bytes.count { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        }
        recordWASI("random_get", start: start, args: [Int64(len)], errno: WASIErrno.success)
        return WASIErrno.success
    }
}
