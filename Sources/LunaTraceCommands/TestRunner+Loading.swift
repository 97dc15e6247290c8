import ArgumentParser
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import LunaRuntime
import TraceAnalysis
import TraceFormat

/// Loading a guest module and the small host facts `run` and `test` share.
enum GuestProgram {
    /// Loads `path` (a `.wasm` binary, or `.wat` text).
    static func load(_ path: String) throws -> GuestModule {
        if path.hasSuffix(".wat") {
            return try GuestModule(wat: try readText(path), name: baseName(path))
        }
        return try GuestModule(path: path)
    }

    /// The last path component.
    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Wall-clock time now, in ns since 1970 (for trace headers).
    static func wallClockNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Monotonic seconds (for durations).
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Ends every process still running in `environment` (after the main one ended) and waits
    /// up to `timeout` seconds for them, so a trace is complete before it is closed. A guest
    /// spinning without host calls cannot be stopped; it is left behind after the timeout.
    static func stopRemaining(_ environment: Environment, timeout: Double) -> Bool {
        environment.killAll()
        return environment.waitUntilAllExited(timeout: timeout)
    }

    /// The host's environment variables, in the order the host has them (lunatic's CLI passes
    /// them all to the guest).
    static func hostEnvironment() -> [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        let table: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        guard var entry = table else { return pairs }
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                pairs.append((String(text[..<equals]), String(text[text.index(after: equals)...])))
            }
            entry += 1
        }
        return pairs
    }

    /// The directories a program run by `run` or `test` gets preopened, as lunatic's CLI did:
    /// always `.` (the current directory), then each `--dir`, each seen by the guest under the
    /// path as given. Throws naming a `--dir` that is not a readable directory.
    static func preopenedDirectories(_ extra: [String]) throws -> [String] {
        for directory in extra {
            guard let handle = opendir(directory) else {
                throw RecordError("--dir \(directory): \(String(cString: strerror(errno)))")
            }
            closedir(handle)
        }
        return ["."] + extra
    }

    /// The module and preopened directories of a `run` or `test` invocation; a bad `--dir`
    /// (exit 64) or an unloadable module (`RecordCommand.cannotLoad`) is reported on `io.err`.
    static func prepare(module: String, directories: [String], io: CommandIO) throws -> (GuestModule, [String]) {
        let preopens: [String]
        do {
            preopens = try preopenedDirectories(directories)
        } catch {
            io.err.line("luna-trace: \(error)")
            throw ArgumentParser.ExitCode(64)
        }
        do {
            return (try load(module), preopens)
        } catch {
            io.err.line("luna-trace: \(module): cannot load module: \(error)")
            throw ArgumentParser.ExitCode(RecordCommand.cannotLoad)
        }
    }

    /// Creates directory `path` (and its parents) if missing.
    static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw RecordError("cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func readText(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RecordError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RecordError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
