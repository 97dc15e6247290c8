import ArgumentParser
import TraceFormat

/// `--trace-format`: the trace format version a recording is written in. 2.0, the default,
/// keeps each block's event times in a column after its events (docs/TRACE_FORMAT.md 5.4);
/// 1.3 keeps them inside each record, for tools that read only format 1.x (an older
/// luna-trace or luna-conform rejects 2.0 as an unsupported version).
enum TraceFormatChoice: String, ExpressibleByArgument, CaseIterable {
    case current = "2.0"
    case oneThree = "1.3"

    static let help = ArgumentHelp(
        "Trace format version to write: 2.0 (default) or 1.3 (for tools that read only format 1.x).")

    /// `header` with this version.
    func applied(to header: TraceHeader) -> TraceHeader {
        var h = header
        h.formatMajor = self == .current ? TraceHeader.currentMajor : 1
        h.formatMinor = TraceHeader.newestMinor(ofMajor: h.formatMajor)
        return h
    }
}
