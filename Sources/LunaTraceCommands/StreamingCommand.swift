import ArgumentParser
import TraceAnalysis

/// A `luna-trace` subcommand that can run against explicit streams (the seam for in-process
/// tests: they pass `StringOutput`s and read what the command printed).
package protocol StreamingCommand: ParsableCommand {
    /// Runs the command, writing to `io`; throws `ExitCode` for a non-zero status.
    func run(io: CommandIO) throws
}

extension LunaTraceCommand {
    /// Parses `arguments` (without the program name) as the command line, runs the chosen
    /// subcommand against `io`, and returns the exit status the executable would have.
    package static func invoke(_ arguments: [String], io: CommandIO) -> Int32 {
        do {
            let command = try parseAsRoot(arguments)
            if let streaming = command as? any StreamingCommand {
                do {
                    try streaming.run(io: io)
                } catch {
                    try io.checkOutputWritten()
                    throw error
                }
                try io.checkOutputWritten()
            } else {
                var other = command
                try other.run()
            }
            io.flush()
            return 0
        } catch {
            let message = fullMessage(for: error)
            if !message.isEmpty { io.err.line(message) }
            io.flush()
            return exitCode(for: error).rawValue
        }
    }
}
