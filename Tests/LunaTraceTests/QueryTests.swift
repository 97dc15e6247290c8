import Foundation
import Testing
import TraceFormat

@testable import LunaTraceCommands
@testable import TraceAnalysis
@testable import TraceSQL

/// The example queries of docs/SQL.md that the tests run.
enum QueryExamples {
    /// What `lost` calls lost messages: the last send was never received.
    static let lost = """
        SELECT id, tag, bytes_written, last_sender, last_destination, last_sent_at, drop_reason
        FROM messages WHERE last_send_received = 0 ORDER BY last_sent_at
        """
    static let processes = "SELECT pid, parent, entry, exit_status, exit_reason, max_mailbox_depth FROM processes ORDER BY pid"
    static let waits = "SELECT pid, call, tag_set, timeout_ms, outcome, waited_ns FROM receive_waits WHERE pid = 1 ORDER BY seq"
}

@Suite("query: SQL over a trace's tables")
struct QueryTests {
    static let supervisor = GoldenTests.input("supervisor")

    /// The single integer a query returns, from its CSV output.
    func scalar(_ trace: String, _ sql: String) throws -> Int {
        let r = TraceFixtures.run(["query", trace, sql, "--format", "csv"])
        #expect(r.code == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 2, "\(r.out)")
        return try #require(Int(lines.last.map(String.init) ?? ""), "\(r.out)")
    }

    /// The count `stats` or `lost` prints after `label` (e.g. "  sent   11").
    func figure(_ text: String, _ label: String) throws -> Int {
        let line = try #require(text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) })
        let rest = line.trimmingCharacters(in: .whitespaces).dropFirst(label.count)
        let digits = rest.drop { !$0.isNumber }.prefix { $0.isNumber }
        return try #require(Int(digits))
    }

    @Test("the lost-message query finds what `lost` finds, on the supervisor and the postmortem scenario")
    func lostAgrees() throws {
        let dir = try TraceFixtures.directory()
        for trace in [Self.supervisor, try TraceFixtures.postmortem(in: dir).path] {
            let lost = TraceFixtures.run(["lost", trace])
            let fromLint = try figure(lost.out, "lost message:")
            #expect(try scalar(trace, "SELECT count(*) FROM (\(QueryExamples.lost))") == fromLint)
        }
    }

    @Test("the stats figures from SQL: events per call, messages sent and received, timeouts, process ends")
    func statsAgree() throws {
        let trace = Self.supervisor
        let stats = TraceFixtures.run(["stats", trace]).out
        #expect(try scalar(trace, "SELECT count(*) FROM events") == 93)
        #expect(try scalar(trace, "SELECT count(*) FROM events WHERE kind = 'write_data'") == figure(stats, "write_data"))
        #expect(try scalar(trace, "SELECT count(*) FROM events WHERE kind = 'receive'") == figure(stats, "receive "))
        #expect(try scalar(trace, "SELECT count(*) FROM messages WHERE link_died = 0") == figure(stats, "created"))
        #expect(try scalar(trace, "SELECT sum(sends) FROM messages WHERE link_died = 0") == figure(stats, "sent"))
        #expect(try scalar(trace, "SELECT sum(receives) FROM messages") == figure(stats, "received"))
        #expect(
            try scalar(trace, "SELECT count(*) FROM receive_waits WHERE outcome = 'timeout'") == figure(stats, "receive timeouts")
        )
        #expect(try scalar(trace, "SELECT count(*) FROM processes WHERE exit_status = 'normal'") == 3)
        #expect(try scalar(trace, "SELECT count(*) FROM receive_waits WHERE outcome = 'received'") == figure(stats, "n "))
        // Per process, as the table at the end of stats: messages sent by pid 1.
        #expect(try scalar(trace, "SELECT count(*) FROM message_hops WHERE from_pid = 1 AND send_call = 'send'") == 6)
    }

    @Test("a GROUP BY over messages: received per receiver, their sum the received total")
    func groupBy() throws {
        let r = TraceFixtures.run([
            "query", Self.supervisor,
            "SELECT received_by, count(*) AS n FROM messages WHERE receives > 0 GROUP BY received_by ORDER BY received_by",
            "--format", "jsonl",
        ])
        #expect(r.code == 0)
        let rows = try r.out.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Int])
        }
        #expect(rows.map { $0["received_by"] ?? -1 } == [1, 3, 4, 5])
        #expect(rows.reduce(0) { $0 + ($1["n"] ?? 0) } == 11)
    }

    @Test("CSV quotes commas and quotes; NULL is empty in CSV and null in JSON Lines")
    func formats() throws {
        let csv = TraceFixtures.run([
            "query", Self.supervisor, "SELECT 'a,b' AS x, 'say \"hi\"' AS y, NULL AS z", "--format", "csv",
        ])
        #expect(csv.out == "x,y,z\n\"a,b\",\"say \"\"hi\"\"\",\n")
        let jsonl = TraceFixtures.run(["query", Self.supervisor, "SELECT 'a,b' AS x, 2 AS n, NULL AS z", "--format", "jsonl"])
        #expect(jsonl.out == "{\"x\":\"a,b\",\"n\":2,\"z\":null}\n")
    }

    @Test("bad SQL is an error naming the statement, exit 1; a bad trace is exit 2")
    func errors() throws {
        let r = TraceFixtures.run(["query", Self.supervisor, "SELECT 1; SELEC 2"])
        #expect(r.code == 1)
        #expect(r.err.contains("statement 2"))
        #expect(r.err.contains("syntax error"))
        let missing = TraceFixtures.run(["query", Self.supervisor, "SELECT nope FROM messages"])
        #expect(missing.code == 1)
        #expect(missing.err.contains("no such column: nope"))
        let dir = try TraceFixtures.directory()
        let junk = dir.appendingPathComponent("junk.trace")
        try Data("not a trace".utf8).write(to: junk)
        let bad = TraceFixtures.run(["query", junk.path, "SELECT 1"])
        #expect(bad.code == 2)
        #expect(bad.err.contains(junk.path))
    }

    @Test("export --format sqlite writes every table to a file that reads back the same as query")
    func exportSQLite() throws {
        let dir = try TraceFixtures.directory()
        let db = dir.appendingPathComponent("t.db")
        try Data("stale".utf8).write(to: db)  // replaced whole, not appended to
        let r = TraceFixtures.run(["export", Self.supervisor, "--format", "sqlite", "-o", db.path])
        #expect(r.code == 0, "\(r.err)")
        let database = try SQLiteDatabase(path: db.path)
        var counts: [String: Int64] = [:]
        for table in TraceTable.allCases {
            try database.run("SELECT count(*) FROM \(table.rawValue)", header: { _ in }) { row in
                if case .integer(let n) = row[0] { counts[table.rawValue] = n }
            }
        }
        #expect(counts["events"] == 93)
        #expect(counts["messages"] == 12)
        #expect(counts["processes"] == 5)
        #expect(counts["links"] == Int64(try scalar(Self.supervisor, "SELECT count(*) FROM links")))
        #expect(counts["receive_waits"] == 12)
        let toStdout = TraceFixtures.run(["export", Self.supervisor, "--format", "sqlite"])
        #expect(toStdout.code == 64)
        #expect(toStdout.err.contains("-o FILE"))
    }
}
