import ArgumentParser
import TraceAnalysis
import TraceFormat
import TraceSQL

/// `luna-trace query FILE SQL [--format table|csv|jsonl]`: SQL over a trace's tables.
public struct QueryCommand: StreamingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run SQL over a trace: events, messages, message_hops, processes, links, resources, receive_waits.",
        discussion: """
            The trace is loaded into an in-memory SQLite database, only the tables
            the SQL names (all of them when it names none), and the statements run
            in order; each one that returns rows prints them. docs/SQL.md describes
            the tables and has example queries. `export --format sqlite -o FILE`
            writes the same tables to a database file.

            Exit codes:
              0   the statements ran
              1   a statement failed (the error names it)
              2   the trace could not be read (missing, not a trace, or damaged)
              64  wrong arguments
            """
    )

    /// Output formats.
    public enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case table, csv, jsonl
    }

    @Argument(help: "The trace file ('-' for standard input).")
    var file: String

    @Argument(help: "The SQL to run (one or more statements).")
    var sql: String

    @Option(help: "table, csv or jsonl.")
    var format: Format = .table

    public init() {}

    public func run() throws { try run(io: .standard()) }

    /// Runs with explicit streams (the seam the in-process tests use).
    package func run(io: CommandIO) throws {
        defer { io.flush() }
        let database: SQLiteDatabase
        let loader: TraceSQLLoader
        do {
            database = try SQLiteDatabase(path: ":memory:")
            loader = try TraceSQLLoader(database: database, tables: TraceTable.named(in: sql))
        } catch {
            io.err.line("luna-trace: cannot set up the database: \(error)")
            throw ArgumentParser.ExitCode(TraceExitCode.unreadable)
        }
        let outcome: TraceReadOutcome
        do {
            outcome = try TraceFileReading.read(file, io: io) { try loader.observe($0) }
            try loader.finish()
        } catch let error as SQLError {
            io.err.line("luna-trace: \(file): loading the tables failed: \(error)")
            throw ArgumentParser.ExitCode(TraceExitCode.unreadable)
        }
        try outcome.exitIfDamaged()
        let printer = SQLResultPrinter(format: format, out: io.out)
        do {
            try database.run(sql, header: printer.header, row: printer.row)
            printer.finish()
        } catch let error as SQLError {
            printer.finish()
            io.out.flush()
            io.err.line("luna-trace: query: \(error)")
            throw ArgumentParser.ExitCode(TraceExitCode.findings)
        }
    }
}

/// Prints result rows as an aligned text table, CSV (RFC 4180 quoting) or JSON Lines.
final class SQLResultPrinter {
    private let format: QueryCommand.Format
    private let out: any TextOutput
    private var columns: [String] = []
    private var rows: [[String]] = []
    private var rowCount = 0

    init(format: QueryCommand.Format, out: any TextOutput) {
        self.format = format
        self.out = out
    }

    func header(_ names: [String]) {
        flushTable()
        columns = names
        if format == .csv { out.line(names.map(csv).joined(separator: ",")) }
    }

    func row(_ values: [SQLValue]) {
        rowCount += 1
        switch format {
        case .table:
            rows.append(values.map(text))
        case .csv:
            out.line(values.map { $0 == .null ? "" : csv(text($0)) }.joined(separator: ","))
        case .jsonl:
            var line = "{"
            for (i, v) in values.enumerated() {
                if i > 0 { line += "," }
                line += JSONText.string(i < columns.count ? columns[i] : "column\(i + 1)") + ":" + json(v)
            }
            out.line(line + "}")
        }
    }

    func finish() { flushTable() }

    /// Writes the buffered table: columns as wide as their widest value, numbers to the right.
    private func flushTable() {
        guard format == .table, !columns.isEmpty else { return }
        var widths = columns.map(\.count)
        for r in rows { for (i, v) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], v.count) } }
        func pad(_ s: String, _ w: Int, right: Bool) -> String {
            let fill = String(repeating: " ", count: max(0, w - s.count))
            return right ? fill + s : s + fill
        }
        let numeric = columns.indices.map { i in
            rows.allSatisfy { i >= $0.count || Int64($0[i]) != nil || $0[i] == "NULL" } && !rows.isEmpty
        }
        func render(_ r: [String]) -> String {
            var parts: [String] = []
            for (i, v) in r.enumerated() { parts.append(pad(v, widths[i], right: numeric[i])) }
            var line = parts.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
        out.line(render(columns))
        out.line(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for r in rows { out.line(render(r)) }
        out.line("(\(rows.count) row\(rows.count == 1 ? "" : "s"))")
        rows.removeAll()
        columns = []
    }

    private func text(_ v: SQLValue) -> String {
        switch v {
        case .null: return "NULL"
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        case .text(let s): return s
        case .blob(let b): return "x'" + Hex.encode(b) + "'"
        }
    }

    private func json(_ v: SQLValue) -> String {
        switch v {
        case .null: return "null"
        case .integer(let i): return String(i)
        case .real(let d): return d.isFinite ? String(d) : "null"
        case .text(let s): return JSONText.string(s)
        case .blob: return JSONText.string(text(v))
        }
    }

    private func csv(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        var quoted = "\""
        for c in s { quoted += c == "\"" ? "\"\"" : String(c) }
        return quoted + "\""
    }
}
