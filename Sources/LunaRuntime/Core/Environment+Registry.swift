import Synchronization
import TraceFormat

/// The named-process registry of an environment (`lunatic::registry`): names map to a
/// (node id, process id) pair. lunatic keeps one registry per environment; names are any UTF-8
/// text, a `put` replaces an earlier entry of the same name, and entries are not removed when
/// their process ends (a lookup can return a pid that no longer exists, as in lunatic).
package final class ProcessRegistry: Sendable {
    private let entries = Mutex<[String: (node: UInt64, process: ProcessID)]>([:])

    package init() {}

    /// Registers `process` on `node` under `name`, replacing any earlier entry.
    package func put(_ name: String, node: UInt64, process: ProcessID) {
        entries.withLock { $0[name] = (node, process) }
    }

    /// The entry under `name`, if any.
    package func get(_ name: String) -> (node: UInt64, process: ProcessID)? {
        entries.withLock { $0[name] }
    }

    /// Removes the entry under `name`; returns whether there was one.
    @discardableResult
    package func remove(_ name: String) -> Bool {
        entries.withLock { $0.removeValue(forKey: name) != nil }
    }

    /// Every name, sorted.
    package var names: [String] { entries.withLock { $0.keys.sorted() } }
}

extension Environment {
    /// The environment's named-process registry.
    package var registry: ProcessRegistry { attachment("registry") { ProcessRegistry() } }

    /// Registers process `pid` under `name` (what a guest's `lunatic::registry::put` does).
    public func register(name: String, process pid: ProcessID) { registry.put(name, node: 0, process: pid) }

    /// The process registered under `name`, if any (it may have ended since).
    public func registeredProcess(named name: String) -> ProcessID? { registry.get(name)?.process }

    /// Removes the registration of `name`.
    public func unregister(name: String) { registry.remove(name) }

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
