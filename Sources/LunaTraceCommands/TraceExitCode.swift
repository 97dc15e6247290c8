import ArgumentParser

/// The exit statuses every `luna-trace` command uses (also listed in each command's `--help`).
package enum TraceExitCode {
    /// The command did its work and found nothing to report.
    package static let success: Int32 = 0
    /// The command found something: `lost` found lost messages, near misses or leaked
    /// resources; `verify` found the file incomplete or damaged.
    package static let findings: Int32 = 1
    /// The trace could not be read: missing file, not a trace, or damaged before its end
    /// (the events before the damage were still processed and printed).
    package static let unreadable: Int32 = 2
    /// Wrong arguments (ArgumentParser's usage error status).
    package static let usage: Int32 = 64
    /// The output could not be written (EX_IOERR): a full disk, a closed pipe.
    package static let writeFailed: Int32 = 74

    /// The exit-code paragraph shown in `--help` of the reading commands.
    package static let readingHelp = """

        Exit codes:
          0   success
          2   the trace could not be read (missing, not a trace, or damaged;
              events before the damage are still processed, and the error
              names the file and byte offset)
          64  wrong arguments
          74  the output could not be written (full disk, closed pipe)
        A trace that merely stops early (a writer that never closed it) is
        processed up to its last complete event with a warning on stderr,
        and exits 0.
        """
}
