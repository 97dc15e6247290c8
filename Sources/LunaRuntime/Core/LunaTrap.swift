import TraceFormat

/// A trap raised by a host operation; `reason` is lunatic's trap text, e.g.
/// "lunatic::message::write_data" (docs/SEMANTICS.md §8 lists the message ones).
/// A native process traps by letting this error leave its body.
public struct LunaTrap: Error, Sendable, Equatable, CustomStringConvertible {
    /// lunatic's trap text.
    public let reason: String
    /// A trap with `reason`.
    public init(reason: String) { self.reason = reason }
    /// A trap with `reason`.
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "trap: \(reason)" }

    /// The trap text of a message call that found a LinkDied message in the scratch area.
    public static let linkDiedInScratch = "Unexpected `Message::LinkDied` in scratch area"
}

/// Thrown out of a blocked or running operation when the process has been killed or has died
/// from a link (R-PROC-8): the process body must not catch it and go on.
public struct ProcessTerminated: Error, Sendable {
    /// Creates the error.
    public init() {}
}

/// How a process ended.
public enum ProcessExit: Sendable, Equatable {
    /// The entry returned.
    case normal
    /// The process trapped (or its body threw); `reason` is the trap text.
    case failure(reason: String)
    /// Killed with `kill`.
    case killed
    /// Died because linked process `from` failed (R-PROC-5), or linked to a missing one (R-PROC-3).
    case linkDied(from: ProcessID)

    /// The `ExitCode` stored in `exit` events.
    public var code: ExitCode {
        switch self {
        case .normal: return .normal
        case .failure: return .failure
        case .killed: return .killed
        case .linkDied: return .linkDied
        }
    }

    /// Whether linked processes are notified (everything but a normal end, R-PROC-5).
    public var notifiesLinks: Bool { self != .normal }
}

/// Anything that can sit in a resource table or a message slot.
public protocol Resource: AnyObject, Sendable {
    /// Which per-process table (and which `push_*`/`take_*` pair) the resource belongs to.
    var resourceKind: ResourceKind { get }
}
