import Foundation
import LunaSupport
import LunaTestSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// Collects every event, in order, for assertions on networking traces.
final class NetworkEventCollector: TraceSink, @unchecked Sendable {
    // @unchecked Sendable: `events` is only touched under `lock`.
    private let lock = ConditionLock()
    private var stored: [TraceEvent] = []

    func record(_ event: TraceEvent) {
        lock.lock()
        stored.append(event)
        lock.unlock()
    }

    var events: [TraceEvent] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    /// Events of `kind`.
    func events(_ kind: EventKind) -> [TraceEvent] { events.filter { $0.kind == kind } }
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, made once per test run with the
/// `openssl` command (P-256 key, valid one day).
enum TestCertificate {
    struct Material: Sendable {
        let certificatePEM: [UInt8]
        let keyPEM: [UInt8]
    }

    /// The generated certificate and key, or the reason generation failed.
    static let shared: Result<Material, GenerationError> = generate()

    struct GenerationError: Error, CustomStringConvertible {
        let description: String
    }

    private static func generate() -> Result<Material, GenerationError> {
        let dir = URL(fileURLWithPath: Scratch.path("luna-tls"))
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let key = dir.appendingPathComponent("key.pem"), cert = dir.appendingPathComponent("cert.pem")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", key.path, "-out", cert.path, "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                return .failure(GenerationError(description: "openssl req exited with \(process.terminationStatus)"))
            }
            return .success(
                Material(
                    certificatePEM: Array(try Data(contentsOf: cert)),
                    keyPEM: Array(try Data(contentsOf: key))))
        } catch {
            return .failure(GenerationError(description: "certificate generation failed: \(error)"))
        }
    }
}

/// Waits (polling, at most `seconds`) until `box` holds a value.
func waitForValue<T: Sendable>(_ box: Box<T?>, seconds: Double = 5) -> T? {
    let deadline = MonotonicClock.deadline(after: seconds)
    while MonotonicClock.now() < deadline {
        if let v = box.value { return v }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return box.value
}

extension NetworkOutcome {
    /// The success value, or a test failure naming the outcome (and 0).
    func expectSuccess(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> UInt64 {
        guard let v = successValue else {
            Issue.record("\(what): \(self)", sourceLocation: sourceLocation)
            return .max
        }
        return v
    }
}

extension ProcessContext {
    /// The text of error resource `id` (what `lunatic::error::to_string` gives).
    func errorText(_ id: UInt64) -> String? { (resource(.error, id: id) as? GuestErrorResource)?.message }
}
