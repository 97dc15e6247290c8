import TraceFormat

/// One process's resources of every kind: one table per kind, ids from 0, never reused
/// (R-RES-1). Used only by the owning process.
package struct ResourceTables {
    private struct Table {
        var nextID: UInt64 = 0
        var items: [UInt64: any Resource] = [:]
    }
    private var tables: [Table] = []

    package init() {}

    @inline(__always) private static func index(_ kind: ResourceKind) -> Int { Int(kind.rawValue) }

    /// Inserts `resource` into the table of its kind; returns its new id.
    package mutating func insert(_ resource: any Resource) -> UInt64 {
        let k = Self.index(resource.resourceKind)
        if tables.count <= k { tables.append(contentsOf: repeatElement(Table(), count: k + 1 - tables.count)) }
        let id = tables[k].nextID
        tables[k].nextID += 1
        tables[k].items[id] = resource
        return id
    }

    /// The resource `id` of `kind`, if present.
    package func get(_ kind: ResourceKind, _ id: UInt64) -> (any Resource)? {
        let k = Self.index(kind)
        return k < tables.count ? tables[k].items[id] : nil
    }

    /// Removes and returns resource `id` of `kind`.
    package mutating func remove(_ kind: ResourceKind, _ id: UInt64) -> (any Resource)? {
        let k = Self.index(kind)
        guard k < tables.count else { return nil }
        return tables[k].items.removeValue(forKey: id)
    }

    /// The ids of `kind` currently present, ascending.
    package func ids(_ kind: ResourceKind) -> [UInt64] {
        let k = Self.index(kind)
        return k < tables.count ? tables[k].items.keys.sorted() : []
    }

    /// Drops everything (process end, R-PROC-7).
    package mutating func removeAll() { tables = [] }
}
