import ArgumentParser

/// The `luna-conform` root command: replay traces against an implementation and report divergences.
public struct LunaConformCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "luna-conform",
        abstract: "Replay lunatic traces against an implementation and pinpoint divergences.",
        subcommands: [
            ReplayCommand.self, AdapterCommand.self, CoverageCommand.self, MergeJUnitCommand.self,
            FuzzCommand.self, ShrinkCommand.self,
        ]
    )
    public init() {}
}
