import ConformanceFuzz
import ConformanceKit
import Foundation
import LunaRuntime
import LunaTestSupport
import Testing
import TraceFormat

/// Format 1.0 files read in the current shape (docs/TRACE_FORMAT.md, section 8), as a property
/// of generated workloads: each recording, rewritten as 1.0 wrote it (one combined event per
/// skip-search call, at its return), reads back as the same calls in causal order, and replays.
@Suite("Format 1.0 files read as the current format", .serialized)
struct FormatOneZeroReadingTests {
    /// An event without the fields 1.0 cannot carry: a send half's queueing time.
    static func key(_ e: TraceEvent) -> String {
        let end = e.kind == .sendReceiveSkipSearch ? e.start : e.end
        return
            "\(e.kind.name) p\(e.pid) \(e.start)-\(end) \(Array(e.args)) \(e.tags) m\(e.message) \(e.result) \(e.text) \(e.payload)"
    }

    /// A process's own calls in order (notices and drops it did not call are left out: 1.0
    /// does not say where they fell inside a skip-search wait).
    static func calls(_ events: [TraceEvent]) -> [ProcessID: [String]] {
        var out: [ProcessID: [String]] = [:]
        for e in events where ![.linkDied, .messageDropped, .resourceDropped].contains(e.kind) {
            out[e.pid, default: []].append(key(e))
        }
        return out
    }

    /// Indexes of deliveries whose message no earlier event sent (or queued as a notice).
    static func deliveriesBeforeSend(_ events: [TraceEvent], ignoring unsent: Set<MessageID>) -> [Int] {
        var inFlight: [MessageID: Int] = [:]
        var bad: [Int] = []
        for (i, e) in events.enumerated() {
            switch e.kind {
            case .send,
                .sendReceiveSkipSearch where e.result.trapReason == nil && e.message != 0:
                inFlight[e.message, default: 0] += 1
            case .linkDied where e.args.at(2) == 0 && e.message != 0:
                inFlight[e.message, default: 0] += 1
            case .receive where e.message != 0 && (e.result.value == 0 || e.result.value == 1),
                .sendReceiveSkipSearchReturn where e.skipSearchReply != 0:
                let m = e.kind == .receive ? e.message : e.skipSearchReply
                if let n = inFlight[m], n > 0 { inFlight[m] = n - 1 } else if !unsent.contains(m) { bad.append(i) }
            default: break
            }
        }
        return bad
    }

    @Test("generated recordings rewritten as format 1.0 read back as the same calls, in causal order")
    func readsBackAsTheSameCalls() throws {
        let g = WorkloadGenerator()
        let recorder = WorkloadRecorder()
        var combinedSeen = 0, heldSeen = 0
        for seed: UInt64 in 1...200 {
            let recorded = recorder.record(g.generate(seed: seed)).events
            let old = FormatOneZero.combinedForm(recorded)
            let combined = old.filter { $0.kind == .sendReceiveSkipSearch && $0.result.value != nil }.count
            combinedSeen += combined
            // Small blocks, so that holds span block boundaries.
            let path = try FormatOneZero.write(old, eventsPerBlock: 7)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (read, stop) = try FormatOneZero.read(path)
            guard case .complete = stop else {
                Issue.record("seed \(seed): \(stop)")
                continue
            }
            #expect(!read.contains { $0.kind == .sendReceiveSkipSearch && $0.result.value != nil }, "seed \(seed)")
            #expect(read.count == old.count + combined, "seed \(seed)")
            // The same events, but for the send halves whose process never saw the call return.
            var unreturned: Set<MessageID> = []
            var open: [ProcessID: TraceEvent] = [:]
            var expected: [TraceEvent] = []
            for e in recorded {
                if e.kind == .sendReceiveSkipSearch, e.result.trapReason == nil {
                    open[e.pid] = e
                } else if e.kind == .sendReceiveSkipSearchReturn, let half = open.removeValue(forKey: e.pid) {
                    expected.append(half)
                }
                if !(e.kind == .sendReceiveSkipSearch && e.result.trapReason == nil) { expected.append(e) }
            }
            for half in open.values { unreturned.insert(half.message) }
            #expect(read.map(Self.key).sorted() == expected.map(Self.key).sorted(), "seed \(seed)")
            #expect(Self.calls(read) == Self.calls(expected), "seed \(seed)")
            let early = Self.deliveriesBeforeSend(read, ignoring: unreturned)
            #expect(early.isEmpty, "seed \(seed): deliveries before their send at \(early)")
            // Send halves moved back before the receive of their request (not right before
            // their return, where the combined event stood).
            for (i, e) in read.enumerated() where e.kind == .sendReceiveSkipSearch && e.result.trapReason == nil {
                if i + 1 < read.count, !(read[i + 1].kind == .sendReceiveSkipSearchReturn && read[i + 1].pid == e.pid) {
                    heldSeen += 1
                }
            }
        }
        // The workloads exercised the split: combined events, and halves moved back.
        #expect(combinedSeen >= 40, "combined events: \(combinedSeen)")
        #expect(heldSeen >= 20, "send halves moved back: \(heldSeen)")
    }

    @Test("generated recordings rewritten as format 1.0 replay on the built-in adapter")
    func replays() async throws {
        let g = WorkloadGenerator()
        let recorder = WorkloadRecorder()
        var paths: [String] = []
        defer { for p in paths { try? FileManager.default.removeItem(atPath: p) } }
        for seed: UInt64 in 101...130 {
            let recorded = recorder.record(g.generate(seed: seed)).events
            paths.append(try FormatOneZero.write(FormatOneZero.combinedForm(recorded)))
        }
        let sources = paths.map { TraceSource.file($0) }
        let report = await offPool {
            ConformanceRunner(
                adapter: .init(command: FuzzSupport.builtin), replay: .init(callTimeout: 3, traceTimeout: 60)
            ).run(sources)
        }
        #expect(report.outcomes.count == paths.count)
        #expect(report.allPassed, "\(report.text())")
    }
}
