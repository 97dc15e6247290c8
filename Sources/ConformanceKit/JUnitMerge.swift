import Foundation

/// Merging the JUnit reports of several `replay --shard` runs into one.
extension ConformanceReport {
    /// One `<testsuites>` document holding every `<testsuite>` of `documents` (JUnit reports
    /// written by `replay --report junit`), with the totals summed.
    public static func mergeJUnit(_ documents: [String]) throws -> String {
        var suites: [String] = []
        var tests = 0, failures = 0, skipped = 0
        var time = 0.0
        for (n, doc) in documents.enumerated() {
            guard let open = doc.range(of: "<testsuites"), let close = doc.range(of: "</testsuites>"),
                let headEnd = doc.range(of: ">", range: open.upperBound..<doc.endIndex)
            else { throw ConformanceError("report \(n + 1) is not a luna-conform JUnit report (no <testsuites>)") }
            let head = String(doc[open.lowerBound..<headEnd.upperBound])
            tests += Int(attribute("tests", head) ?? "") ?? 0
            failures += Int(attribute("failures", head) ?? "") ?? 0
            skipped += Int(attribute("skipped", head) ?? "") ?? 0
            time += Double(attribute("time", head) ?? "") ?? 0
            suites.append(String(doc[headEnd.upperBound..<close.lowerBound]).trimmingCharacters(in: .newlines))
        }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x +=
            "<testsuites name=\"luna-conform\" tests=\"\(tests)\" failures=\"\(failures)\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", time))\">\n"
        for s in suites where !s.isEmpty { x += s + "\n" }
        return x + "</testsuites>\n"
    }

    private static func attribute(_ name: String, _ tag: String) -> String? {
        guard let r = tag.range(of: " \(name)=\"") else { return nil }
        let rest = tag[r.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}
