import ArgumentParser
import ConformanceFuzz
import ConformanceKit
import Foundation
import LunaSupport
import TraceFormat

/// `luna-conform shrink`: reduce a diverging trace to a small one with the same first divergence.
public struct ShrinkCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "shrink",
        abstract: "Shrink a trace that diverges against an adapter to a minimal one that diverges the same way.",
        discussion: """
            Events are removed (delta debugging) together with everything that needs them: a \
            process keeps its spawn, a receive the send of its message, a send the creation of \
            the message, a take the pushes into its message. Each candidate must still give the \
            same first divergence (category and rule) against the adapter and, so that it is a \
            trace the semantics allow, replay without divergence on the reference adapter (the \
            built-in one unless --reference or --no-reference says otherwise). Writes MIN.trace, \
            and next to it MIN.ndjson (adapter requests with the reference's answers) and \
            MIN.txt (a listing).
            """
    )

    @Argument(help: "The diverging trace.")
    public var trace: String

    @Option(help: "The adapter command and its arguments, as one string (default: the built-in adapter).")
    public var adapter: String?

    @Option(name: .shortAndLong, help: "Where to write the shrunk trace.")
    public var output: String

    @Option(help: "The reference adapter that every candidate must pass (default: the built-in adapter).")
    public var reference: String?

    @Flag(name: .customLong("no-reference"), help: "Do not check candidates against a reference adapter.")
    public var noReference = false

    @Option(help: "Stop shrinking after this many seconds.")
    public var time: Double = 60

    @Option(help: "Seconds a call may take beyond its own timeout before it counts as not returning.")
    public var timeout: Double = 2

    @Option(name: .customLong("trace-timeout"), help: "Seconds one replay may take in all.")
    public var traceTimeout: Double = 120

    public init() {}

    public func validate() throws {
        guard timeout > 0, traceTimeout > 0, time > 0 else { throw ValidationError("timeouts must be positive") }
        if let adapter, ReplayCommand.split(adapter).isEmpty { throw ValidationError("--adapter is empty") }
    }

    /// Reads every event of a trace file; errors name the file and the event.
    static func readEvents(_ path: String) throws -> [TraceEvent] {
        let reader: TraceReader
        do { reader = try TraceReader(path: path) } catch { throw ValidationError("\(path): cannot read the trace: \(error)") }
        var events: [TraceEvent] = []
        do {
            while let e = try reader.next() { events.append(e) }
        } catch {
            throw ValidationError("\(path): \(error) (after \(events.count) events)")
        }
        return events
    }

    public func run() throws {
        let events = try Self.readEvents(trace)
        let builtin = [ReplayCommand.selfExecutable(), "adapter"]
        let command = adapter.map(ReplayCommand.split) ?? builtin
        let replay = ReplayOptions(callTimeout: timeout, traceTimeout: traceTimeout)
        let out = FileHandle.standardOutput
        func say(_ s: String) { out.write(Data((s + "\n").utf8)) }
        let started = MonotonicClock.now()
        var ref: [String]? = noReference ? nil : (reference.map(ReplayCommand.split) ?? builtin)
        if ref == command { ref = nil }
        // The adapter under test and the reference replay the whole trace at the same time.
        let referenceCheck = ref.map { r in
            Concurrent {
                ConformanceRunner(adapter: .init(command: r), replay: replay).run([TraceSource.events(events, name: "trace")])
                    .outcomes[0]
            }
        }
        let first = ConformanceRunner(adapter: .init(command: command), replay: replay)
            .run([TraceSource.events(events, name: trace)]).outcomes[0]
        let check = referenceCheck?.value()
        guard let signature = FailureSignature(first) else {
            throw ValidationError(
                "\(trace) does not diverge against \(command.joined(separator: " ")) (\(first.status.rawValue)): nothing to shrink"
            )
        }
        say("\(trace): \(events.count) events, first divergence \(signature)")
        if let d = first.firstCauses.first { say("  first cause: " + d.line) }
        if let check, check.status != .passed {
            say("  the reference adapter diverges on this trace too: candidates are not checked against it")
            ref = nil
        }
        let oracle = ShrinkOracle(
            adapter: .init(command: command), reference: ref.map { .init(command: $0) },
            replay: replay, signature: signature)
        let index = first.firstCauses.first?.eventIndex ?? first.divergences.first?.eventIndex
        let result = TraceShrinker(oracle: oracle, timeLimit: time).shrink(events, divergenceIndex: index)
        let dir = (output as NSString).deletingLastPathComponent
        let base = (Paths.baseName(output) as NSString).deletingPathExtension
        let header =
            ["luna-conform shrink: \(trace) diverges: \(signature)", "adapter: \(command.joined(separator: " "))"]
            + (result.outcome?.firstCauses.first.map { ["first cause: " + $0.line] } ?? [])
        let files: MinimalCase.Files
        do {
            files = try MinimalCase.write(
                events: result.events, workload: nil, header: header, adapter: command,
                reference: ref ?? builtin, replay: replay, directory: dir.isEmpty ? "." : dir,
                base: base)
            if (output as NSString).pathExtension != "trace" {
                try? FileManager.default.removeItem(atPath: output)
                try FileManager.default.moveItem(atPath: files.trace, toPath: output)
            }
        } catch {
            throw ValidationError("cannot write \(output): \(error)")
        }
        say(
            String(
                format: "shrunk %d → %d events in %.1f s (%d candidates); %d adapter requests",
                events.count, result.events.count, Double(MonotonicClock.now() - started) / 1e9, result.tries, files.requestCount)
        )
        if let d = result.outcome?.firstCauses.first { say("  minimal case: " + d.line) }
        say("  \(output)\n  \(files.requests)  (pipe into the adapter)\n  \(files.listing)")
    }
}

/// A value computed on its own thread while the caller does something else.
/// `@unchecked Sendable`: `result` is written once by the thread before `done` is signalled.
final class Concurrent<T>: @unchecked Sendable {
    private var result: T?
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () -> T) {
        let thread = Thread { [self] in
            result = work()
            done.signal()
        }
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Waits for the value.
    func value() -> T {
        done.wait()
        return result!
    }
}
