import LunaSupport
import Synchronization
import TraceFormat

/// The named-process registry of an environment (`lunatic::registry`): names map to a
/// (node id, process id) pair. lunatic keeps one registry per environment; names are any UTF-8
/// text, a `put` replaces an earlier entry of the same name, and entries are not removed when
/// their process ends (a lookup can return a pid that no longer exists, as in lunatic).
///
/// `getOrPutLater` is lunatic's atomic lookup-or-register: when the name is missing, the caller
/// keeps the registry to itself until its next `put` (or until it ends), and every other
/// process's registry call waits for that. The waits of guest calls end early when the waiting
/// process is killed (`alive` throws). The host's own calls (`Environment.register`, …) do not
/// wait for a holder.
package final class ProcessRegistry: Sendable {
    private struct State {
        var entries: [String: (node: UInt64, process: ProcessID)] = [:]
        /// The process that found a name missing with `getOrPutLater` and has not `put` yet.
        var holder: ProcessID?
        /// How many calls are waiting for the holder.
        var waiting = 0
    }

    private let lock = ConditionLock()
    // nonisolated(unsafe): only touched while holding `lock`.
    nonisolated(unsafe) private var state = State()

    package init() {}

    /// Registers `process` on `node` under `name`, replacing any earlier entry; when `caller`
    /// holds the registry this is the `put` that ends the hold. Waits while another process
    /// holds it.
    package func put(
        _ name: String, node: UInt64, process: ProcessID, caller: ProcessID,
        alive: () throws -> Void
    ) throws {
        try access(caller, alive) { state in
            state.entries[name] = (node, process)
            if state.holder == caller {
                state.holder = nil
                lock.broadcast()
            }
        }
    }

    /// The entry under `name`, if any; waits while another process holds the registry.
    package func get(
        _ name: String, caller: ProcessID, alive: () throws -> Void
    ) throws
        -> (node: UInt64, process: ProcessID)?
    {
        try access(caller, alive) { $0.entries[name] }
    }

    /// The entry under `name`; if there is none, `caller` holds the registry until its next
    /// `put` (or `release`) and nil is returned. Waits while another process holds it.
    package func getOrPutLater(
        _ name: String, caller: ProcessID, alive: () throws -> Void
    ) throws
        -> (node: UInt64, process: ProcessID)?
    {
        try access(caller, alive) { state in
            if let entry = state.entries[name] { return entry }
            state.holder = caller
            return nil
        }
    }

    /// Removes the entry under `name`; returns whether there was one. Waits while another
    /// process holds the registry.
    package func remove(_ name: String, caller: ProcessID, alive: () throws -> Void) throws -> Bool {
        try access(caller, alive) { $0.entries.removeValue(forKey: name) != nil }
    }

    /// Whether `pid` holds the registry (after a `getOrPutLater` that found nothing).
    package func isHeld(by pid: ProcessID) -> Bool { lock.withLock { state.holder == pid } }

    /// Ends the hold of `pid`, if it holds the registry (its process ended without `put`).
    package func release(heldBy pid: ProcessID) {
        lock.withLock {
            if state.holder == pid {
                state.holder = nil
                lock.broadcast()
            }
        }
    }

    /// Runs `body` once no process other than `caller` holds the registry. While waiting,
    /// `alive` is asked every 20 ms; what it throws ends the wait.
    private func access<T>(_ caller: ProcessID, _ alive: () throws -> Void, _ body: (inout State) -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if let holder = state.holder, holder != caller {
            state.waiting += 1
            defer { state.waiting -= 1 }
            while let holder = state.holder, holder != caller {
                lock.wait(untilMonotonicNs: MonotonicClock.deadline(afterMs: 20))
                try alive()
            }
        }
        return body(&state)
    }

    /// How many registry calls are waiting for a holder right now.
    package var waitingCalls: Int { lock.withLock { state.waiting } }

    /// Registers without waiting for a holder (the host's own calls).
    package func hostPut(_ name: String, node: UInt64, process: ProcessID) {
        lock.withLock { state.entries[name] = (node, process) }
    }

    /// The entry under `name` without waiting for a holder.
    package func hostGet(_ name: String) -> (node: UInt64, process: ProcessID)? {
        lock.withLock { state.entries[name] }
    }

    /// Removes `name` without waiting for a holder; returns whether there was an entry.
    @discardableResult
    package func hostRemove(_ name: String) -> Bool {
        lock.withLock { state.entries.removeValue(forKey: name) != nil }
    }

    /// Every name, sorted.
    package var names: [String] { lock.withLock { state.entries.keys.sorted() } }
}

extension Environment {
    /// The environment's named-process registry.
    package var registry: ProcessRegistry { attachment("registry") { ProcessRegistry() } }

    /// Registers process `pid` under `name` (what a guest's `lunatic::registry::put` does).
    public func register(name: String, process pid: ProcessID) { registry.hostPut(name, node: 0, process: pid) }

    /// The process registered under `name`, if any (it may have ended since).
    public func registeredProcess(named name: String) -> ProcessID? { registry.hostGet(name)?.process }

    /// Removes the registration of `name`.
    public func unregister(name: String) { registry.hostRemove(name) }

    /// State of another layer kept per environment without a stored property of `Environment`
    /// (the registry, timers, module ids of distributed calls): created by `make` on first
    /// use under `key` and kept as long as the environment lives.
    package func attachment<T: AnyObject & Sendable>(_ key: String, _ make: () -> T) -> T {
        EnvironmentAttachments.value(for: self, key: key, make: make)
    }
}

/// The side table behind `Environment.attachment`: per environment (by identity, held weakly so
/// the table never keeps an environment alive), a dictionary of values by key. Entries of
/// environments that are gone are pruned whenever a new environment is added.
private enum EnvironmentAttachments {
    private final class Entry: @unchecked Sendable {
        // @unchecked Sendable: `values` is only touched while holding `table`'s lock.
        weak var environment: Environment?
        var values: [String: AnyObject] = [:]
        init(_ environment: Environment) { self.environment = environment }
    }

    private static let table = Mutex<[ObjectIdentifier: Entry]>([:])

    static func value<T: AnyObject & Sendable>(for environment: Environment, key: String, make: () -> T) -> T {
        table.withLock { table in
            let id = ObjectIdentifier(environment)
            let entry: Entry
            if let existing = table[id], existing.environment === environment {
                entry = existing
            } else {
                // A new environment (possibly at the address of one that is gone).
                table = table.filter { $0.value.environment != nil && $0.key != id }
                entry = Entry(environment)
                table[id] = entry
            }
            if let value = entry.values[key] as? T { return value }
            let value = make()
            entry.values[key] = value
            return value
        }
    }
}
