import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process groups of running adapters, so that a luna-conform ended by a signal ends them
/// too (an adapter that ignores the end of its input would otherwise outlive it).
///
/// A fixed table of pids written by the clients and read by the signal handler: the handler
/// may only use async-signal-safe calls (`kill`, `signal`, `raise`), so no locks and no
/// allocation. A slot is 0 when free.
public enum AdapterGroups {
    static let capacity = 256
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        p.initialize(repeating: 0, count: capacity)
        return p
    }()
    /// Serialises the clients' writes to `slots` (the handler reads without it).
    static let writers = Mutex(())

    static func register(_ pid: Int32) {
        writers.withLock { _ in
            for i in 0..<capacity where slots[i] == 0 {
                slots[i] = pid
                return
            }
        }
    }

    static func unregister(_ pid: Int32) {
        writers.withLock { _ in
            for i in 0..<capacity where slots[i] == pid { slots[i] = 0 }
        }
    }

    /// Installs handlers for SIGINT, SIGTERM and SIGHUP that kill every adapter's process
    /// group, then end this process as the signal would have. For command-line use.
    public static func endOnSignals() {
        _ = slots
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { sig in
                for i in 0..<AdapterGroups.capacity {
                    let pid = AdapterGroups.slots[i]
                    if pid > 0 { kill(-pid, SIGKILL) }
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }
}
