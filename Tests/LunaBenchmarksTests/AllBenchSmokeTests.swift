import Foundation
import Testing
@testable import LunaBenchmarks

/// `luna-bench all --quick` in process: every figure P1–P6 is measured and lands in the table
/// with its comparison. No timing assertions (figures from a debug build mean nothing).
@Suite("luna-bench all --quick")
struct AllBenchSmokeTests {
    /// The package root (…/Tests/LunaBenchmarksTests/AllBenchSmokeTests.swift → …).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    @Test("every figure gets a row with a figure, a comparison and a goal verdict")
    func quickRunFillsEveryRow() throws {
        var arguments = ["--quick", "--events", "3000", "--corpus", Self.packageRoot + "/traces/corpus"]
        // P4 replays through luna-conform; use the built one when there is one.
        let conform = [Self.packageRoot + "/.build/debug/luna-conform", Self.packageRoot + "/.build/release/luna-conform"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        if let conform {
            arguments += ["--adapter", conform + " adapter"]
        } else {
            arguments += ["--only", "P1,P2,P3,P5,P6"]
        }
        let report = try AllBench.parse(arguments).measure()
        let ids = Set(report.rows.map(\.id))
        #expect(ids.isSuperset(of: ["P1", "P2", "P3", "P5", "P6"]))
        if conform != nil { #expect(ids.contains("P4")) }
        for row in report.rows {
            #expect(!row.figure.isEmpty && !row.comparison.isEmpty, "\(row.id) \(row.what)")
        }
        // Every goal-bearing figure has a verdict; the table names each id.
        #expect(report.rows.filter { !$0.goal.isEmpty }.allSatisfy { $0.met != nil })
        let table = report.table()
        for id in ids { #expect(table.contains("| \(id) ")) }
    }
}
