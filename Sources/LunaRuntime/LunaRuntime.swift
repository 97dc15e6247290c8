/// LunaRuntime: processes, mailboxes, resources, WebAssembly guests, tracing.
public enum LunaRuntimeInfo { /// The runtime version.
 public static let version = "0.1.0" }
