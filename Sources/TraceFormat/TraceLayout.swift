/// Fixed numbers of the file layout (see `docs/TRACE_FORMAT.md`, "File layout").
public enum TraceLayout {
    /// zstd frame magic (little-endian on disk: `28 B5 2F FD`).
    public static let zstdMagic: UInt32 = 0xFD2F_B528
    /// Skippable frame carrying the file header (`50 2A 4D 18`).
    public static let headerMagic: UInt32 = 0x184D_2A50
    /// Skippable frame carrying the frame index.
    public static let indexMagic: UInt32 = 0x184D_2A51
    /// Skippable frame carrying the closing summary.
    public static let summaryMagic: UInt32 = 0x184D_2A52
    /// Skippable frame magics are `0x184D2A50 … 0x184D2A5F`; unknown ones are skipped.
    public static let skippableMagicMask: UInt32 = 0xFFFF_FFF0
    /// First four bytes of the header frame's content: `LTRC`.
    public static let headerSignature: [UInt8] = Array("LTRC".utf8)
    /// Largest decompressed size of one event block (64 MiB). Larger blocks are rejected.
    public static let maxBlockBytes = 64 << 20
    /// Largest content of a metadata (skippable) frame this reader loads (64 MiB).
    public static let maxMetadataBytes = 64 << 20
    /// Payloads above this size are always stored as size + digest (16 MiB).
    public static let maxCapturedPayloadBytes = 16 << 20
    /// Texts are cut to this many bytes (1 MiB) by the writer.
    public static let maxTextBytes = 1 << 20
    /// Tag sets and argument lists are cut to this many entries by the writer (so one event
    /// stays far below the block limit even with a guest's wild tag count).
    public static let maxListCount = 1 << 20
    /// Size of the summary frame's content (fixed).
    public static let summaryContentBytes = 48 + 4
    /// Size of one frame index entry.
    public static let indexEntryBytes = 32
    /// Record code of the block-start record that opens every block.
    public static let blockStartCode: UInt64 = 0
    /// Record codes at or above this are non-event records a reader skips.
    public static let firstNonEventCode: UInt64 = 0x1_0000
    /// Record code of a format 2.0 block's time column (its events' start deltas and
    /// durations), the record after the block's events.
    public static let timeColumnCode: UInt64 = 0x1_0000
}
