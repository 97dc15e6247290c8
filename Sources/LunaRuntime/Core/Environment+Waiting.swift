import LunaSupport
import TraceFormat

extension Environment {
    /// Waits (async) until process `pid` has ended; returns its exit (a failure "no process"
    /// for a pid that never existed).
    public func waitForExit(of pid: ProcessID) async -> ProcessExit {
        await waitForExit(of: pid, timeout: nil)!
    }

    /// Waits (async) until `pid` has ended or `timeout` seconds pass (then nil).
    public func waitForExit(of pid: ProcessID, timeout: Double?) async -> ProcessExit? {
        lock.lock()
        if live[pid] == nil {
            let s = exitStatusLocked(pid) ?? .failure(reason: "no process")
            lock.unlock()
            return s
        }
        exitWaiterSerial += 1
        let serial = exitWaiterSerial
        return await withUnsafeContinuation { (c: UnsafeContinuation<ProcessExit?, Never>) in
            exitWaiters[pid, default: []].append((serial, c))
            lock.unlock()
            if let timeout {
                Task {
                    try? await Task.sleep(nanoseconds: UInt64(max(0, timeout) * 1e9))
                    self.cancelExitWaiter(pid: pid, serial: serial)
                }
            }
        }
    }

    private func cancelExitWaiter(pid: ProcessID, serial: UInt64) {
        lock.lock()
        guard var list = exitWaiters[pid], let i = list.firstIndex(where: { $0.0 == serial }) else {
            lock.unlock(); return
        }
        let c = list.remove(at: i).1
        exitWaiters[pid] = list.isEmpty ? nil : list
        lock.unlock()
        c.resume(returning: nil)
    }

    /// Blocks the calling thread until process `pid` has ended.
    public func waitForExitBlocking(of pid: ProcessID) -> ProcessExit {
        waitForExitBlocking(of: pid, timeout: nil)!
    }

    /// Blocks until `pid` has ended or `timeout` seconds pass (then nil).
    public func waitForExitBlocking(of pid: ProcessID, timeout: Double?) -> ProcessExit? {
        let deadline = timeout.map { MonotonicClock.now() &+ UInt64(max(0, $0) * 1e9) }
        lock.lock()
        defer { lock.unlock() }
        blockedPIDWaiters[pid, default: 0] += 1
        defer {
            let n = blockedPIDWaiters[pid]! - 1
            blockedPIDWaiters[pid] = n == 0 ? nil : n
        }
        while live[pid] != nil {
            if let deadline, MonotonicClock.now() >= deadline { return nil }
            lock.wait(untilMonotonicNs: deadline)
        }
        return exitStatusLocked(pid) ?? .failure(reason: "no process")
    }

    /// Blocks until every process has ended (or `timeout` seconds pass; returns false then).
    public func waitUntilAllExited(timeout: Double?) -> Bool {
        let deadline = timeout.map { MonotonicClock.now() &+ UInt64(max(0, $0) * 1e9) }
        lock.lock()
        defer { lock.unlock() }
        blockedAllWaiters += 1
        defer { blockedAllWaiters -= 1 }
        while !live.isEmpty {
            if let deadline, MonotonicClock.now() >= deadline { return false }
            lock.wait(untilMonotonicNs: deadline)
        }
        return true
    }

    /// Waits (async, polling) until every process has ended or `timeout` seconds pass.
    public func waitUntilAllExited(timeout: Double?) async -> Bool {
        let deadline = timeout.map { MonotonicClock.now() &+ UInt64(max(0, $0) * 1e9) }
        var pause: UInt64 = 50_000
        while true {
            if liveCount == 0 { return true }
            if let deadline, MonotonicClock.now() >= deadline { return false }
            try? await Task.sleep(nanoseconds: pause)
            pause = min(pause * 2, 5_000_000)
        }
    }
}
