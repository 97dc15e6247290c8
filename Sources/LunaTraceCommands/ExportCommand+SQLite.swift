import ArgumentParser
import TraceAnalysis
import TraceFormat
import TraceSQL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ExportCommand {
    /// `--format sqlite`: every table of `luna-trace query` into a database file. It is built
    /// next to the destination and renamed over it at the end, so an existing file is replaced
    /// whole and a failed export leaves no half-written database.
    func exportSQLite(io: CommandIO) throws {
        guard output != "-" else {
            throw ValidationError("--format sqlite writes a database file: give -o FILE")
        }
        let temporary = output + ".tmp-\(getpid())"
        _ = unlink(temporary)
        let outcome: TraceReadOutcome
        do {
            let database = try SQLiteDatabase(path: temporary)
            let loader = try TraceSQLLoader(database: database, tables: Set(TraceTable.allCases))
            outcome = try TraceFileReading.read(file, io: io) { try loader.observe($0) }
            try loader.finish()
        } catch let error as SQLError {
            _ = unlink(temporary)
            io.err.line("luna-trace: \(output): \(error)")
            throw ArgumentParser.ExitCode(TraceExitCode.unreadable)
        } catch {
            _ = unlink(temporary)
            throw error
        }
        guard rename(temporary, output) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = unlink(temporary)
            io.err.line("luna-trace: \(output): cannot write: \(reason)")
            throw ArgumentParser.ExitCode(TraceExitCode.unreadable)
        }
        if io.showsProgress { io.err.line("wrote \(output) (\(outcome.events) events)") }
        try outcome.exitIfDamaged()
    }
}
