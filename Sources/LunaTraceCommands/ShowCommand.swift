import ArgumentParser
import TraceAnalysis
import TraceFormat

/// `luna-trace show FILE`: the timeline, one line per event, with filters.
public struct ShowCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the timeline: one line per event (time, pid, call, arguments, result).",
        discussion: """
            Filters combine with AND; a filter given several times matches any of
            its values. --message also matches the data calls (write_data,
            read_data, take_*, …) made on that message while it sat in a scratch
            area. --tag matches receive tag sets, create_data tags and every event
            on a message with that tag. --last N keeps only the final N matches
            (with --pid: what the process did right before it died). Times for
            --from/--to are trace times: 1.5s, 250ms, 40us, 900ns (a bare number
            is seconds).

            """ + TraceExitCode.readingHelp
    )

    /// Output formats of `show`.
    public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, jsonl
    }

    @Argument(help: "The trace file ('-' for standard input).")
    var file: String

    @Option(help: "Only events of this process (repeatable).")
    var pid: [UInt64] = []

    @Option(help: "Only events concerning this tag (repeatable).")
    var tag: [Int64] = []

    @Option(
        help: ArgumentHelp(
            "Only events of this kind: a call name (receive, spawn, …) or a namespace (message, lifecycle, networking, …); repeatable.",
            valueName: "name"))
    var kind: [String] = []

    @Option(help: ArgumentHelp("Only events concerning this message id (repeatable).", valueName: "id"))
    var message: [UInt64] = []

    @Option(help: "Only events starting at or after this trace time.")
    var from: TraceTime?

    @Option(help: "Only events starting at or before this trace time.")
    var to: TraceTime?

    @Option(help: "Stop after printing this many events.")
    var limit: Int?

    @Option(help: "Print only the last N matching events (e.g. with --pid: what happened right before it died).")
    var last: Int?

    @Option(help: "text (default) or jsonl (one JSON object per line).")
    var format: Format = .text

    public init() {}

    public func validate() throws {
        for k in kind where Self.kinds(matching: k) == nil {
            throw ValidationError(
                "unknown event kind '\(k)' (see 'luna-trace show --help' for namespaces, or use a call name such as receive)")
        }
        if let limit, limit < 0 { throw ValidationError("--limit must be at least 0") }
        if let last, last < 0 { throw ValidationError("--last must be at least 0") }
        if limit != nil && last != nil { throw ValidationError("give --limit or --last, not both") }
    }

    /// The kinds a `--kind` value selects: one call name, or a whole namespace.
    static func kinds(matching name: String) -> Set<EventKind>? {
        if let k = EventKind(name: name) { return [k] }
        if name.hasPrefix("kind_"), let code = UInt16(name.dropFirst(5)) { return [EventKind(rawValue: code)] }
        let namespace = EventKind.Namespace.allCases.first {
            $0.rawValue == name || $0.rawValue.split(separator: ":").last.map(String.init) == name
        }
        guard let namespace, namespace != .unknown else { return nil }
        return Set(EventKind.allKnown.filter { $0.namespace == namespace })
    }

    public func run() throws { try CommandIO.runStandard { try run(io: $0) } }

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        let tracker = MessageTracker()
        var kinds: Set<EventKind>? = nil
        if !kind.isEmpty { kinds = kind.reduce(into: Set<EventKind>()) { $0.formUnion(Self.kinds(matching: $1) ?? []) } }
        let pids = Set(pid), tags = Set(tag), messages = Set(message)
        var index: UInt64 = 0
        var printed = 0
        var tail: [String] = []
        var tailStart = 0
        let outcome = try TraceFileReading.read(
            file, io: io,
            header: { header in
                guard let window = header.window else { return }
                tracker.beginsMidRun = window.isPartial
                // Text output says it first; JSON Lines stay events only, so the note goes to stderr.
                if format == .text {
                    io.out.line("# " + WindowText.line(window))
                } else {
                    io.err.line("luna-trace: \(file): " + WindowText.line(window))
                }
            }
        ) { event in
            defer { index += 1 }
            let a = tracker.observe(event)
            if let kinds, !kinds.contains(event.kind) { return }
            if !pids.isEmpty && !pids.contains(event.pid) { return }
            if let from, event.start < from.nanoseconds { return }
            if let to, event.start > to.nanoseconds { return }
            if !messages.isEmpty {
                var ids: [MessageID] = [event.message]
                if let a { ids.append(a.message) }
                if event.kind == .sendReceiveSkipSearchReturn, let request = event.args.at(2) {
                    ids.append(MessageID(bitPattern: request))
                }
                if !ids.contains(where: { $0 != 0 && messages.contains($0) }) { return }
            }
            if !tags.isEmpty {
                var eventTags = event.tags
                if let a, a.tag != 0 { eventTags.append(a.tag) }
                if event.kind == .createData, let t = event.args.at(0) { eventTags.append(t) }
                if event.kind == .linkDied, let t = event.args.at(1) { eventTags.append(t) }
                if !eventTags.contains(where: { tags.contains($0) }) { return }
            }
            if let limit, printed >= limit { throw StopReading() }
            printed += 1
            let line: String
            switch format {
            case .text: line = EventLineFormatter.line(event, attribution: a)
            case .jsonl: line = EventJSON.line(event, index: index)
            }
            if let last {
                // Keep only the last N lines: a ring of at most N.
                guard last > 0 else { return }
                if tail.count < last { tail.append(line) } else { tail[tailStart] = line; tailStart = (tailStart + 1) % last }
            } else {
                io.out.line(line)
            }
        }
        for i in 0..<tail.count { io.out.line(tail[(tailStart + i) % tail.count]) }
        io.out.flush()
        try outcome.exitIfDamaged()
    }
}
