import CSQLite

/// An error from SQLite, with its message (which names the place in the SQL, when it can).
package struct SQLError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// A value read from a result row.
package enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A thin wrapper over one SQLite connection (the system's libsqlite3).
package final class SQLiteDatabase {
    private var handle: OpaquePointer?

    /// Opens (creating if needed) the database at `path`; `":memory:"` for one in memory.
    package init(path: String) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            handle = nil
            throw SQLError("cannot open database \(path): \(message)")
        }
    }

    deinit { sqlite3_close_v2(handle) }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    /// Runs statements that return no rows (`CREATE`, `BEGIN`, pragmas).
    package func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? lastError
            sqlite3_free(error)
            throw SQLError(message)
        }
    }

    /// `sql` without the blanks and semicolons around it, for error messages.
    private static func trimmed(_ sql: String) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == ";" }
        return String(sql.drop(while: blank).reversed().drop(while: blank).reversed())
    }

    /// A prepared statement for `sql` (one statement).
    package func prepare(_ sql: String) throws -> SQLStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
            let statement
        else { throw SQLError(lastError) }
        return SQLStatement(statement, database: self)
    }

    /// Runs every statement of `sql` in turn; for each that returns columns, calls `header` with
    /// their names and then `row` with each row. Stops at the first error, which names the
    /// statement (its number and text) and SQLite's message.
    package func run(_ sql: String, header: ([String]) -> Void, row: ([SQLValue]) -> Void) throws {
        var utf8 = Array(sql.utf8CString)
        try utf8.withUnsafeMutableBufferPointer { buffer in
            var cursor = UnsafePointer(buffer.baseAddress!)
            let end = cursor + buffer.count - 1
            var number = 0
            while cursor < end {
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let start = cursor
                guard sqlite3_prepare_v2(handle, cursor, Int32(end - cursor), &statement, &tail) == SQLITE_OK else {
                    throw SQLError("statement \(number + 1): \(lastError)")
                }
                cursor = tail ?? end
                guard let statement else { continue }  // whitespace or a comment
                number += 1
                defer { sqlite3_finalize(statement) }
                let columns = Int(sqlite3_column_count(statement))
                if columns > 0 {
                    header((0..<columns).map { String(cString: sqlite3_column_name(statement, Int32($0))) })
                }
                while true {
                    let rc = sqlite3_step(statement)
                    if rc == SQLITE_DONE { break }
                    guard rc == SQLITE_ROW else {
                        let text = Self.trimmed(String(String(cString: start).utf8.prefix(Int(cursor - start)))!)
                        throw SQLError("statement \(number) (\(text)): \(lastError)")
                    }
                    var values: [SQLValue] = []
                    values.reserveCapacity(columns)
                    for i in 0..<Int32(columns) { values.append(SQLStatement.value(statement, i)) }
                    row(values)
                }
            }
        }
    }
}

/// A prepared statement, reused for every row it inserts.
package final class SQLStatement {
    private let statement: OpaquePointer
    private let database: SQLiteDatabase

    fileprivate init(_ statement: OpaquePointer, database: SQLiteDatabase) {
        self.statement = statement
        self.database = database
    }

    deinit { sqlite3_finalize(statement) }

    /// Binds `values` to the parameters (1…n), runs the statement once and resets it.
    package func insert(_ values: SQLBinding...) throws {
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, index)
            case .int(let v): sqlite3_bind_int64(statement, index, v)
            case .text(let s): sqlite3_bind_text(statement, index, s, -1, SQLITE_TRANSIENT)
            }
        }
        let rc = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard rc == SQLITE_DONE else { throw SQLError(database.lastError) }
    }

    static func value(_ statement: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, i) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, i))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, i))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, i)))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(statement, i))
            guard n > 0, let p = sqlite3_column_blob(statement, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }
}

/// A value bound to a statement parameter.
package enum SQLBinding {
    case null
    case int(Int64)
    case text(String)

    /// An unsigned id or time: SQLite integers are signed 64-bit, so values past `Int64.max`
    /// keep their bits and read back negative (only hostile files have them).
    package static func u(_ v: UInt64) -> SQLBinding { .int(Int64(bitPattern: v)) }
    package static func i(_ v: Int) -> SQLBinding { .int(Int64(v)) }
    package static func opt(_ v: UInt64?) -> SQLBinding { v.map { .int(Int64(bitPattern: $0)) } ?? .null }
    package static func opt(_ v: Int64?) -> SQLBinding { v.map { .int($0) } ?? .null }
    package static func opt(_ v: String?) -> SQLBinding { v.map { .text($0) } ?? .null }
}

// SQLITE_TRANSIENT is a macro the importer does not bring over: SQLite copies the bytes.
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
