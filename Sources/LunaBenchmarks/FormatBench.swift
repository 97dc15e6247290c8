import ArgumentParser

/// Benchmarks of the format layer (see docs/BENCHMARKS.md).
public struct FormatBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "format", abstract: "Format benchmarks.")
    public init() {}
    public func run() throws {
        throw ValidationError("the format benchmarks are not written yet")
    }
}
