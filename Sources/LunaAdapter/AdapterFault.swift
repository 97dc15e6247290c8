/// Faults the built-in adapter can inject (`luna-conform adapter --fault NAME`), each a
/// realistic way to get the message API wrong. The conformance tests check that replay catches
/// every one with the right category and rule id.
public enum AdapterFault: String, Sendable, CaseIterable {
    /// `push_*` returns the slot index plus one (R-RES-2).
    case pushOffByOne = "push-off-by-one"
    /// `take_*(i)` takes from slot i+1 (or i-1 for the last slot) (R-RES-5).
    case takeOtherSlot = "take-other-slot"
    /// Every Nth `send` silently drops its message (`drop-every-nth=N`, default 3) (R-SEND-1).
    case dropEveryNth = "drop-every-nth"
    /// Every message sent without resources is delivered twice (R-SEND-1).
    case duplicateMessage = "duplicate-message"
    /// `receive` ignores its tag set and takes the first message (R-RECV-2).
    case ignoreTags = "ignore-tags"
    /// `send_receive_skip_search` also takes matching messages already queued (R-RECV-7).
    case skipSearchSearchesQueue = "skip-search-searches-queue"
    /// Finite timeouts fire after a tenth of their time (R-RECV-5).
    case earlyTimeout = "early-timeout"
    /// Finite timeouts never fire (R-RECV-5).
    case ignoreTimeout = "ignore-timeout"
    /// `receive` returns 0 instead of 1 for a LinkDied message (R-RECV-6).
    case linkDiedReturnsZero = "link-died-returns-0"
    /// `send` to a process that does not exist traps instead of dropping the message (R-SEND-2).
    case sendMissingTraps = "send-missing-traps"
    /// A `take_*` of the wrong kind traps but also removes the resource from its slot (R-RES-6).
    case wrongKindTakeConsumes = "wrong-kind-take-consumes"

    /// One line per fault, for `--help`.
    public static var help: String {
        allCases.map { f -> String in
            switch f {
            case .pushOffByOne: return "\(f.rawValue): push returns slot index + 1 (R-RES-2)"
            case .takeOtherSlot: return "\(f.rawValue): take(i) takes another slot's resource (R-RES-5)"
            case .dropEveryNth: return "\(f.rawValue)[=N]: every Nth send drops its message, N=3 by default (R-SEND-1)"
            case .duplicateMessage: return "\(f.rawValue): messages without resources are delivered twice (R-SEND-1)"
            case .ignoreTags: return "\(f.rawValue): receive ignores its tag set (R-RECV-2)"
            case .skipSearchSearchesQueue: return "\(f.rawValue): send_receive_skip_search also searches the queue (R-RECV-7)"
            case .earlyTimeout: return "\(f.rawValue): timeouts fire after a tenth of their time (R-RECV-5)"
            case .ignoreTimeout: return "\(f.rawValue): finite timeouts never fire (R-RECV-5)"
            case .linkDiedReturnsZero: return "\(f.rawValue): receive returns 0 for a LinkDied message (R-RECV-6)"
            case .sendMissingTraps: return "\(f.rawValue): send to a missing pid traps (R-SEND-2)"
            case .wrongKindTakeConsumes: return "\(f.rawValue): a wrong-kind take traps and consumes the resource (R-RES-6)"
            }
        }.joined(separator: "\n")
    }
}

/// The faults in force, with their parameters.
public struct FaultSet: Sendable {
    /// The active faults.
    public var faults: Set<AdapterFault> = []
    /// N of `drop-every-nth`.
    public var dropEvery = 3

    /// Parses `--fault` values (`name` or `name=N`).
    public init(_ specs: [String]) throws(FaultParseError) {
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard let f = AdapterFault(rawValue: parts[0]) else { throw FaultParseError(spec: spec) }
            faults.insert(f)
            if f == .dropEveryNth, parts.count == 2 {
                guard let n = Int(parts[1]), n >= 1 else { throw FaultParseError(spec: spec) }
                dropEvery = n
            }
        }
    }

    /// Whether `f` is active.
    public func has(_ f: AdapterFault) -> Bool { faults.contains(f) }
}

/// An unknown `--fault` value.
public struct FaultParseError: Error, Sendable, CustomStringConvertible {
    /// The value given.
    public var spec: String
    public var description: String { "unknown fault '\(spec)'; known faults:\n" + AdapterFault.help }
}
