import ArgumentParser
import ConformanceKit
import Foundation

/// `luna-conform merge-junit`: one JUnit report from the reports of `replay --shard` runs.
public struct MergeJUnitCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "merge-junit",
        abstract: "Merge JUnit reports of replay --shard runs into one (suites kept apart, totals summed)."
    )

    @Argument(help: "JUnit reports written by replay --report junit.")
    public var reports: [String]

    @Option(help: "Write the merged report here instead of stdout.")
    public var output: String?

    public init() {}

    public func run() throws {
        var documents: [String] = []
        for path in reports {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read \(path)")
            }
            documents.append(text)
        }
        let merged: String
        do { merged = try ConformanceReport.mergeJUnit(documents) } catch { throw ValidationError("\(error)") }
        if let output {
            do { try merged.write(toFile: output, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("cannot write \(output): \(error)")
            }
        } else {
            var out = ReportOutput()
            out.write(merged)
            try out.check()
        }
    }
}
