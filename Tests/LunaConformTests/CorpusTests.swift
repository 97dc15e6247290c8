import ConformanceKit
import Foundation
import LunaAdapter
import LunaConformCommands
import LunaTestSupport
import Testing
import TraceFormat

/// The committed conformance corpus: coverage, decoding, replay through both adapters, fault
/// detection and deterministic re-recording: every check CI makes of the corpus.
@Suite("Conformance corpus", .serialized)
struct CorpusTests {
    @Test("every rule of docs/SEMANTICS.md §2–§6 is covered by a manifest trace that exists")
    func coverage() throws {
        let manifest = try CorpusSupport.manifest()
        let text = try String(contentsOfFile: TestSupport.packageRoot + "/docs/SEMANTICS.md", encoding: .utf8)
        let rules = SemanticsRules.parse(text)
        #expect(rules == SemanticsRules.builtIn)
        let report = CorpusCoverage(rules: rules, manifest: manifest)
        #expect(report.uncovered.isEmpty, "uncovered: \(report.uncovered)")
        #expect(report.unknown.isEmpty)
        #expect(report.missing.isEmpty, "missing: \(report.missing)")
    }

    @Test("the rule list parsed from SEMANTICS.md text keeps §2–§6 only, from headings or list items")
    func parsesRuleIDs() {
        let text = """
            ## 1. Guest ABI
            - R-MEM-1 pointers
            ### R-MEM-2 · pointers
            ## 2. Messages
            - R-MSG-1 Two kinds
            ### R-MSG-2 · Tag 0
            - test `Tests/X.swift`: `rMSG2`
            ## 6. Processes
            - R-PROC-1 Ids
            ## 7. What a trace must make visible
            - R-X-1 not a rule of 2–6
            ### R-X-2 · nor this
            """
        #expect(SemanticsRules.parse(text) == ["R-MSG-1", "R-MSG-2", "R-PROC-1"])
    }

    @Test("a malformed manifest line is reported with its line number")
    func malformedManifest() {
        #expect(throws: ManifestError.self) {
            try CorpusManifest(text: "# header\na.trace\tg.wasm\tentry\n", directory: ".")
        }
    }

    @Test("every committed trace decodes completely, in a format version this reader reads")
    func decodes() throws {
        let manifest = try CorpusSupport.manifest()
        #expect(manifest.entries.count >= 50)
        for entry in manifest.entries {
            let (header, events) = try CorpusSupport.events(of: manifest.path(of: entry))
            #expect(
                (1...TraceHeader.currentMajor).contains(header.formatMajor)
                    && (header.formatMajor < TraceHeader.currentMajor || header.formatMinor <= TraceHeader.currentMinor),
                "\(entry.file): format \(header.formatMajor).\(header.formatMinor)")
            #expect(events.contains { $0.kind == .exit && $0.pid == 1 }, "\(entry.file): no end of the first process")
        }
    }

    @Test("the realistic flows are as large as promised: a payload ≥ 1 MiB and ≥ 1,000 processes")
    func flowSizes() throws {
        let manifest = try CorpusSupport.manifest()
        let dir = manifest.directory + "/corpus/"
        let (_, large) = try CorpusSupport.events(of: dir + "large_payload.trace")
        #expect(large.contains { $0.kind == .dataSize && ($0.result.value ?? 0) >= 1 << 20 })
        let (_, many) = try CorpusSupport.events(of: dir + "many_processes.trace")
        #expect(Set(many.filter { $0.kind == .start }.map(\.pid)).count >= 1001)
    }

    @Test("the whole corpus replays against the built-in adapter (R-MSG, R-RES, R-SEND, R-RECV, R-PROC)")
    func replayBuiltin() async throws {
        let report = try await offPool { try CorpusSupport.replay(TestSupport.builtinAdapter()) }
        #expect(report.allPassed, "\(report.text())")
        #expect(report.outcomes.count == (try CorpusSupport.manifest()).entries.count)
    }

    @Test("the whole corpus replays against the Python adapter")
    func replayPython() async throws {
        let report = try await offPool { try CorpusSupport.replay(TestSupport.pythonAdapter) }
        #expect(report.allPassed, "\(report.text())")
    }

    /// For each fault, corpus traces that catch it (for the full matrix, replay the corpus with `--adapter "luna-conform adapter --fault NAME"` per fault).
    static let faultCatchers: [(fault: String, traces: [String])] = [
        ("push-off-by-one", ["res_slots"]),
        ("take-other-slot", ["res_take"]),
        ("drop-every-nth", ["recv_fifo"]),
        ("duplicate-message", ["send_ordered"]),
        ("ignore-tags", ["recv_selective"]),
        ("skip-search-searches-queue", ["recv_skip_search"]),
        ("early-timeout", ["timeout_race"]),
        ("ignore-timeout", ["recv_timeouts"]),
        ("link-died-returns-0", ["msg_kinds"]),
        ("send-missing-traps", ["send_missing"]),
        ("wrong-kind-take-consumes", ["res_wrong_kind_stays_traps"]),
    ]

    @Test("every fault of the built-in adapter is caught by a corpus trace")
    func faultsCaught() async throws {
        #expect(Set(Self.faultCatchers.map(\.fault)) == Set(AdapterFault.allCases.map(\.rawValue)))
        let dir = (try CorpusSupport.manifest()).directory + "/corpus/"
        for (fault, traces) in Self.faultCatchers {
            let sources = traces.map { TraceSource.file(dir + $0 + ".trace") }
            // A fault seen only in timing (a timeout fired at a tenth of its time) is judged with
            // a tolerance that grows with the lag the replay observes; on a machine starved by
            // other jobs one replay may see no difference, so it gets up to three.
            let attempts = fault == "early-timeout" ? 3 : 1
            var caught = false
            for _ in 0..<attempts where !caught {
                let report = try await offPool {
                    try CorpusSupport.replay(sources, TestSupport.builtinAdapter([fault]), callTimeout: 1)
                }
                caught = !report.allPassed
            }
            #expect(caught, "fault \(fault) was not caught by \(traces) in \(attempts) replay(s)")
        }
    }

    @Test("re-recording the corpus gives the same calls and results, timing aside")
    func reRecordingIsDeterministic() async throws {
        let manifest = try CorpusSupport.manifest()
        for entry in manifest.entries {
            let fresh = try await offPool { try CorpusSupport.record(entry, in: manifest) }
            defer { try? FileManager.default.removeItem(atPath: fresh) }
            let (_, committed) = try CorpusSupport.events(of: manifest.path(of: entry))
            let (_, again) = try CorpusSupport.events(of: fresh)
            let a = CorpusSupport.callsAndResults(committed), b = CorpusSupport.callsAndResults(again)
            let firstDifference = zip(a, b).first { $0 != $1 }
            #expect(
                a == b, "\(entry.file): \(a.count) vs \(b.count) events; first difference: \(String(describing: firstDifference))"
            )
        }
    }
}
