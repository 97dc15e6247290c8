/// One test function of a module in lunatic's cargo-test convention, parsed from its export
/// name: `#lunatic_test_` + optional `#ignore_` + optional `#panic_MESSAGE#` + NAME, where a `#`
/// inside MESSAGE is written `\#`.
package struct TestRunnerCase: Sendable, Equatable {
    /// The export to call.
    package var exportName: String
    /// The test's name as printed (NAME).
    package var name: String
    /// Marked `#ignore_`.
    package var ignored: Bool
    /// For `#panic_MESSAGE#`: the text the failing test's output must contain ("" = any failure).
    package var expectedPanic: String?

    /// The prefix every test export starts with.
    package static let exportPrefix = "#lunatic_test_"

    /// Parses `exportName`; nil when it is not a test export.
    package init?(exportName: String) {
        guard exportName.hasPrefix(Self.exportPrefix) else { return nil }
        var rest = Substring(exportName.dropFirst(Self.exportPrefix.count))
        var ignored = false
        if rest.hasPrefix("#ignore_") {
            rest = rest.dropFirst("#ignore_".count)
            ignored = true
        }
        var expected: String?
        if rest.hasPrefix("#panic_") {
            rest = rest.dropFirst("#panic_".count)
            // MESSAGE runs to the first '#' not preceded by '\'.
            var message = ""
            var previous: Character = " "
            var end = rest.endIndex
            for i in rest.indices {
                let c = rest[i]
                if c == "#" && previous != "\\" { end = i; break }
                message.append(c)
                previous = c
            }
            guard end < rest.endIndex else { return nil }  // no closing '#': not a well-formed test name
            rest = rest[rest.index(after: end)...]
            expected = message.replacingAll("\\#", with: "#")
        }
        self.exportName = exportName
        self.name = String(rest)
        self.ignored = ignored
        self.expectedPanic = expected
    }

    /// Whether a filter selects this test: NAME equals it (`exact`) or contains it.
    package func matches(filter: String?, exact: Bool) -> Bool {
        guard let filter, !filter.isEmpty || exact else { return true }
        return exact ? name == filter : name.contains(filter)
    }
}

extension String {
    /// The string with every occurrence of `target` replaced by `replacement` (no Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
