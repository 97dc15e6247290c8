import Foundation
import TraceFormat

/// The outcomes of a `replay` run and their renderings (text, JSON, JUnit XML).
///
/// Renderings contain no timings except JUnit's `time` attributes, so that repeated runs against
/// a correct adapter give identical text and JSON reports.
public struct ConformanceReport: Sendable {
    /// The adapter command.
    public var adapterCommand: [String]
    /// The adapter's name and version from its handshake, when it answered one.
    public var adapterName: String?
    /// One outcome per trace, in the order given.
    public var outcomes: [TraceOutcome]

    /// Creates a report.
    public init(adapterCommand: [String], adapterName: String?, outcomes: [TraceOutcome]) {
        self.adapterCommand = adapterCommand
        self.adapterName = adapterName
        self.outcomes = outcomes
    }

    /// Passed traces, counting expected failures.
    public var passed: Int { outcomes.filter { $0.status == .passed || $0.status == .expectedFailure }.count }
    /// Failed traces, counting unexpected passes.
    public var failed: Int { outcomes.filter { $0.countsAsFailure }.count }
    /// Skipped traces.
    public var skipped: Int { outcomes.filter { $0.status == .skipped }.count }
    /// `N passed, N failed, N skipped`.
    public var summaryLine: String { "\(passed) passed, \(failed) failed, \(skipped) skipped" }
    /// True when nothing failed (the exit code is 0 exactly then).
    public var allPassed: Bool { failed == 0 }

    // MARK: text

    /// A human-readable report ending with the summary line.
    public func text(showConsequences: Bool = true) -> String {
        var lines: [String] = []
        for o in outcomes {
            lines.append(contentsOf: Self.textLines(o, showConsequences: showConsequences))
        }
        let xfail = outcomes.filter { $0.status == .expectedFailure }.count
        let xpass = outcomes.filter { $0.status == .unexpectedPass }.count
        if xfail + xpass > 0 { lines.append("(\(xfail) expected failures, \(xpass) unexpected passes)") }
        lines.append(summaryLine)
        return lines.joined(separator: "\n") + "\n"
    }

    static func label(_ s: TraceOutcome.Status) -> String {
        switch s {
        case .passed: return "PASS"
        case .failed: return "FAIL"
        case .skipped: return "SKIP"
        case .expectedFailure: return "XFAIL"
        case .unexpectedPass: return "XPASS"
        }
    }

    /// The lines of one trace's outcome.
    public static func textLines(_ o: TraceOutcome, showConsequences: Bool = true) -> [String] {
        var lines = ["\(label(o.status)) \(o.name) (\(o.eventCount) events, \(o.requestCount) requests)"]
        if o.status == .unexpectedPass { lines.append("  listed as a known failure but passed: remove it from the expect file") }
        if !o.note.isEmpty { lines.append("  " + o.note) }
        let causes = o.firstCauses
        for d in causes { lines.append("  first cause: " + d.line) }
        let consequences = o.divergences.filter(\.isConsequence)
        if !consequences.isEmpty {
            lines.append(
                "  \(consequences.count) later divergence\(consequences.count == 1 ? "" : "s") follow\(consequences.count == 1 ? "s" : "") from \(causes.count == 1 ? "it" : "those")"
            )
            if showConsequences {
                for d in consequences.prefix(10) { lines.append("    then: " + d.line) }
                if consequences.count > 10 { lines.append("    … \(consequences.count - 10) more") }
            }
        }
        if let f = o.adapterFailure {
            lines.append(contentsOf: f.description.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
        }
        return lines
    }

    // MARK: JSON

    /// The report as JSON (stable key order).
    public func json() -> String {
        func divergence(_ d: Divergence) -> JSONValue {
            .object([
                "category": .string(d.category.rawValue), "rule": .string(d.rule), "event": .int(Int64(d.eventIndex)),
                "pid": .int(Int64(bitPattern: d.pid)), "call": .string(d.call), "expected": .string(d.expected),
                "got": .string(d.got), "detail": .string(d.detail), "consequence": .bool(d.isConsequence),
            ])
        }
        let traces: [JSONValue] = outcomes.map { o in
            var obj: JSONObject = [
                "name": .string(o.name), "status": .string(o.status.rawValue), "note": .string(o.note),
                "events": .int(Int64(o.eventCount)), "requests": .int(Int64(o.requestCount)),
                "divergences": .array(o.divergences.map(divergence)),
            ]
            if let f = o.adapterFailure {
                obj["adapter_failure"] = .object([
                    "kind": .string(f.kind.rawValue), "message": .string(f.message),
                    "stderr": .array(f.stderrTail.map { .string($0) }),
                ])
            }
            return .object(obj)
        }
        let root: JSONValue = .object([
            "adapter": .object([
                "command": .array(adapterCommand.map { .string($0) }),
                "name": adapterName.map { .string($0) } ?? .null,
            ]),
            "traces": .array(traces),
            "summary": .object([
                "passed": .int(Int64(passed)), "failed": .int(Int64(failed)), "skipped": .int(Int64(skipped)),
                "line": .string(summaryLine),
            ]),
        ])
        return root.serialized + "\n"
    }

    // MARK: JUnit

    /// The report as JUnit XML: one test case per trace. `suffix` (e.g. "shard 2/4") is added
    /// to the test suite's name, so that reports of shards merged by `mergeJUnit` (or any JUnit
    /// tool) keep their suites apart.
    public func junit(suffix: String? = nil) -> String {
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let total = outcomes.reduce(0) { $0 + $1.seconds }
        x +=
            "<testsuites name=\"luna-conform\" tests=\"\(outcomes.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", total))\">\n"
        let suite = (adapterName ?? adapterCommand.joined(separator: " ")) + (suffix.map { " (\($0))" } ?? "")
        x +=
            "  <testsuite name=\"\(Self.xml(suite))\" tests=\"\(outcomes.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\">\n"
        for o in outcomes {
            x +=
                "    <testcase classname=\"luna-conform\" name=\"\(Self.xml(o.name))\" time=\"\(String(format: "%.3f", o.seconds))\""
            let body = Self.textLines(o).dropFirst().joined(separator: "\n")
            switch o.status {
            case .passed, .expectedFailure:
                x +=
                    o.status == .expectedFailure
                    ? ">\n      <system-out>\(Self.xml("expected failure\n" + body))</system-out>\n    </testcase>\n" : "/>\n"
            case .skipped:
                x += ">\n      <skipped message=\"\(Self.xml(o.note))\"/>\n    </testcase>\n"
            case .failed, .unexpectedPass:
                let first =
                    o.firstCauses.first.map { "\($0.category.rawValue) (\($0.rule)) at event #\($0.eventIndex)" }
                    ?? o.adapterFailure.map { "adapter \($0.kind.rawValue)" }
                    ?? (o.status == .unexpectedPass ? "unexpected pass" : o.note)
                let type = o.firstCauses.first?.category.rawValue ?? o.adapterFailure?.kind.rawValue ?? o.status.rawValue
                x +=
                    ">\n      <failure message=\"\(Self.xml(first))\" type=\"\(Self.xml(type))\">\(Self.xml(body))</failure>\n    </testcase>\n"
            }
        }
        x += "  </testsuite>\n</testsuites>\n"
        return x
    }

    static func xml(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t": out.unicodeScalars.append(u)
            case _ where u.value < 0x20: out += "?"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
