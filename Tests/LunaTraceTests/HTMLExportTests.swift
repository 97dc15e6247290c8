import Foundation
import LunaSupport
import LunaTestSupport
import Testing

@testable import LunaTraceCommands
@testable import TraceAnalysis

/// A headless Chromium for the page tests. A missing browser fails the tests (scripts/setup.sh
/// installs Debian's `chromium`); `LUNA_CHROMIUM` names another binary.
enum HeadlessBrowser {
    static var path: String? {
        if let p = ProcessInfo.processInfo.environment["LUNA_CHROMIUM"], !p.isEmpty { return p }
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") { return "\(dir)/\(name)" }
        }
        return nil
    }

    /// Runs the browser headless on `url` with `extra` arguments (`--dump-dom`,
    /// `--screenshot=…`), in a fresh profile; gives its stdout. Killed after `timeout` seconds.
    static func run(_ extra: [String], url: URL, width: Int = 1200, height: Int = 800, timeout: Double = 180) throws -> String {
        guard let path else {
            throw FixtureError("chromium not found on PATH (run scripts/setup.sh, or set LUNA_CHROMIUM)")
        }
        let profile = URL(fileURLWithPath: Scratch.path("luna-chromium"))
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--hide-scrollbars", "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)",
            ] + extra + [url.absoluteString]
        let outURL = profile.appendingPathExtension("out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL) }
        let outHandle = try FileHandle(forWritingTo: outURL)
        process.standardOutput = outHandle
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = MonotonicClock.deadline(after: timeout)
        while process.isRunning && MonotonicClock.now() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw FixtureError("chromium did not finish within \(Int(timeout)) s")
        }
        try outHandle.close()
        return String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
    }
}

/// Reading what the page wrote into the DOM.
enum RenderedPage {
    /// The `data-NAME` attributes of `<output id="summary">`.
    static func summary(_ dom: String) throws -> [String: String] {
        let start = try #require(dom.range(of: "<output id=\"summary\""), "no summary element in the dumped DOM")
        let tagEnd = try #require(dom[start.upperBound...].firstIndex(of: ">"))
        var attrs: [String: String] = [:]
        var rest = dom[start.upperBound..<tagEnd]
        while let r = rest.range(of: "data-") {
            let after = rest[r.upperBound...]
            guard let eq = after.range(of: "=\"") else { break }
            let name = String(after[..<eq.lowerBound])
            let valueStart = eq.upperBound
            guard let close = after[valueStart...].firstIndex(of: "\"") else { break }
            attrs[name] = String(after[valueStart..<close])
            rest = after[after.index(after: close)...]
        }
        return attrs
    }

    /// The text of `<pre id="life">`, unescaped.
    static func life(_ dom: String) throws -> String {
        let start = try #require(dom.range(of: "<pre id=\"life\">"))
        let end = try #require(dom[start.upperBound...].range(of: "</pre>"))
        return String(dom[start.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&nbsp;", with: "\u{a0}").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The JSON the exporter embedded in the page.
    static func data(_ html: String) throws -> [String: Any] {
        let open = "<script type=\"application/json\" id=\"luna-data\">"
        let start = try #require(html.range(of: open))
        let end = try #require(html[start.upperBound...].range(of: "</script>"))
        let json = Data(html[start.upperBound..<end.lowerBound].utf8)
        return try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    }
}

@Suite("export --format html: the flow diagram page")
struct HTMLExportTests {
    static let supervisor = GoldenTests.input("supervisor")

    func export(_ trace: String, in dir: URL, name: String = "flow.html") throws -> (URL, String) {
        let url = dir.appendingPathComponent(name)
        let r = TraceFixtures.run(["export", trace, "--format", "html", "-o", url.path])
        #expect(r.code == 0, "\(r.err)")
        return (url, try String(contentsOf: url, encoding: .utf8))
    }

    @Test("self-contained: inline script and style, nothing fetched from anywhere")
    func selfContained() throws {
        let dir = try TraceFixtures.directory()
        let (_, html) = try export(Self.supervisor, in: dir)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for reference in ["http://", "https://", "<link", " src=", "@import", "url("] {
            #expect(!html.contains(reference), "the page refers to something outside it: \(reference)")
        }
        let data = try RenderedPage.data(html)
        #expect((data["events"] as? Int ?? 0) > 0)
    }

    @Test("what the exporter embeds is what the supervisor trace implies")
    func embeddedCounts() throws {
        let dir = try TraceFixtures.directory()
        let (_, html) = try export(Self.supervisor, in: dir)
        let expect = try #require(try RenderedPage.data(html)["expect"] as? [String: Int])
        // From the trace (see Golden/luna-trace/supervisor.mermaid.txt): five processes; ten
        // messages received (m1-m4, m7-m12); m6 sent to the dead pid 2; two link deaths (3→2,
        // 2→1); one receive timeout, not a near miss; one trap; pid 3 failed and pid 2 died of
        // its link.
        #expect(
            expect == [
                "lanes": 5, "arrows": 10, "lost": 1, "links": 2, "timeouts": 1, "nearMisses": 0,
                "traps": 1, "deaths": 2, "resourceArrows": 0,
            ])
    }

    @Test("an unreadable trace gives the reading error and writes no page")
    func badInput() throws {
        let dir = try TraceFixtures.directory()
        let junk = dir.appendingPathComponent("junk.trace")
        try Data("not a trace".utf8).write(to: junk)
        let r = TraceFixtures.run(["export", junk.path, "--format", "html"])
        #expect(r.code == 2)
        #expect(r.err.contains(junk.path))
        #expect(!r.out.contains("<canvas"))
    }

    @Test("headless Chromium draws the supervisor run: the lanes, arrows, traps and deaths the trace implies")
    func browserRendersSupervisor() throws {
        let dir = try TraceFixtures.directory()
        let (url, _) = try export(Self.supervisor, in: dir)
        let dom = try HeadlessBrowser.run(["--dump-dom"], url: url)
        let s = try RenderedPage.summary(dom)
        #expect(s["lanes"] == "5")
        #expect(s["arrows"] == "10")
        #expect(s["lost"] == "1")
        #expect(s["links"] == "2")
        #expect(s["timeouts"] == "1")
        #expect(s["near-misses"] == "0")
        #expect(s["traps"] == "1")
        #expect(s["deaths"] == "2")
        #expect(s["messages"] == "12")
        // The first frame shows the whole run: every message, link, spawn and lost arrow.
        let spawns = Int(s["spawns"] ?? "") ?? -1
        #expect(spawns == 4)
        #expect(s["drawn"] == String(10 + 1 + 2 + spawns))
        #expect(s["canvas"]?.hasPrefix("0x") == false)
    }

    @Test(
        "filters from the address: by pid, then by tag, draw only the arrows they select",
        arguments: [
            // pid 4 (steady_worker): its spawn, m2 and m9 to it, m3 and m10 from it.
            ("pid=4", 5),
            // tag 20: m2, m7, m9, m11 delivered and m6 lost.
            ("tag=20", 5),
            // message 5: the link-death notice from pid 2 to pid 1.
            ("message=5", 1),
        ])
    func browserFilters(_ fragment: String, _ drawn: Int) throws {
        let dir = try TraceFixtures.directory()
        let (url, _) = try export(Self.supervisor, in: dir)
        var page = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        page.fragment = fragment
        let dom = try HeadlessBrowser.run(["--dump-dom"], url: page.url!)
        let s = try RenderedPage.summary(dom)
        #expect(s["drawn"] == String(drawn))
        #expect(s["arrows"] == "10")  // the totals do not depend on the view
    }

    @Test("a near miss and resources riding in a message are marked; the lives read as `flow` tells them")
    func browserLivesMatchFlow() throws {
        let dir = try TraceFixtures.directory()
        let trace = try TraceFixtures.postmortem(in: dir).path
        let (url, html) = try export(trace, in: dir)
        let data = try RenderedPage.data(html)
        let expect = try #require(data["expect"] as? [String: Int])
        #expect(expect["nearMisses"] == 1)
        #expect(expect["resourceArrows"] == 1)
        let msgs = try #require(data["msgs"] as? [Int])
        let ids = stride(from: 0, to: msgs.count, by: 13).map { msgs[$0] }
        #expect(ids.count >= 5)

        var page = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        page.fragment = "message=" + ids.map(String.init).joined(separator: ",")
        let dom = try HeadlessBrowser.run(["--dump-dom"], url: page.url!)
        let s = try RenderedPage.summary(dom)
        for (key, attribute) in [
            ("lanes", "lanes"), ("arrows", "arrows"), ("lost", "lost"), ("links", "links"),
            ("timeouts", "timeouts"), ("nearMisses", "near-misses"), ("traps", "traps"),
            ("deaths", "deaths"), ("resourceArrows", "resource-arrows"),
        ] {
            #expect(s[attribute] == expect[key].map(String.init), "\(key)")
        }
        let flow = TraceFixtures.run(["flow", trace] + ids.flatMap { ["--message", String($0)] })
        #expect(flow.code == 0)
        let want = Set(flow.out.trimmingCharacters(in: .newlines).components(separatedBy: "\n\n"))
        let got = Set(try RenderedPage.life(dom).components(separatedBy: "\n\n"))
        #expect(got == want)
    }

    @Test("screenshot: a PNG of the window's size with the diagram's colours in it")
    func screenshot() throws {
        let dir = try TraceFixtures.directory()
        let (url, _) = try export(Self.supervisor, in: dir)
        let png = dir.appendingPathComponent("shot.png")
        _ = try HeadlessBrowser.run(["--screenshot=\(png.path)"], url: url, width: 1000, height: 700)
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        let census = try PNGCensus.count(png)
        #expect(census.width == 1000 && census.height == 700)
        // Message arrows in blue, link deaths in purple, the trap and deaths in red.
        #expect(census.blue > 200, "\(census)")
        #expect(census.purple > 50, "\(census)")
        #expect(census.red > 50, "\(census)")
    }
}

/// Counts pixels of the diagram's colours in a PNG, decoded by python3's zlib (the project's
/// tests already need python3; Foundation has no PNG decoder on Linux).
enum PNGCensus {
    struct Census: CustomStringConvertible {
        var width = 0, height = 0, blue = 0, purple = 0, red = 0
        var description: String { "\(width)x\(height) blue \(blue) purple \(purple) red \(red)" }
    }

    static let script = #"""
        import sys, zlib, struct
        data = open(sys.argv[1], 'rb').read()
        pos, idat, w, h, ctype = 8, b'', 0, 0, 0
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos+8]); body = data[pos+8:pos+8+n]; pos += 12 + n
            if kind == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            elif kind == b'IDAT': idat += body
        raw = zlib.decompress(idat); bpp = {2: 3, 6: 4}[ctype]; stride = w * bpp
        prev = bytearray(stride); rows = []; i = 0
        for _ in range(h):
            f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
            for x in range(stride):
                a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            rows.append(line); prev = line
        def near(px, c): return all(abs(px[k] - c[k]) < 40 for k in range(3))
        counts = [0, 0, 0]
        for line in rows:
            for x in range(0, stride, bpp):
                px = line[x:x+3]
                if near(px, (0x2f, 0x6f, 0xd6)): counts[0] += 1
                elif near(px, (0x8a, 0x3a, 0xd6)): counts[1] += 1
                elif near(px, (0xb9, 0x1c, 0x1c)) or near(px, (0xd6, 0x3a, 0x2f)): counts[2] += 1
        print(w, h, *counts)
        """#

    static func count(_ png: URL) throws -> Census {
        let script = png.deletingLastPathComponent().appendingPathComponent("census.py")
        try self.script.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, png.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let n = out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard process.terminationStatus == 0, n.count == 5 else { throw FixtureError("could not decode \(png.path): \(out)") }
        return Census(width: n[0], height: n[1], blue: n[2], purple: n[3], red: n[4])
    }
}
