/// LunaRuntime: processes, mailboxes, resources, WebAssembly guests, tracing.
///
/// Start with `Environment`: `spawn` runs a native process (a Swift async closure on the
/// environment's single-thread native executor), `spawnThread` a process with a thread of its
/// own (WebAssembly guests). Each body gets a `ProcessContext` with the lunatic operations
/// (`createData`, `send`, `receive`, `link`, …), which behave as `docs/SEMANTICS.md` says
/// and record every call into the environment's `TraceSink`, if it has one. The declarations
/// other layers rely on are listed in `Core/CONTRACT.md`.
public enum LunaRuntimeInfo {
    /// The runtime version.
    public static let version = "0.1.0"
}
