import Foundation
import LunaTestSupport
import Testing

@testable import LunaBenchmarks

/// `luna-bench all --quick` in process: every figure P1–P6 is measured and lands in the table
/// with its comparison. No timing assertions (figures from a debug build mean nothing).
@Suite("luna-bench all --quick")
struct AllBenchSmokeTests {
    /// The package root (…/Tests/LunaBenchmarksTests/AllBenchSmokeTests.swift → …).
    static var packageRoot: String { LunaTestSupport.packageRoot }

    @Test("every figure gets a row with a figure, a comparison and a goal verdict")
    func quickRunFillsEveryRow() throws {
        var arguments = [
            "--quick", "--events", "3000", "--corpus", Self.packageRoot + "/traces/corpus",
            "--erlang-source", Self.packageRoot + "/bench",
        ]
        // P4 replays through the luna-conform of this build (next to the test bundle).
        let conform = try #require(builtExecutable("luna-conform"), "luna-conform is not built next to the tests")
        arguments += ["--adapter", conform + " adapter"]
        let report = try AllBench.parse(arguments).measure()
        let ids = Set(report.rows.map(\.id))
        #expect(ids.isSuperset(of: ["P1", "P2", "P3", "P4", "P5", "P6"]))
        for row in report.rows {
            #expect(!row.figure.isEmpty && !row.comparison.isEmpty, "\(row.id) \(row.what)")
        }
        // Every goal-bearing figure has a verdict (but a ratio to Erlang where Erlang is not
        // installed); the table names each id.
        #expect(
            report.rows.filter { !$0.goal.isEmpty && !$0.comparison.contains("Erlang not installed") }
                .allSatisfy { $0.met != nil })
        let table = report.table()
        for id in ids { #expect(table.contains("| \(id) ")) }
    }
}
