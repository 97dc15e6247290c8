/// How trace files are named: one extension for every file Luna writes and looks for.
public enum TraceFileName {
    /// `trace`, as in `run.trace`.
    public static let pathExtension = "trace"

    /// `.trace`.
    public static let suffix = "." + pathExtension

    /// `stem.trace`.
    public static func named(_ stem: String) -> String { stem + suffix }
}
