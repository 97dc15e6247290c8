import ArgumentParser

/// A size in bytes as given on the command line: a whole number, optionally followed by `k`,
/// `M` or `G` (binary: 1024, 1024², 1024³; any case, with or without a trailing `B` or `iB`):
/// `65536`, `100k`, `64M`, `64MiB`, `1G`.
package struct ByteSize: ExpressibleByArgument, Sendable, Equatable {
    /// The size in bytes.
    package var bytes: Int

    /// Wraps a byte count.
    package init(bytes: Int) { self.bytes = bytes }

    /// Parses `65536`, `100k`, `64M`, `1G` (see the type).
    package init?(argument: String) {
        var text = Substring(argument.lowercased())
        if text.hasSuffix("ib") { text = text.dropLast(2) } else if text.hasSuffix("b") { text = text.dropLast() }
        var scale = 1
        switch text.last {
        case "k": scale = 1 << 10
        case "m": scale = 1 << 20
        case "g": scale = 1 << 30
        default: break
        }
        if scale > 1 { text = text.dropLast() }
        guard !text.isEmpty, text.allSatisfy(\.isASCII), let n = Int(text), n >= 0 else { return nil }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        self.bytes = bytes
    }

    package static var defaultCompletionKind: CompletionKind { .default }

    /// The size as people read it: `64MiB`, `100KiB`, or bytes.
    package var description: String {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes) bytes"
    }
}
