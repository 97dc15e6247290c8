import ArgumentParser

/// The `luna-trace` root command: record, inspect and explain message-flow traces.
public struct LunaTraceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "luna-trace",
        abstract: "Record, inspect and explain lunatic message-flow traces.",
        discussion: """
            FILE may be '-' for standard input. Errors go to stderr naming the
            file and byte offset; progress is shown on stderr only when it is a
            terminal. Each command's --help lists its exit codes.
            """,
        subcommands: [
            ShowCommand.self, StatsCommand.self, FlowCommand.self, LostCommand.self,
            ExportCommand.self, VerifyCommand.self, RecordCommand.self, RunCommand.self, TestCommand.self, QueryCommand.self,
            DiffCommand.self,
        ]
    )
    public init() {}
}
