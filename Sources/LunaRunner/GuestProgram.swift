import LunaRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The host facts a program run (`run`) and a test run (`test`) share: the guest's name,
/// environment variables and preopened directories, and the end of what a run left running.
package enum GuestProgram {
    /// Ends every process still running in `environment` (after the main one ended) and waits
    /// up to `timeout` seconds for them, so a trace is complete before it is closed. A guest
    /// spinning without host calls cannot be stopped; it is left behind after the timeout.
    package static func stopRemaining(_ environment: Environment, timeout: Double) -> Bool {
        environment.killAll()
        return environment.waitUntilAllExited(timeout: timeout)
    }

    /// The host's environment variables, in the order the host has them (lunatic's CLI passes
    /// them all to the guest).
    package static func hostEnvironment() -> [(key: String, value: String)] {
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
    package static func preopenedDirectories(_ extra: [String]) throws -> [String] {
        for directory in extra {
            guard let handle = opendir(directory) else {
                throw RunnerError("--dir \(directory): \(String(cString: strerror(errno)))")
            }
            closedir(handle)
        }
        return ["."] + extra
    }

    /// Creates directory `path` (and its parents) if missing.
    package static func makeDirectory(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw RunnerError("cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// A runner's failure outside the guest (a directory it cannot open or create), naming the
/// path and the system's reason.
package struct RunnerError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
