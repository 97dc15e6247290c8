import ArgumentParser

/// Benchmarks of the replay layer (see docs/BENCHMARKS.md).
public struct ReplayBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Replay benchmarks.")
    public init() {}
    public func run() throws {
        throw ValidationError("the replay benchmarks are not written yet")
    }
}
