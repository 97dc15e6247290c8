import TraceFormat

/// Rebuilding each process's resource tables in the adapter, so that the ids the adapter gives
/// can be compared with the recorded ones (R-RES-1: per process and kind, from 0, one more per
/// insertion, never reused).
///
/// The trace shows insertions by `take_*` (the new id is its result) and, indirectly, resources
/// created outside the message API (`compile_module`, `tcp_connect`, …): their ids appear when
/// they are pushed, or as gaps before a take's id. The replay inserts one `new_resource` per such
/// id, in id order, so that the adapter's table has seen the same number of insertions as the
/// recorded one before every take and push.
extension ReplayEngine {
    /// At most this many resources are created to fill a gap in a table's ids; a larger gap
    /// (a crafted trace) leaves that table's ids unchecked.
    static let maxTableGap: Int64 = 4096

    /// Insertions made in the adapter's table `table` so far.
    func insertions(_ table: TableKey) -> Int64 { tableCount[table] ?? 0 }

    /// Creates resources in `table` until it has had `count` insertions; each stands for the
    /// recorded id it gets. Returns false when the table cannot be followed (its ids are then
    /// not compared).
    @discardableResult
    func fillTable(
        _ table: TableKey, to count: Int64, index: Int, event: TraceEvent,
        adapterPid: Int64
    ) throws(AdapterFailure) -> Bool {
        if untrackedTables.contains(table) { return false }
        let have = insertions(table)
        if count < have || count - have > Self.maxTableGap {
            untrackedTables.insert(table)
            return false
        }
        var next = have
        while next < count {
            let key = ResourceKey(pid: table.pid, kind: table.kind, id: next)
            try createResource(key, index: index, event: event, adapterPid: adapterPid, expectedID: next)
            next += 1
        }
        return true
    }

    /// Sends a `new_resource` for the recorded resource `key` (the answer is checked against
    /// `expectedID` and fills `resourceMap`); returns its identity.
    @discardableResult
    func createResource(
        _ key: ResourceKey, index: Int, event: TraceEvent, adapterPid: Int64,
        expectedID: Int64?
    ) throws(AdapterFailure) -> Int {
        let ident = resources.count
        resources.append(ResourceIdentity(kind: key.kind, token: nil))
        let table = TableKey(pid: key.pid, kind: key.kind)
        tableCount[table] = insertions(table) + 1
        let id = try send(
            "new_resource", "\"process\":\(adapterPid),\"kind\":\"\(key.kind)\"", index: index, event: event,
            context: .newResource(key: key, identity: ident, expectedID: expectedID))
        resourceMap[key] = ResourceEntry(identity: ident, adapterID: nil, pendingRequest: id)
        return ident
    }

    /// Before a push of recorded id `key.id` that the replay has not seen yet: creates it (and
    /// the ids before it) so that the adapter's table holds it under the same id. Returns false
    /// when the table cannot be followed.
    func createForPush(_ key: ResourceKey, index: Int, event: TraceEvent, adapterPid: Int64) throws(AdapterFailure) -> Bool {
        let table = TableKey(pid: key.pid, kind: key.kind)
        guard key.id >= insertions(table), try fillTable(table, to: key.id, index: index, event: event, adapterPid: adapterPid)
        else {
            untrackedTables.insert(table)
            try createResource(key, index: index, event: event, adapterPid: adapterPid, expectedID: nil)
            return false
        }
        try createResource(key, index: index, event: event, adapterPid: adapterPid, expectedID: key.id)
        return true
    }

    /// Before a take whose recorded new id is `newID`: fills the table up to it. Returns the id
    /// the adapter must give, or nil when the table cannot be followed.
    func prepareTake(
        _ table: TableKey, newID: Int64, index: Int, event: TraceEvent, adapterPid: Int64
    ) throws(AdapterFailure) -> Int64? {
        guard try fillTable(table, to: newID, index: index, event: event, adapterPid: adapterPid) else { return nil }
        tableCount[table] = newID + 1
        return newID
    }

    /// Describes an id check failure: "id 1 (the 1st tcp_stream of pid 2)".
    static func ordinal(_ n: Int64) -> String {
        let suffix: String
        switch (n % 100, n % 10) {
        case (11...13, _): suffix = "th"
        case (_, 1): suffix = "st"
        case (_, 2): suffix = "nd"
        case (_, 3): suffix = "rd"
        default: suffix = "th"
        }
        return "\(n)\(suffix)"
    }

    /// Compares an id the adapter gave with the one R-RES-1 gives.
    func checkResourceID(_ call: PendingCall, kind: String, got: Int64?, expected: Int64?, what: String) {
        guard let expected, let got, got != expected else { return }
        diverge(
            call, .wrongResourceIndex, "R-RES-1",
            expected: "id \(expected) (the \(Self.ordinal(expected + 1)) \(kind) in pid \(call.event.pid)'s table)",
            got: "id \(got)",
            detail: "\(what): ids start at 0, grow by one per insertion and are never reused")
    }
}
