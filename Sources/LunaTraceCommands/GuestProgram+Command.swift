import ArgumentParser
import LunaRunner
import LunaRuntime
import TraceAnalysis
import TraceFormat

extension GuestProgram {
    /// The module and preopened directories of a `run` or `test` invocation; a bad `--dir`
    /// (exit 64) or an unloadable module (`RecordCommand.cannotLoad`) is reported on `io.err`.
    static func prepare(module: String, directories: [String], io: CommandIO) throws -> (GuestModule, [String]) {
        let preopens: [String]
        do {
            preopens = try preopenedDirectories(directories)
        } catch {
            io.err.line("luna-trace: \(error)")
            throw ArgumentParser.ExitCode(64)
        }
        do {
            return (try GuestModule(path: module), preopens)
        } catch {
            io.err.line("luna-trace: \(module): cannot load module: \(error)")
            throw ArgumentParser.ExitCode(RecordCommand.cannotLoad)
        }
    }
}

extension RecordingInterrupts: TestRunObserver {
    func began(_ environment: Environment, _ writer: TraceWriter?) { begin(environment, writer) }
    func ended() { end() }
    var shouldStop: Bool { received != 0 }
}
