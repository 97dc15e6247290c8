import TraceFormat

/// What the tracker knows about one process.
package struct ProcessRecord: Sendable, Equatable {
    /// The process id.
    package var pid: ProcessID
    /// The process that spawned it (0 = the host), if the spawn is in the trace.
    package var parent: UInt64?
    /// Its entry function, if known.
    package var entry: String?
    /// When it was first seen (spawn, start or first call).
    package var firstSeen: UInt64
    /// How it ended, if it did.
    package var exit: ProcessEnd?
    /// The message in its scratch area (0 = none).
    package var scratch: MessageID = 0
    /// Messages queued in its mailbox now.
    package var mailboxDepth = 0
    /// Tags of the messages queued in its mailbox now, with their counts (0 = untagged).
    package var queuedTags: [Int64: Int] = [:]
    /// The most messages ever queued in its mailbox at once.
    package var maxMailboxDepth = 0
    /// Messages the runtime dropped from its mailbox when it ended.
    package var droppedFromMailbox = 0

    /// A process first seen at `time`.
    package init(pid: ProcessID, firstSeen: UInt64) {
        self.pid = pid
        self.firstSeen = firstSeen
    }

    /// Whether it had not ended at the time the trace has reached.
    package var isRunning: Bool { exit == nil }
    /// Messages still queued when it ended: the larger of the depth at its exit event and the
    /// number of mailbox drops the runtime reported for it.
    package var queuedAtExit: Int { max(exit?.mailboxDepth ?? 0, droppedFromMailbox) }
}

/// How and when a process ended.
package struct ProcessEnd: Sendable, Equatable {
    /// The raw `ExitCode` status.
    package var status: Int64
    /// The reason text (trap reason, …).
    package var reason: String
    /// When.
    package var at: UInt64
    /// Messages queued in its mailbox at that moment.
    package var mailboxDepth: Int

    /// A short description: `normal`, `failure (reason)`, `killed`, `link_died`.
    package var summary: String {
        let name = ExitCode(rawValue: status).map(EventLineFormatter.exitName) ?? "status \(status)"
        return reason.isEmpty ? name : "\(name) (\(reason))"
    }
}
