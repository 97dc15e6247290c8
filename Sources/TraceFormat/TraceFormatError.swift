/// Why a trace could not be read (or written), and where.
public struct TraceFormatError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The class of problem.
    public enum Kind: String, Sendable, Equatable {
        /// The input ends before a frame (or the header) is complete.
        case truncated
        /// The input does not start with a Luna trace header.
        case notATrace
        /// The header's major format version is newer than this reader.
        case unsupportedVersion
        /// A frame's bytes are inconsistent (bad zstd data, checksum mismatch, bad metadata).
        case corruptFrame
        /// A block would decompress to more than `TraceLayout.maxBlockBytes`.
        case decompressionBomb
        /// A record inside a block cannot be decoded.
        case badEvent
        /// The input has no bytes at all.
        case emptyFile
        /// The file ended cleanly but without the closing summary (writer did not close).
        case missingSummary
        /// Seeking was asked for but the trace has no usable frame index.
        case noIndex
        /// An operating-system read, write or open failed.
        case io
        /// The API was misused (e.g. writing after close).
        case usage
    }

    /// The class of problem.
    public var kind: Kind
    /// Byte offset (from the first byte of the trace) where the problem was found.
    public var offset: UInt64
    /// Human-readable detail.
    public var detail: String

    /// Creates an error.
    public init(_ kind: Kind, offset: UInt64, _ detail: String) {
        self.kind = kind
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue) at byte \(offset): \(detail)" }
}
