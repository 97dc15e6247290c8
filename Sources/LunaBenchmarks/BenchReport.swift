import Foundation
import LunaSupport

/// One line of the `luna-bench all` table: a figure, what it is compared with (measured in the
/// same run), the goal, and whether the goal is met.
struct BenchRow {
    /// P1…P6.
    var id: String
    /// What was measured, with its workload.
    var what: String
    /// The figure (median of the runs).
    var figure: String
    /// The comparison, measured in the same run.
    var comparison: String
    /// The goal as text ("≤ 30 ns/event"), empty when there is none.
    var goal: String
    /// Whether the goal is met; nil when there is no goal.
    var met: Bool?

    var verdict: String {
        switch met {
        case .some(true): return "met"
        case .some(false): return "MISSED"
        case .none: return "-"
        }
    }
}

/// Collects rows and prints them as one aligned table.
final class BenchReport {
    private(set) var rows: [BenchRow] = []

    func add(_ row: BenchRow) {
        rows.append(row)
        // Each row is printed as soon as it is measured, so a long run shows progress.
        print(
            "  \(row.id)  \(row.what): \(row.figure)  |  vs \(row.comparison)  |  goal \(row.goal.isEmpty ? "-" : row.goal): \(row.verdict)"
        )
        fflush(nil)
    }

    /// Orders the rows for the table (a stable sort: rows of one id keep their order).
    func sort(by before: (BenchRow, BenchRow) -> Bool) {
        rows = rows.enumerated().sorted { a, b in
            before(a.element, b.element) || (!before(b.element, a.element) && a.offset < b.offset)
        }.map(\.element)
    }

    /// The whole table, Markdown-compatible so it can be pasted into docs/BENCHMARKS.md.
    func table() -> String {
        let header = ["id", "what", "figure (median)", "compared with (same run)", "goal", "met"]
        let cells = rows.map { [$0.id, $0.what, $0.figure, $0.comparison, $0.goal.isEmpty ? "-" : $0.goal, $0.verdict] }
        var widths = header.map(\.count)
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ row: [String]) -> String {
            "| "
                + row.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: " | ") + " |"
        }
        var out = [line(header), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"]
        out += cells.map(line)
        return out.joined(separator: "\n")
    }
}

/// Small measuring helpers shared by the `all` figures.
enum Measure {
    /// Seconds since `t0`.
    static func seconds(since t0: UInt64) -> Double { Double(MonotonicClock.now() - t0) / 1e9 }

    /// The median of `values` (the mean of the middle two for an even count); 0 when empty.
    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Runs `body` `times` times (at least once) and returns the median.
    static func median(_ times: Int, _ body: () throws -> Double) rethrows -> Double {
        var values: [Double] = []
        for _ in 0..<max(1, times) { values.append(try body()) }
        return median(values)
    }

    /// "12.3M/s", "456k/s" style rate text.
    static func rate(_ perSecond: Double, unit: String = "/s") -> String {
        if perSecond >= 1e6 { return String(format: "%.2fM%@", perSecond / 1e6, unit) }
        if perSecond >= 1e3 { return String(format: "%.0fk%@", perSecond / 1e3, unit) }
        return String(format: "%.0f%@", perSecond, unit)
    }

    /// The CPUs this process may run on (Linux `Cpus_allowed_list`), e.g. "0" or "0-1".
    static func allowedCPUs() -> String {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
        for line in status.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
            return line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        }
        return "?"
    }

    /// "pinned to CPU 0" or "unpinned (CPUs 0-1)": which ping-pong regime a run measured.
    static func pinning() -> String {
        let cpus = allowedCPUs()
        let single = !cpus.contains("-") && !cpus.contains(",")
        return single ? "pinned to CPU \(cpus)" : "unpinned (CPUs \(cpus))"
    }

    /// Runs a command found on PATH, standard output to `stdoutPath` (or /dev/null); returns the
    /// seconds it took. Throws when it cannot start or exits non-zero.
    static func runTool(_ arguments: [String], stdoutPath: String? = nil) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let outPath = stdoutPath ?? "/dev/null"
        if stdoutPath != nil { _ = FileManager.default.createFile(atPath: outPath, contents: nil) }
        guard let out = FileHandle(forWritingAtPath: outPath) else {
            throw BenchFailure("cannot open \(outPath) for \(arguments.joined(separator: " "))")
        }
        defer { try? out.close() }
        process.standardOutput = out
        let t0 = MonotonicClock.now()
        do { try process.run() } catch {
            throw BenchFailure("cannot run \(arguments.joined(separator: " ")): \(error)")
        }
        process.waitUntilExit()
        let t = seconds(since: t0)
        guard process.terminationStatus == 0 else {
            throw BenchFailure("\(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
        return t
    }

    /// Size of a file in bytes (0 when missing).
    static func fileSize(_ path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// A fresh path in the temporary directory.
    static func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("luna-bench-\(getpid())-\(name)").path
    }
}

/// Why a benchmark could not produce its figure.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
