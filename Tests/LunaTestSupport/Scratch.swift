import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where tests put their temporary files: one directory per test process,
/// `$TMPDIR/luna-tests-<pid>-<random>`, removed when the process exits, so that no test leaves
/// files behind, whether or not it removes its own (a failing or thrown test often does not).
///
/// A process killed before its exit handler runs leaves its directory; the next process that
/// uses the scratch directory removes it. Each directory holds a lock file its process keeps
/// locked (`flock`) until it ends, which the kernel releases with the process: a directory
/// whose lock can be taken is abandoned, whatever its pid now names (reused, or a process of
/// another pid namespace sharing the temporary directory).
public enum Scratch {
    /// This process's scratch directory, created on first use.
    public static var directory: URL { state.directory }

    /// A fresh path in the scratch directory, `NAME-<UUID>` (then `.EXT` when given); nothing is
    /// created there.
    public static func path(_ name: String, extension ext: String? = nil) -> String {
        let file = "\(name)-\(UUID().uuidString)" + (ext.map { ".\($0)" } ?? "")
        return directory.appendingPathComponent(file).path
    }

    /// A fresh, empty directory in the scratch directory, `NAME-<UUID>`.
    public static func makeDirectory(_ name: String) throws -> URL {
        let url = URL(fileURLWithPath: path(name))
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let prefix = "luna-tests-"
    static let lockName = ".lock"

    struct State: Sendable {
        let directory: URL
        /// Held open and locked until the process ends.
        let lock: Int32
    }

    private static let state: State = {
        let base = FileManager.default.temporaryDirectory
        removeAbandoned(in: base)
        // Made and locked under a name removeAbandoned skips, then renamed: never seen unlocked.
        let name = "\(prefix)\(getpid())-\(UUID().uuidString.prefix(8))"
        let staging = base.appendingPathComponent(".\(name)"), final = base.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create the tests' scratch directory \(staging.path): \(error)")
        }
        let lock = open(staging.appendingPathComponent(lockName).path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX | LOCK_NB) == 0, rename(staging.path, final.path) == 0 else {
            fatalError("cannot set up the tests' scratch directory \(final.path): errno \(errno)")
        }
        atexit { try? FileManager.default.removeItem(at: Scratch.state.directory) }
        return State(directory: final, lock: lock)
    }()

    /// Removes the scratch directories in `base` whose process has ended.
    static func removeAbandoned(in base: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            let dir = base.appendingPathComponent(name)
            let lock = open(dir.appendingPathComponent(lockName).path, O_RDONLY | O_CLOEXEC)
            // No lock file: its owner's exit handler was cut off while removing it.
            let abandoned = lock < 0 ? errno == ENOENT : flock(lock, LOCK_EX | LOCK_NB) == 0
            if abandoned { try? FileManager.default.removeItem(at: dir) }
            if lock >= 0 { close(lock) }
        }
    }
}
