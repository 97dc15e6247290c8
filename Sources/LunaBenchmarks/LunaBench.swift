import ArgumentParser

/// `luna-bench`: every benchmark figure, printed by one command. Build with `-c release`.
public struct LunaBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "luna-bench",
        abstract: "Measure Luna: trace format, runtime, replay. Run a release build.",
        subcommands: [
            AllBench.self, FormatBench.self, RuntimeBench.self, ReplayBench.self, GuestsBench.self,
            MixedTraceBench.self, WorkloadBench.self,
        ]
    )
    public init() {}
}
