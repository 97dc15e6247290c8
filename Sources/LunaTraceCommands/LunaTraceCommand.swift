import ArgumentParser

/// The `luna-trace` root command: record, inspect and explain message-flow traces.
public struct LunaTraceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "luna-trace",
        abstract: "Record, inspect and explain lunatic message-flow traces.",
        subcommands: []
    )
    public init() {}
}
