import TraceAnalysis
import TraceFormat

/// The tables a trace becomes (docs/SQL.md describes every column).
package enum TraceTable: String, CaseIterable, Sendable {
    case events, messages, message_hops, processes, links, resources, receive_waits

    /// The `CREATE TABLE` statement.
    package var schema: String {
        switch self {
        case .events:
            return """
                CREATE TABLE events (seq INTEGER PRIMARY KEY, kind TEXT, namespace TEXT, pid INTEGER,
                  start_ns INTEGER, end_ns INTEGER, message INTEGER, result INTEGER, trap TEXT, text TEXT,
                  tags TEXT, arg0 INTEGER, arg1 INTEGER, arg2 INTEGER, arg3 INTEGER, payload_bytes INTEGER)
                """
        case .messages:
            return """
                CREATE TABLE messages (id INTEGER, tag INTEGER, link_died INTEGER, creator INTEGER,
                  created_at INTEGER, capacity INTEGER, bytes_written INTEGER, write_calls INTEGER,
                  bytes_read INTEGER, read_calls INTEGER, resources_pushed INTEGER, sends INTEGER,
                  receives INTEGER, first_sent_at INTEGER, last_sender INTEGER, last_destination INTEGER,
                  last_sent_at INTEGER, last_send_call TEXT, last_send_receiver_running INTEGER,
                  last_send_received INTEGER, received_by INTEGER, receive_called_at INTEGER,
                  received_at INTEGER, waited_ns INTEGER, latency_ns INTEGER, dropped_at INTEGER,
                  dropped_by INTEGER, drop_reason TEXT, location TEXT, location_pid INTEGER, traps INTEGER)
                """
        case .message_hops:
            return """
                CREATE TABLE message_hops (message INTEGER, hop INTEGER, from_pid INTEGER, to_pid INTEGER,
                  sent_at INTEGER, send_call TEXT, receiver_running INTEGER, received_by INTEGER,
                  receive_called_at INTEGER, received_at INTEGER, receive_call TEXT, tag_set TEXT)
                """
        case .processes:
            return """
                CREATE TABLE processes (pid INTEGER, parent INTEGER, entry TEXT, first_seen INTEGER,
                  exit_at INTEGER, exit_status TEXT, exit_reason TEXT, queued_at_exit INTEGER,
                  max_mailbox_depth INTEGER, dropped_from_mailbox INTEGER)
                """
        case .links:
            return """
                CREATE TABLE links (seq INTEGER, at INTEGER, pid INTEGER, event TEXT, other_pid INTEGER,
                  tag INTEGER, dies_too INTEGER, message INTEGER)
                """
        case .resources:
            return """
                CREATE TABLE resources (message INTEGER, slot INTEGER, kind TEXT, pushed_by INTEGER,
                  pushed_at INTEGER, resource_id INTEGER, taken_by INTEGER, taken_at INTEGER, new_id INTEGER,
                  dropped_with_message INTEGER)
                """
        case .receive_waits:
            return """
                CREATE TABLE receive_waits (seq INTEGER, pid INTEGER, call TEXT, called_at INTEGER,
                  returned_at INTEGER, waited_ns INTEGER, tag_set TEXT, timeout_ms INTEGER, outcome TEXT,
                  message INTEGER)
                """
        }
    }

    /// The tables a query names (whole words, any case); every table when it names none.
    package static func named(in sql: String) -> Set<TraceTable> {
        var words: Set<String> = []
        var word = ""
        for c in sql.lowercased() {
            if c.isLetter || c.isNumber || c == "_" { word.append(c) } else if !word.isEmpty { words.insert(word); word = "" }
        }
        if !word.isEmpty { words.insert(word) }
        let named = Set(allCases.filter { words.contains($0.rawValue) })
        return named.isEmpty ? Set(allCases) : named
    }
}

/// Loads a trace's events into SQLite tables in one pass, in one transaction, through prepared
/// statements. Only the tables asked for are created and filled.
package final class TraceSQLLoader {
    private let database: SQLiteDatabase
    private let tables: Set<TraceTable>
    private let tracker: MessageTracker?
    private var statements: [TraceTable: SQLStatement] = [:]
    private var seq: Int64 = 0
    private var failure: (any Error)?

    /// Creates `tables` in `database` and begins the loading transaction.
    package init(database: SQLiteDatabase, tables: Set<TraceTable>) throws {
        self.database = database
        self.tables = tables
        let needsTracker = !tables.isDisjoint(with: [.messages, .message_hops, .resources, .processes])
        self.tracker = needsTracker ? MessageTracker() : nil
        try database.execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN")
        for table in TraceTable.allCases where tables.contains(table) {
            try database.execute(table.schema)
            let columns = Self.columnCount(table.schema)
            statements[table] = try database.prepare(
                "INSERT INTO \(table.rawValue) VALUES (" + Array(repeating: "?", count: columns).joined(separator: ",") + ")")
        }
        tracker?.onLifeEnded = { [unowned self] life in
            guard self.failure == nil else { return }
            do { try self.insert(life) } catch { self.failure = error }
        }
    }

    private static func columnCount(_ schema: String) -> Int {
        schema.split(separator: ",").count
    }

    /// Takes the next event.
    package func observe(_ e: TraceEvent) throws {
        seq += 1
        tracker?.observe(e)
        if let failure { throw failure }
        if let s = statements[.events] {
            try s.insert(
                .int(seq), .text(e.kind.name), .text(e.kind.namespace.rawValue), .u(e.pid), .u(e.start), .u(e.end),
                e.message == 0 ? .null : .u(e.message), .opt(e.result.value), .opt(e.result.trapReason),
                e.text.isEmpty ? .null : .text(e.text), e.tags.isEmpty ? .null : .text(Self.list(e.tags)),
                .opt(e.args.at(0)), .opt(e.args.at(1)), .opt(e.args.at(2)), .opt(e.args.at(3)), .u(e.payload.size))
        }
        if let s = statements[.links] {
            switch e.kind {
            case .link:
                try s.insert(
                    .int(seq), .u(e.start), .u(e.pid), .text("link"), .opt(e.args.at(1)), .opt(e.args.at(0)), .null, .null)
            case .unlink:
                try s.insert(.int(seq), .u(e.start), .u(e.pid), .text("unlink"), .opt(e.args.at(0)), .null, .null, .null)
            case .spawn where (e.args.at(1) ?? 0) != 0 && e.result.value == 0:
                try s.insert(
                    .int(seq), .u(e.start), .u(e.pid), .text("spawn_link"), .opt(e.args.at(0)), .opt(e.args.at(1)), .null, .null)
            case .linkDied:
                try s.insert(
                    .int(seq), .u(e.start), .u(e.pid), .text("link_died"), .opt(e.args.at(0)), .opt(e.args.at(1)),
                    .opt(e.args.at(2)), e.message == 0 ? .null : .u(e.message))
            default:
                break
            }
        }
        if let s = statements[.receive_waits] {
            let timeoutArg: Int
            switch e.kind {
            case .receive: timeoutArg = 0
            case .sendReceiveSkipSearchReturn: timeoutArg = 1
            default: return
            }
            let outcome: String
            switch e.result {
            case .trap: outcome = "trap"
            default:
                let r = e.result.value
                outcome =
                    ResultCode.isTimeout(r) ? "timeout" : r == 0 || r == 1 ? "received" : "result \(r.map(String.init) ?? "none")"
            }
            let message = e.kind == .receive ? e.message : e.skipSearchReply
            try s.insert(
                .int(seq), .u(e.pid), .text(e.kind == .receive ? "receive" : "send_receive_skip_search"),
                .u(e.start), .u(e.end), .u(e.duration), e.kind == .receive && !e.tags.isEmpty ? .text(Self.list(e.tags)) : .null,
                .opt(e.args.at(timeoutArg)), .text(outcome), message == 0 || outcome != "received" ? .null : .u(message))
        }
    }

    /// Hands over the messages still followed, writes the processes and commits.
    package func finish() throws {
        tracker?.finish()
        if let failure { throw failure }
        if let tracker, let s = statements[.processes] {
            for p in tracker.processes.records {
                let status = p.exit.map {
                    ExitCode(rawValue: $0.status).map(EventLineFormatter.exitName) ?? "status \($0.status)"
                }
                try s.insert(
                    .u(p.pid), .opt(p.parent), .opt(p.entry), .u(p.firstSeen), .opt(p.exit?.at), .opt(status),
                    p.exit.map { $0.reason.isEmpty ? .null : .text($0.reason) } ?? .null,
                    p.exit == nil ? .null : .i(p.queuedAtExit), .i(p.maxMailboxDepth), .i(p.droppedFromMailbox))
            }
        }
        statements.removeAll()
        try database.execute("COMMIT")
    }

    private func insert(_ life: MessageLife) throws {
        if let s = statements[.messages] {
            let sends = life.hops.filter { $0.send != nil }
            let last = life.lastSend
            let lastHop = life.hops.last(where: { $0.send != nil })
            let delivery = life.hops.last(where: { $0.delivery != nil })?.delivery
            let sendOfDelivery = life.hops.last(where: { $0.delivery != nil })?.send
            var location: String
            var locationPID: UInt64?
            switch life.location {
            case .scratch(let p): location = "scratch"; locationPID = p
            case .mailbox(let p): location = "mailbox"; locationPID = p
            case .nowhere(let p): location = "nowhere"; locationPID = p
            case .gone: location = "gone"
            }
            let latency: Int64? = delivery.flatMap { d in
                sendOfDelivery.flatMap { d.receivedAt >= $0.at ? Int64(clamping: d.receivedAt - $0.at) : nil }
            }
            try s.insert(
                .u(life.id), .int(life.tag), .i(life.isLinkDied ? 1 : 0), .opt(life.creator), .opt(life.createdAt),
                .int(life.capacity),
                .u(life.bytesWritten), .i(life.writeCalls), .u(life.bytesRead), .i(life.readCalls), .i(life.pushes.count),
                .i(sends.count), .i(life.hops.filter { $0.delivery != nil }.count), .opt(sends.first?.send?.at),
                .opt(last?.from), .opt(last?.to), .opt(last?.at), .opt(last?.call.name),
                last.map { .i($0.receiverWasRunning ? 1 : 0) } ?? .null,
                lastHop.map { .i($0.delivery != nil ? 1 : 0) } ?? .null,
                .opt(delivery?.receiver), .opt(delivery?.calledAt), .opt(delivery?.receivedAt), .opt(delivery.map { $0.waited }),
                .opt(latency), .opt(life.drop?.at), .opt(life.drop?.pid),
                .opt(life.drop.map { $0.reason.map(EventLineFormatter.dropName) ?? "reason \($0.reasonCode)" }),
                .text(location), .opt(locationPID), .i(life.traps.count))
        }
        if let s = statements[.message_hops] {
            for (i, hop) in life.hops.enumerated() {
                let send = hop.send, d = hop.delivery
                try s.insert(
                    .u(life.id), .i(i + 1), .opt(send?.from), .opt(send?.to), .opt(send?.at), .opt(send?.call.name),
                    send.map { .i($0.receiverWasRunning ? 1 : 0) } ?? .null, .opt(d?.receiver), .opt(d?.calledAt),
                    .opt(d?.receivedAt), .opt(d?.call.name),
                    d.map { $0.tagSet.isEmpty ? .null : .text(Self.list($0.tagSet)) } ?? .null)
            }
        }
        if let s = statements[.resources] {
            let droppedSlots = Set(life.resourcesDropped.map(\.slot))
            for p in life.pushes {
                let take = life.takes.first { $0.slot == p.slot && $0.newID != nil }
                try s.insert(
                    .u(life.id), .opt(p.slot), .text("\(p.kind)"), .u(p.pid), .u(p.at), .int(p.resourceID),
                    .opt(take?.pid), .opt(take?.at), .opt(take?.newID), .i(droppedSlots.contains(p.slot ?? -1) ? 1 : 0))
            }
        }
    }

    private static func list(_ values: [Int64]) -> String {
        values.map(String.init).joined(separator: ",")
    }
}
