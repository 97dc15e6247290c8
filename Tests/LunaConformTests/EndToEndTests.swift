import ConformanceKit
import Foundation
import Testing
import TraceFormat

/// Runs the built `luna-conform` binary on trace files and checks its output and exit status.
@Suite("luna-conform end to end")
struct EndToEndTests {
    static let traceDir: String = (try? ScenarioTraces.writeAll()) ?? "/nonexistent"

    @Test("replay of a directory with the built-in adapter passes, summary line last, exit 0")
    func builtinDirectory() throws {
        let (status, out, err) = try TestSupport.run([TestSupport.lunaConform, "replay", Self.traceDir])
        #expect(status == 0, "\(out)\n\(err)")
        let lines = out.split(separator: "\n")
        #expect(lines.last == "5 passed, 0 failed, 0 skipped", "\(out)")
        #expect(lines.filter { $0.hasPrefix("PASS ") }.count == 5)
    }

    @Test("replay with the Python adapter passes")
    func pythonAdapter() throws {
        let adapter = TestSupport.pythonAdapter.joined(separator: " ")
        let (status, out, _) = try TestSupport.run([TestSupport.lunaConform, "replay", Self.traceDir, "--adapter", adapter])
        #expect(status == 0, "\(out)")
        #expect(out.hasSuffix("5 passed, 0 failed, 0 skipped\n"))
    }

    @Test("a faulty adapter fails with exit 1 and names category, rule, event and pid")
    func faultyAdapter() throws {
        let adapter = "\(TestSupport.lunaConform) adapter --fault push-off-by-one"
        let (status, out, _) = try TestSupport.run([
            TestSupport.lunaConform, "replay", Self.traceDir + "/resources.trace",
            "--adapter", adapter,
        ])
        #expect(status == 1)
        #expect(out.contains("FAIL "))
        #expect(out.contains("wrong-resource-index (R-RES-2)"), "\(out)")
        #expect(out.contains("event #"), "\(out)")
        #expect(out.hasSuffix("0 passed, 1 failed, 0 skipped\n"))
    }

    @Test("--expect turns a known failure into xfail (exit 0) and a listed pass into xpass (exit 1)")
    func expectFile() throws {
        let adapter = "\(TestSupport.lunaConform) adapter --fault push-off-by-one"
        let expect = Self.traceDir + "/known.txt"
        try "# known failures\nresources.trace\nlinks.trace  # passes, so xpass\n".write(
            toFile: expect, atomically: true, encoding: .utf8)
        let (status, out, _) = try TestSupport.run([
            TestSupport.lunaConform, "replay", Self.traceDir + "/resources.trace",
            "--adapter", adapter, "--expect", expect,
        ])
        #expect(status == 0, "\(out)")
        #expect(out.contains("XFAIL "))
        #expect(out.hasSuffix("1 passed, 0 failed, 0 skipped\n"), "\(out)")
        let (status2, out2, _) = try TestSupport.run([
            TestSupport.lunaConform, "replay", Self.traceDir + "/links.trace",
            "--expect", expect,
        ])
        #expect(status2 == 1)
        #expect(out2.contains("XPASS "), "\(out2)")
    }

    @Test("JSON and JUnit reports")
    func reports() throws {
        let adapter = "\(TestSupport.lunaConform) adapter --fault ignore-tags"
        let (status, json, _) = try TestSupport.run([
            TestSupport.lunaConform, "replay", Self.traceDir, "--adapter", adapter,
            "--report", "json",
        ])
        #expect(status == 1)
        let parsed = try JSONParser.parse(json)
        #expect(parsed["summary"]?["line"]?.string == "3 passed, 2 failed, 0 skipped", "\(json)")
        let divergences = parsed["traces"]?.array?.flatMap { $0["divergences"]?.array ?? [] } ?? []
        #expect(divergences.contains { $0["category"]?.string == "unexpected-message" && $0["rule"]?.string == "R-RECV-2" })
        let (_, xml, _) = try TestSupport.run([
            TestSupport.lunaConform, "replay", Self.traceDir, "--adapter", adapter,
            "--report", "junit",
        ])
        #expect(xml.hasPrefix("<?xml"))
        #expect(xml.contains("<testsuites name=\"luna-conform\" tests=\"5\" failures=\"2\""))
        #expect(xml.contains("<failure message=\"unexpected-message (R-RECV-2)"), "\(xml)")
    }

    @Test("a corrupt trace file fails with a clear note and the others still run")
    func corruptTrace() throws {
        let dir = Self.traceDir + "-corrupt"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let good = try Data(contentsOf: URL(fileURLWithPath: Self.traceDir + "/links.trace"))
        try good.write(to: URL(fileURLWithPath: dir + "/a-good.trace"))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: dir + "/b-truncated.trace"))
        try Data("not a trace".utf8).write(to: URL(fileURLWithPath: dir + "/c-junk.trace"))
        let (status, out, _) = try TestSupport.run([TestSupport.lunaConform, "replay", dir])
        #expect(status == 1)
        #expect(out.contains("PASS \(dir)/a-good.trace"), "\(out)")
        #expect(out.contains("FAIL \(dir)/c-junk.trace"), "\(out)")
        #expect(out.hasSuffix("failed, 0 skipped\n"), "\(out)")
    }

    @Test("usage errors: missing path, unknown fault")
    func usage() throws {
        let (s1, _, e1) = try TestSupport.run([TestSupport.lunaConform, "replay", "/nonexistent/dir"])
        #expect(s1 != 0)
        #expect(e1.contains("no such file or directory"))
        let (s2, _, e2) = try TestSupport.run([TestSupport.lunaConform, "adapter", "--fault", "bogus"])
        #expect(s2 != 0)
        #expect(e2.contains("unknown fault"))
    }
}

/// `replay --shard I/N` and merging the shards' JUnit reports.
@Suite("Sharded replay")
struct ShardTests {
    @Test("shards cover every trace exactly once and their JUnit reports merge")
    func shardsMerge() throws {
        let dir = EndToEndTests.traceDir
        var names: [String] = []
        var reports: [String] = []
        for i in 1...3 {
            let file = dir + "/shard\(i).xml"
            let (status, out, err) = try TestSupport.run([
                TestSupport.lunaConform, "replay", dir, "--shard", "\(i)/3",
                "--report", "junit", "--output", file,
            ])
            #expect(status == 0, "\(out)\n\(err)")
            let xml = try String(contentsOfFile: file, encoding: .utf8)
            #expect(xml.contains("(shard \(i)/3)"))
            names += xml.components(separatedBy: "<testcase ").dropFirst().compactMap {
                $0.components(separatedBy: " name=\"").dropFirst().first?.components(separatedBy: "\"").first
            }
            reports.append(file)
        }
        #expect(names.count == 5 && Set(names).count == 5, "\(names)")
        let (status, merged, err) = try TestSupport.run([TestSupport.lunaConform, "merge-junit"] + reports)
        #expect(status == 0, "\(err)")
        #expect(merged.contains("<testsuites name=\"luna-conform\" tests=\"5\" failures=\"0\" skipped=\"0\""), "\(merged)")
        #expect(merged.components(separatedBy: "<testsuite ").count == 4, "\(merged)")
        let (bad, _, _) = try TestSupport.run([TestSupport.lunaConform, "replay", dir, "--shard", "4/3"])
        #expect(bad != 0)
    }
}
