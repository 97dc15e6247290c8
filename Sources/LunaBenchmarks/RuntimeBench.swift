import ArgumentParser

/// Benchmarks of the runtime layer (see docs/BENCHMARKS.md).
public struct RuntimeBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "runtime", abstract: "Runtime benchmarks.")
    public init() {}
    public func run() throws {
        throw ValidationError("the runtime benchmarks are not written yet")
    }
}
