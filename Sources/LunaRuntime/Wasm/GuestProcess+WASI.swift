import TraceFormat
@_spi(WASIPlatform) import WASI
import WasmKit
import WasmKitWASI

/// WASI preview 1 errno values Luna itself answers with (the rest come from WasmKit's WASI).
package enum WASIErrno {
    static let success: UInt32 = 0
    static let badf: UInt32 = 8
    static let fault: UInt32 = 21
    static let inval: UInt32 = 28
    static let nosys: UInt32 = 52
}

/// WASI preview 1 (`wasi_snapshot_preview1`) through WasmKit's implementation
/// (`WASIBridgeToHost`), with a tracing shim around each of its functions.
///
/// Every preview 1 function WasmKit defines is provided, with WasmKit's exact type. A call
/// runs WasmKit's own function against the process's `GuestWASI` (created at the first call),
/// so guests see WasmKit's WASI: arguments, environment variables and preopened directories of
/// the process's config (`GuestProcess+WasiConfig.swift`), host clocks, randomness and files.
/// The shim around it:
/// - records each call as a `wasi_call` event (text = function name, args = the parameters as
///   passed, result = errno; `fd_write` carries the bytes written as payload);
/// - checks every guest range the call touches first (`GuestWASIPointers`): WasmKit's memory
///   accessors would stop the host on a wild pointer, so such a call is answered with `EFAULT`
///   without running;
/// - turns `proc_exit(code)` into the process's end (`GuestExit`: code 0 a normal end, any
///   other a failure `proc_exit(code)`), ending only the calling process;
/// - takes a pending kill first, like the other host calls.
///
/// fd 0–2 are `GuestStdioFile`s: output goes to the environment's `GuestOutput` sink.
extension GuestProcess {
    /// The import module name.
    static let wasiModule = "wasi_snapshot_preview1"

    /// Preview 1 functions answered with ENOSYS outside WasmKit's WASI: none (WasmKit defines
    /// every preview 1 function, stubbing the ones it does not implement with ENOSYS itself).
    static let unsupportedWASINames: Set<String> = []

    /// Every preview 1 function with WasmKit's type, each running through `callWASI`.
    static let wasiFunctions: [HostFunctionDefinition] = {
        GuestWASI.functionTypes.sorted { $0.key < $1.key }.map { name, type in
            HostFunctionDefinition(wasiModule, name, type.parameters, type.results) { p, c in
                try p.callWASI(name, c)
            }
        }
    }()

    /// Runs WasmKit's `name` for this process, traced, after checking its guest ranges.
    private func callWASI(_ name: String, _ c: HostCall) throws {
        let start = tracing ? context.now() : 0
        let args = tracing ? EventArguments(c.params.map(GuestProcess.wasiArgument)) : []
        try context.checkAlive()
        let memory = try exportedMemory(.wasiCall, args)
        let wasi = try wasiState(args)
        guard let function = wasi.functions[name] else {
            recordWASI(name, start: start, args: args, errno: WASIErrno.nosys)
            return c.returnI32(WASIErrno.nosys)
        }
        guard GuestWASIPointers.inBounds(name, c.params, memory: memory, strings: wasi.stringSizes) else {
            recordWASI(name, start: start, args: args, errno: WASIErrno.fault)
            if !c.results.isEmpty { c.returnI32(WASIErrno.fault) }
            return
        }
        let results: [Value]
        do {
            results = try function.implementation(memory, Array(c.params))
        } catch let exit as WASIExitCode {
            recordWASI(name, start: start, args: args, errno: nil)
            throw GuestExit(code: exit.code)
        } catch {
            throw trap(.wasiCall, args, "\(GuestProcess.wasiModule)::\(name): \(error)")
        }
        for (i, value) in results.enumerated() where i < c.results.count { c.results[i] = value }
        var errno: UInt32?
        if case .i32(let value)? = results.first { errno = value }
        var payload = Payload.none
        if tracing, name == "fd_write", errno == WASIErrno.success, c.params.count == 4,
            case .i32(let writtenPtr) = c.params[3], let written = readU32IfInBounds(memory, ptr: writtenPtr)
        {
            payload = .bytes(GuestWASIPointers.writtenBytes(c.params, written: written, memory: memory))
        }
        recordWASI(name, start: start, args: args, errno: errno, payload: payload)
    }

    /// The process's WASI, created on first use from its config; a failure (a preopened
    /// directory that cannot be opened) traps the call with the reason.
    private func wasiState(_ args: EventArguments) throws -> GuestWASI {
        if let wasi { return wasi }
        do {
            let created = try GuestWASI(settings: config.wasiSettings.value, pid: context.id, options: options)
            wasi = created
            return created
        } catch {
            throw trap(.wasiCall, args, "\(GuestProcess.wasiModule): \(error)")
        }
    }

    /// Closes the process's WASI (its preopened directories and files it opened); called when
    /// the process's run ends.
    package func closeWASI() {
        wasi?.close()
        wasi = nil
    }

    /// A WASI parameter as a trace argument (i32 unsigned, i64 as its bits).
    private static func wasiArgument(_ value: Value) -> Int64 {
        switch value {
        case .i32(let v): return Int64(v)
        case .i64(let v): return Int64(bitPattern: v)
        default: return 0
        }
    }

    /// Records a WASI call as a `wasi_call` event (text = function name, result = errno).
    package func recordWASI(
        _ name: String, start: UInt64, args: EventArguments, errno: UInt32?,
        payload: Payload = .none
    ) {
        guard tracing else { return }
        context.record(
            TraceEvent(
                kind: .wasiCall, pid: context.id, start: start, end: context.now(),
                args: args, payload: payload, text: name,
                result: errno.map { .value(Int64($0)) } ?? .none))
    }
}

/// One process's WASI: WasmKit's `WASIBridgeToHost` set up with the arguments, environment
/// variables and preopened directories of the process's config, and the process's stdio.
///
/// Used on the process's thread only; `close()` (also on deinit) releases what the bridge opened.
package final class GuestWASI {
    /// WasmKit's functions of this bridge, by name.
    let functions: [String: WASIHostFunction<Memory>]
    private let bridge: WASIBridgeToHost
    private let argumentsSize: (count: UInt64, bytes: UInt64)
    private let environmentSize: (count: UInt64, bytes: UInt64)
    private var closed = false

    /// A bridge for process `pid` with `settings`; output to `options.output`, input from
    /// `options.standardInput`.
    init(settings: GuestWasiSettings, pid: ProcessID, options: GuestOptions) throws {
        var environment: [String: String] = [:]
        for (key, value) in settings.environment { environment[key] = value }
        let stdio = WASIBridgeToHost.FileSystemOptions.host()
            .withStdio(
                stdin: GuestStdioFile(.input(fd: options.standardInput)),
                stdout: GuestStdioFile(.output(fd: 1, pid: pid, sink: options.output)),
                stderr: GuestStdioFile(.output(fd: 2, pid: pid, sink: options.output))
            )
            .withPreopens(settings.preopenedDirectories.map { .init(guestPath: $0, hostPath: $0) })
        do {
            bridge = try WASIBridgeToHost(args: settings.arguments, environment: environment, fileSystem: stdio)
        } catch {
            throw GuestWASIError(directories: settings.preopenedDirectories, underlying: error)
        }
        functions = bridge.hostFunctions(capabilities: WASICapability<Memory>.all)
        argumentsSize = (
            UInt64(settings.arguments.count),
            settings.arguments.reduce(0) { $0 + UInt64($1.utf8.count) + 1 }
        )
        environmentSize = (
            UInt64(environment.count),
            environment.reduce(0) { $0 + UInt64($1.key.utf8.count + 1 + $1.value.utf8.count) + 1 }
        )
    }

    deinit { close() }

    /// Closes the bridge's descriptors (never the host's stdio).
    func close() {
        guard !closed else { return }
        closed = true
        try? bridge.close()
    }

    /// Count and NUL-terminated byte size of what `args_get` / `environ_get` write.
    func stringSizes(_ function: String) -> (count: UInt64, bytes: UInt64) {
        function == "args_get" ? argumentsSize : environmentSize
    }

    /// Every preview 1 function name with its WebAssembly type, as WasmKit defines them.
    static let functionTypes: [String: FunctionType] = {
        guard let bridge = try? WASIBridgeToHost(args: [], environment: [:], preopens: []) else { return [:] }
        defer { try? bridge.close() }
        return bridge.hostFunctions(capabilities: WASICapability<Memory>.all).mapValues(\.type)
    }()
}

/// The process's WASI could not be set up (a preopened directory is missing or unreadable).
struct GuestWASIError: Error, CustomStringConvertible {
    /// The directories that were to be preopened.
    let directories: [String]
    /// WasmKit's error.
    let underlying: any Error

    var description: String {
        "cannot set up WASI with preopened directories \(directories.map { "'\($0)'" }.joined(separator: ", ")): \(underlying)"
    }
}
