import TraceFormat

/// The tracker's processes by pid: records in one flat array, in the order they were first seen,
/// found through a pid-indexed table for the small dense pids of runtime traces and through a
/// dictionary for larger ones (hand-made or hostile files), so following an event costs an array
/// index rather than a hash and no record is copied out to be read or changed.
package struct ProcessTable: Sendable {
    /// The records, in first-seen order.
    package private(set) var records: [ProcessRecord] = []
    /// Slot + 1 of pids below `denseLimit` (0 = not seen).
    private var denseSlots: [Int32] = []
    private var sparseSlots: [UInt64: Int32] = [:]
    /// Pids from here on go to the dictionary (a table for them would cost memory for nothing).
    private static let denseLimit: UInt64 = 1 << 16

    /// An empty table.
    package init() {}

    /// Number of processes.
    package var count: Int { records.count }
    /// Whether no process has been seen.
    package var isEmpty: Bool { records.isEmpty }
    /// The pids, in first-seen order.
    package var keys: [UInt64] { records.map(\.pid) }

    /// The slot of `pid` in `records`, or -1 if it has not been seen.
    @inline(__always)
    package func slot(of pid: ProcessID) -> Int {
        if pid < Self.denseLimit {
            let p = Int(pid)
            return p < denseSlots.count ? Int(denseSlots[p]) - 1 : -1
        }
        return sparseSlots[pid].map { Int($0) } ?? -1
    }

    /// The record of `pid`, if it has been seen.
    package subscript(pid: ProcessID) -> ProcessRecord? {
        let i = slot(of: pid)
        return i >= 0 ? records[i] : nil
    }

    /// The record in slot `i` (from `slot(of:)`), read or changed in place.
    package subscript(slot i: Int) -> ProcessRecord {
        _read { yield records[i] }
        _modify { yield &records[i] }
    }

    /// Adds the record of a pid not seen yet and returns its slot.
    @discardableResult
    package mutating func insert(_ record: ProcessRecord) -> Int {
        let i = records.count
        records.append(record)
        if record.pid < Self.denseLimit {
            let p = Int(record.pid)
            if p >= denseSlots.count {
                denseSlots.append(contentsOf: repeatElement(0, count: max(p + 1 - denseSlots.count, denseSlots.count)))
            }
            denseSlots[p] = Int32(i + 1)
        } else {
            sparseSlots[record.pid] = Int32(i)
        }
        return i
    }
}
