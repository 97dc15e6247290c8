import TraceFormat

extension TraceShrinker {
    /// `events` with each process's resource ids, per kind, renumbered from 0 in the same order.
    ///
    /// A trace that has lost most of its takes still carries the ids those takes left behind:
    /// a take recorded as inserting id 467 makes the replay first create ids 0–466
    /// (`new_resource`) so that the adapter's table has seen as many insertions. Renumbering the
    /// ids a table holds in the trace (take results, pushes that did not trap) as 0, 1, 2, … in
    /// ascending order keeps every rule that concerns them (ids grow by one per insertion and are
    /// never reused, R-RES-1) while the replay no longer creates resources that nothing uses. Ids
    /// the table never held (pushes that trap, R-RES-4) get numbers above every held one, so
    /// they stay unheld.
    public static func compactingResourceIDs(_ events: [TraceEvent]) -> [TraceEvent] {
        struct Table: Hashable {
            var pid: UInt64
            var kind: String
        }
        var held: [Table: Set<Int64>] = [:]
        var unheld: [Table: Set<Int64>] = [:]
        for e in events {
            guard let kind = e.kind.resourceKindName else { continue }
            let table = Table(pid: e.pid, kind: kind)
            let trapped = e.result.trapReason != nil
            if isTake(e.kind) {
                if !trapped, let id = e.result.value { held[table, default: []].insert(id) }
            } else if let id = e.args.at(0) {
                if trapped { unheld[table, default: []].insert(id) } else { held[table, default: []].insert(id) }
            }
        }
        var renumber: [Table: [Int64: Int64]] = [:]
        for table in Set(held.keys).union(unheld.keys) {
            var map: [Int64: Int64] = [:]
            for id in (held[table] ?? []).sorted() { map[id] = Int64(map.count) }
            for id in (unheld[table] ?? []).sorted() where map[id] == nil && id >= 0 { map[id] = Int64(map.count) }
            renumber[table] = map
        }
        return events.map { e in
            guard let kind = e.kind.resourceKindName,
                let map = renumber[Table(pid: e.pid, kind: kind)]
            else { return e }
            var e = e
            if isTake(e.kind) {
                if e.result.trapReason == nil, let id = e.result.value, let to = map[id] { e.result = .value(to) }
            } else if let id = e.args.at(0), let to = map[id] {
                e.args[0] = to
            }
            return e
        }
    }

    static func isTake(_ kind: EventKind) -> Bool {
        switch kind {
        case .takeModule, .takeTcpStream, .takeTlsStream, .takeUdpSocket: return true
        default: return false
        }
    }
}
