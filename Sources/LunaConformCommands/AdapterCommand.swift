import ArgumentParser
import LunaAdapter

/// `luna-conform adapter`: serve the adapter protocol on stdin/stdout with LunaRuntime.
public struct AdapterCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "adapter",
        abstract: "Run LunaRuntime as a stdio adapter (docs/ADAPTER_PROTOCOL.md).",
        discussion: "Faults (--fault NAME, repeatable) make it deliberately wrong, to check that replay catches it:\n"
            + AdapterFault.help
    )

    /// Faults to inject.
    @Option(name: .customLong("fault"), help: "Inject a fault (see below); repeatable.")
    public var faults: [String] = []

    public init() {}

    public func validate() throws {
        do { _ = try FaultSet(faults) } catch { throw ValidationError(error.description) }
    }

    public func run() throws {
        let set = try FaultSet(faults)
        BuiltinAdapter(faults: set).serve()
    }
}
