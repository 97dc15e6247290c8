import LunaSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// A resource for tests: any kind, identified by a label.
final class TestResource: Resource, @unchecked Sendable {
    // @unchecked Sendable: all fields are immutable.
    let resourceKind: ResourceKind
    let label: String
    let onRelease: (@Sendable () -> Void)?
    init(_ kind: ResourceKind, _ label: String, onRelease: (@Sendable () -> Void)? = nil) {
        resourceKind = kind
        self.label = label
        self.onRelease = onRelease
    }
    deinit { onRelease?() }
}

/// Runs `body` as a native process of a fresh environment and returns its exit.
func runNative(
    trace: (any TraceSink)? = nil,
    _ body: @escaping @Sendable (ProcessContext) async throws -> Void
) async -> ProcessExit {
    let env = Environment(trace: trace)
    let pid = env.spawn(body)
    return await env.waitForExit(of: pid, timeout: 10) ?? .failure(reason: "test timed out")
}

/// Thread-safe box for values a process body reports back to the test.
final class Box<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only accessed under `lock`.
    private let lock = ConditionLock()
    private var _value: T
    init(_ v: T) { _value = v }
    var value: T {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
    func update(_ f: (inout T) -> Void) { lock.withLock { f(&_value) } }
}

/// Throws `LunaTrap` with the reason, for checking trap reasons.
func trapReason(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let t as LunaTrap { return t.reason } catch { return "other: \(error)" }
}

func trapReason(_ body: () async throws -> Void) async -> String? {
    do { try await body(); return nil } catch let t as LunaTrap { return t.reason } catch { return "other: \(error)" }
}
