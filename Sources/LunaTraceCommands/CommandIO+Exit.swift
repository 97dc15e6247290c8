import ArgumentParser
import TraceAnalysis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the `luna-trace` commands end when their standard output could not be written.
extension CommandIO {
    /// Flushes standard output; if anything written to it was lost (a full disk, a closed
    /// pipe), says so on standard error and throws the write-failure exit status.
    package func checkOutputWritten() throws {
        out.flush()
        guard let f = out as? FileDescriptorOutput, f.failed else { return }
        err.line("luna-trace: cannot write standard output: \(String(cString: strerror(f.failure)))")
        err.flush()
        throw ExitCode(TraceExitCode.writeFailed)
    }

    /// Runs a command against the process's standard streams; a failed write to standard
    /// output is an error whatever the command itself concluded.
    package static func runStandard(_ body: (CommandIO) throws -> Void) throws {
        let io = CommandIO.standard()
        do {
            try body(io)
        } catch {
            try io.checkOutputWritten()
            throw error
        }
        try io.checkOutputWritten()
    }
}
