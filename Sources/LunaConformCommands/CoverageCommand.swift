import ArgumentParser
import Foundation
import LunaSupport
import TraceFormat

/// `luna-conform coverage [DIR]`: which corpus traces exercise each rule of docs/SEMANTICS.md §2–§6.
public struct CoverageCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Print, per rule id, the corpus traces that cover it; fail when a rule is uncovered.",
        discussion: """
            Reads the manifest of DIR (MANIFEST.tsv: file, guest, entry, exit, rules, description; \
            rules comma-separated) and prints one line per rule id of SEMANTICS.md §2–§6 with the \
            traces that cite it. The rule ids come from --semantics, else from docs/SEMANTICS.md \
            of the package (the parent of DIR) or of the current directory, else from a built-in \
            list. Exit status 1 when a rule is uncovered, a manifest line cites an unknown rule, or \
            a listed trace file is missing.
            """
    )

    /// The corpus directory (holding MANIFEST.tsv) or the manifest itself.
    @Argument(help: "The corpus directory holding MANIFEST.tsv, or the manifest file.")
    public var corpus: String = "traces"

    /// Where SEMANTICS.md is.
    @Option(help: "The SEMANTICS.md to take the rule ids from.")
    public var semantics: String?

    public init() {}

    public func run() throws {
        let manifestPath = CorpusManifest.locate(corpus)
        let manifest: CorpusManifest
        do { manifest = try CorpusManifest(path: manifestPath) } catch {
            throw ValidationError("\(error)")
        }
        let (rules, source) = try Self.ruleIDs(semantics: semantics, corpus: manifestPath)
        let report = CorpusCoverage(rules: rules, manifest: manifest)
        print("rule ids from \(source); manifest \(manifestPath): \(manifest.entries.count) traces")
        print(report.text(), terminator: "")
        if !report.isComplete { throw ExitCode(1) }
    }

    /// The rule ids to cover and where they came from.
    static func ruleIDs(semantics: String?, corpus manifestPath: String) throws -> ([String], String) {
        if let semantics {
            guard let text = try? String(contentsOfFile: semantics, encoding: .utf8) else {
                throw ValidationError("cannot read \(semantics)")
            }
            let ids = SemanticsRules.parse(text)
            guard !ids.isEmpty else { throw ValidationError("\(semantics) holds no rule ids of §2–§6") }
            return (ids, semantics)
        }
        let corpusDir = (manifestPath as NSString).deletingLastPathComponent
        let packageDir = ((corpusDir.isEmpty ? "." : corpusDir) as NSString).deletingLastPathComponent
        let candidates = [
            (packageDir.isEmpty ? "." : packageDir) + "/docs/SEMANTICS.md",
            "docs/SEMANTICS.md",
        ]
        for path in candidates {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                let ids = SemanticsRules.parse(text)
                if !ids.isEmpty { return (ids, (path as NSString).standardizingPath) }
            }
        }
        return (SemanticsRules.builtIn, "the built-in list (no SEMANTICS.md found)")
    }
}

/// The rule ids of docs/SEMANTICS.md §2–§6.
package enum SemanticsRules {
    /// R-MSG-1…10, R-RES-1…7, R-SEND-1…5, R-RECV-1…9, R-PROC-1…9 (lunatic of Nov 2022).
    package static let builtIn: [String] =
        (1...10).map { "R-MSG-\($0)" } + (1...7).map { "R-RES-\($0)" } + (1...5).map { "R-SEND-\($0)" }
        + (1...9).map { "R-RECV-\($0)" } + (1...9).map { "R-PROC-\($0)" }

    /// The ids defined in sections 2 to 6 (`## N. …` headings), in document order. A rule is
    /// defined by a `### R-XXX-N …` heading (docs/SEMANTICS.md) or a `- R-XXX-N …` list item.
    package static func parse(_ text: String) -> [String] {
        var section = 0
        var ids: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("## ") {
                let number = line.dropFirst(3).prefix { $0.isNumber }
                section = Int(number) ?? 0
                continue
            }
            guard (2...6).contains(section) else { continue }
            let rest: Substring
            if line.hasPrefix("- R-") {
                rest = line.dropFirst(2)
            } else if line.hasPrefix("### R-") {
                rest = line.dropFirst(4)
            } else {
                continue
            }
            let id = rest.prefix { !$0.isWhitespace }
            if id.split(separator: "-").count == 3, id.last?.isNumber == true, !ids.contains(String(id)) {
                ids.append(String(id))
            }
        }
        return ids
    }
}

/// traces/MANIFEST.tsv: one line per corpus trace.
package struct CorpusManifest: Sendable {
    /// One trace of the corpus.
    package struct Entry: Sendable, Equatable {
        /// The trace file, relative to the manifest's directory.
        package var file: String
        /// The guest module, relative to the manifest's directory.
        package var guest: String
        /// The exported entry function recorded.
        package var entry: String
        /// `luna-trace record`'s expected exit status.
        package var exit: Int32
        /// The rule ids the trace exercises.
        package var rules: [String]
        /// One line saying what it shows.
        package var description: String
    }

    /// The manifest's directory (entry paths are relative to it).
    package var directory: String
    /// The traces, in manifest order.
    package var entries: [Entry]

    /// The manifest path for a corpus argument: the file itself, or DIR/MANIFEST.tsv.
    package static func locate(_ corpus: String) -> String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: corpus, isDirectory: &isDir), !isDir.boolValue { return corpus }
        return (corpus.hasSuffix("/") ? String(corpus.dropLast()) : corpus) + "/MANIFEST.tsv"
    }

    /// Reads and parses a manifest; errors name the file and line.
    package init(path: String) throws(ManifestError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ManifestError(description: "\(path): cannot read the corpus manifest")
        }
        let dir = (path as NSString).deletingLastPathComponent
        try self.init(text: text, directory: dir.isEmpty ? "." : dir, name: path)
    }

    /// Parses manifest text (`#` lines are comments).
    package init(text: String, directory: String, name: String = "MANIFEST.tsv") throws(ManifestError) {
        self.directory = directory
        entries = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if raw.hasPrefix("#") || raw.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let cols = raw.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard cols.count == 6, let exit = Int32(cols[3]) else {
                throw ManifestError(
                    description:
                        "\(name):\(n + 1): expected 6 tab-separated columns (file, guest, entry, exit, rules, description)")
            }
            let rules = cols[4].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            entries.append(Entry(file: cols[0], guest: cols[1], entry: cols[2], exit: exit, rules: rules, description: cols[5]))
        }
    }

    /// The full path of an entry's trace.
    package func path(of entry: Entry) -> String { directory + "/" + entry.file }
}

/// A malformed or unreadable manifest.
package struct ManifestError: Error, CustomStringConvertible, Sendable {
    package var description: String
}

/// Which traces cover which rule ids.
package struct CorpusCoverage: Sendable {
    /// The rule ids to cover, in order.
    package var rules: [String]
    /// Rule id → covering trace files.
    package var covering: [String: [String]] = [:]
    /// Rule ids cited by the manifest that are not in `rules`.
    package var unknown: [(rule: String, trace: String)] = []
    /// Listed trace files that do not exist.
    package var missing: [String] = []

    /// Matches the manifest against the rule ids.
    package init(rules: [String], manifest: CorpusManifest) {
        self.rules = rules
        let known = Set(rules)
        for e in manifest.entries {
            if !FileManager.default.fileExists(atPath: manifest.path(of: e)) { missing.append(e.file) }
            for r in e.rules {
                if known.contains(r) { covering[r, default: []].append(e.file) } else { unknown.append((r, e.file)) }
            }
        }
    }

    /// The rule ids no trace covers.
    package var uncovered: [String] { rules.filter { (covering[$0] ?? []).isEmpty } }

    /// Whether every rule is covered, every cited rule known and every trace present.
    package var isComplete: Bool { uncovered.isEmpty && unknown.isEmpty && missing.isEmpty }

    /// The table and a verdict.
    package func text() -> String {
        var out = ""
        let width = (rules.map(\.count).max() ?? 8) + 2
        for r in rules {
            let traces = covering[r] ?? []
            let name = r.padding(toLength: width, withPad: " ", startingAt: 0)
            let count = String(traces.count).padding(toLength: 4, withPad: " ", startingAt: 0)
            out += "\(name)\(count)\(traces.isEmpty ? "UNCOVERED" : traces.map(Self.shortName).joined(separator: ", "))\n"
        }
        for u in unknown { out += "unknown rule id \(u.rule) in \(u.trace)\n" }
        for m in missing { out += "missing trace file \(m)\n" }
        let covered = rules.count - uncovered.count
        out += "\(rules.count) rules, \(covered) covered, \(uncovered.count) uncovered"
        out += uncovered.isEmpty ? "\n" : ": \(uncovered.joined(separator: ", "))\n"
        return out
    }

    private static func shortName(_ file: String) -> String {
        let base = Paths.baseName(file)
        return base.hasSuffix(TraceFileName.suffix) ? String(base.dropLast(TraceFileName.suffix.count)) : base
    }
}
