import TraceFormat

/// Streams a trace into one self-contained HTML page that draws the run as a Lamport diagram
/// (`luna-trace export --format html`).
///
/// The page has no external references: its script and style are inline and the run is embedded
/// as compact JSON arrays (one flat array of numbers per kind of element), which the script draws
/// on a canvas, so that a trace of 100,000 events stays small and quick to draw. One lane per
/// process; arrows from each send to the receive that took the message; link-death notices,
/// spawns and kills as distinct arrows; timeouts (near misses marked), traps and deaths on the
/// lanes. Clicking an arrow tells the message's life in the words of `luna-trace flow`: the
/// lines that depend on the message's hops are built by the script from the arrays, the rest
/// (pushes, takes, traps, drop, final location) are embedded as text by `MessageFlowReport`.
///
/// It keeps in memory what the page needs, roughly a few numbers per message and per event of
/// interest; everything is written by `finish()`.
package final class HTMLFlowExporter {
    private let out: any TextOutput
    private let title: String
    private let tracker = MessageTracker()
    private let lint = LostMessageLint(keepPerCategory: Int.max)
    private var events = 0

    /// A message's life as handed over by the tracker, with its pre-rendered text parts.
    private struct Message {
        var life: MessageLife
        var pre: [String]
        var post: [String]
    }
    private var messages: [Message] = []
    private var timeouts: [(pid: UInt64, start: UInt64, end: UInt64)] = []
    private var traps: [(pid: UInt64, at: UInt64, reason: String)] = []
    private var linkDeaths: [(dead: UInt64, pid: UInt64, at: UInt64, diesToo: Bool, message: MessageID)] = []
    private var spawns: [(parent: UInt64, child: UInt64, at: UInt64)] = []
    private var kills: [(from: UInt64, to: UInt64, at: UInt64)] = []
    private var firstTime: UInt64?
    private var lastTime: UInt64 = 0

    /// An exporter writing to `out`; `title` names the trace in the page (usually its path).
    package init(out: any TextOutput, title: String) {
        self.out = out
        self.title = title
        tracker.onLifeEnded = { [unowned self] life in self.ended(life) }
    }

    /// Takes the next event.
    package func observe(_ e: TraceEvent) {
        events += 1
        if firstTime == nil || e.start < firstTime! { firstTime = e.start }
        lastTime = max(lastTime, e.end, e.start)
        lint.observe(e)
        tracker.observe(e)
        switch e.kind {
        case .receive where ResultCode.isTimeout(e.result.value),
            .sendReceiveSkipSearchReturn where ResultCode.isTimeout(e.result.value),
            .sendReceiveSkipSearch where ResultCode.isTimeout(e.result.value):
            timeouts.append((e.pid, e.start, e.end))
        case .trap:
            traps.append((e.pid, e.start, e.text))
        case .linkDied:
            linkDeaths.append((UInt64(bitPattern: e.args.at(0) ?? 0), e.pid, e.start, e.args.at(2) == 1, e.message))
        case .spawn:
            let child = UInt64(bitPattern: e.args.at(0) ?? 0)
            if child != 0 { spawns.append((e.pid, child, e.start)) }
        case .kill:
            kills.append((e.pid, UInt64(bitPattern: e.args.at(0) ?? 0), e.start))
        default:
            break
        }
    }

    private func ended(_ life: MessageLife) {
        // The flow text's lines in order: title, creation, "wrote", pushes, hop lines, "read",
        // then the rest; the page rebuilds all but the pushes and the rest from its arrays.
        let lines = MessageFlowReport.lines(life, processes: tracker.processes)
        let wrote = life.writeCalls > 0 || life.bytesWritten > 0 ? 1 : 0
        let read = life.readCalls > 0 || life.bytesRead > 0 ? 1 : 0
        var hopLines = 0
        for hop in life.hops {
            if let s = hop.send, s.call != .linkDied { hopLines += 1 }
            if hop.delivery != nil { hopLines += 1 }
        }
        let preStart = min(lines.count, 2 + wrote)
        let preEnd = min(lines.count, preStart + life.pushes.count)
        let postStart = min(lines.count, preEnd + hopLines + read)
        messages.append(Message(life: life, pre: Array(lines[preStart..<preEnd]), post: Array(lines[postStart...])))
    }

    /// Writes the page.
    package func finish() {
        tracker.finish()
        lint.finish()
        let nearMisses = Set(lint.findings.filter { $0.category == .nearMiss }.map { NearMissKey(pid: $0.pid, at: $0.at) })
        let nearMissMessage = Dictionary(
            lint.findings.filter { $0.category == .nearMiss }.map { (NearMissKey(pid: $0.pid, at: $0.at), $0.message) },
            uniquingKeysWith: { a, _ in a })

        var lanes = LaneTable()
        for record in tracker.processes.records { _ = lanes.index(record.pid) }
        var strings = StringTable()
        var calls = StringTable()

        var msgs = NumberArray()
        var hops = NumberArray()
        var texts: [String] = []
        var textCount = 0
        var resourceArrows = 0
        var dataArrows = 0
        var lostSends = 0
        messages.sort { ($0.life.createdAt ?? 0, $0.life.id) < ($1.life.createdAt ?? 0, $1.life.id) }
        for (i, m) in messages.enumerated() {
            let life = m.life
            func textIndex(_ lines: [String]) -> Int {
                guard !lines.isEmpty else { return -1 }
                texts.append("[" + lines.map(Self.quoted).joined(separator: ",") + "]")
                textCount += 1
                return textCount - 1
            }
            msgs.append(life.id)
            msgs.append(life.tag)
            msgs.append(life.creator.map { lanes.index($0) } ?? -1)
            msgs.append(life.createdAt.map { Int64(clamping: $0) } ?? -1)
            msgs.append(life.capacity)
            msgs.append(life.bytesWritten)
            msgs.append(life.writeCalls)
            msgs.append(life.bytesRead)
            msgs.append(life.readCalls)
            msgs.append(life.isLinkDied ? 1 : 0)
            msgs.append(life.pushes.count)
            msgs.append(textIndex(m.pre))
            msgs.append(textIndex(m.post))
            for hop in life.hops {
                let s = hop.send, d = hop.delivery
                if let s, s.call != .linkDied {
                    if d != nil {
                        dataArrows += 1
                        if !life.pushes.isEmpty { resourceArrows += 1 }
                    } else {
                        lostSends += 1
                    }
                }
                hops.append(i)
                hops.append(s.map { lanes.index($0.from) } ?? -1)
                hops.append(s.map { lanes.index($0.to) } ?? -1)
                hops.append(s.map { Int64(clamping: $0.at) } ?? -1)
                hops.append(s.map { calls.index($0.call.name) } ?? -1)
                hops.append(s.map { $0.receiverWasRunning ? 1 : 0 } ?? 0)
                hops.append(d.map { lanes.index($0.receiver) } ?? -1)
                hops.append(d.map { Int64(clamping: $0.calledAt) } ?? -1)
                hops.append(d.map { Int64(clamping: $0.receivedAt) } ?? -1)
                hops.append(d.map { calls.index($0.call.name) } ?? -1)
                hops.append(
                    d.map { $0.tagSet.isEmpty ? -1 : strings.index($0.tagSet.map(String.init).joined(separator: ", ")) } ?? -1)
            }
        }

        var timeoutArray = NumberArray()
        var nearMissCount = 0
        for t in timeouts {
            let key = NearMissKey(pid: t.pid, at: t.end)
            let near = nearMisses.contains(key)
            if near { nearMissCount += 1 }
            timeoutArray.append(lanes.index(t.pid))
            timeoutArray.append(t.start)
            timeoutArray.append(t.end)
            timeoutArray.append(near ? Int64(clamping: nearMissMessage[key] ?? 0) : -1)
        }
        var trapArray = NumberArray()
        for t in traps {
            trapArray.append(lanes.index(t.pid))
            trapArray.append(t.at)
            trapArray.append(strings.index(t.reason))
        }
        var linkArray = NumberArray()
        for l in linkDeaths {
            // The arrow leaves the dead process's lane when it ended (if the trace shows it).
            let diedAt = tracker.process(l.dead)?.exit?.at ?? l.at
            linkArray.append(lanes.index(l.dead))
            linkArray.append(lanes.index(l.pid))
            linkArray.append(min(diedAt, l.at))
            linkArray.append(l.at)
            linkArray.append(l.diesToo ? 1 : 0)
            linkArray.append(l.message == 0 ? -1 : Int64(clamping: l.message))
        }
        var spawnArray = NumberArray()
        for s in spawns where s.parent != 0 {
            spawnArray.append(lanes.index(s.parent))
            spawnArray.append(lanes.index(s.child))
            spawnArray.append(s.at)
        }
        var killArray = NumberArray()
        for k in kills {
            killArray.append(lanes.index(k.from))
            killArray.append(lanes.index(k.to))
            killArray.append(k.at)
        }
        var deaths = 0
        var laneRows: [String] = []
        for pid in lanes.pids {
            let p = tracker.process(pid)
            var row = "[" + Self.quoted(String(pid)) + "," + Self.quoted(pid == 0 ? "host" : p?.entry ?? "")
            row += "," + (p?.parent.map { Self.quoted(String($0)) } ?? "null")
            row += "," + String(p?.firstSeen ?? 0)
            if let end = p?.exit {
                if end.status != ExitCode.normal.rawValue { deaths += 1 }
                row += ",\(end.at),\(end.status)," + Self.quoted(end.summary) + "]"
            } else {
                row += ",-1,-1,\"\"]"
            }
            laneRows.append(row)
        }

        var json = "{\"version\":1"
        json += ",\"title\":" + Self.quoted(title)
        json += ",\"events\":\(events)"
        json += ",\"start\":\(firstTime ?? 0),\"end\":\(lastTime)"
        json += ",\"lanes\":[" + laneRows.joined(separator: ",") + "]"
        json += ",\"strings\":[" + strings.values.map(Self.quoted).joined(separator: ",") + "]"
        json += ",\"calls\":[" + calls.values.map(Self.quoted).joined(separator: ",") + "]"
        json += ",\"msgs\":" + msgs.text
        json += ",\"hops\":" + hops.text
        json += ",\"texts\":[" + texts.joined(separator: ",") + "]"
        json += ",\"timeouts\":" + timeoutArray.text
        json += ",\"traps\":" + trapArray.text
        json += ",\"links\":" + linkArray.text
        json += ",\"spawns\":" + spawnArray.text
        json += ",\"kills\":" + killArray.text
        // What the trace implies, for the page's summary to be checked against.
        json += ",\"expect\":{\"lanes\":\(lanes.pids.count),\"arrows\":\(dataArrows),\"lost\":\(lostSends)"
        json += ",\"links\":\(linkDeaths.count),\"timeouts\":\(timeouts.count),\"nearMisses\":\(nearMissCount)"
        json += ",\"traps\":\(traps.count),\"deaths\":\(deaths),\"resourceArrows\":\(resourceArrows)}"
        json += "}"

        let marker = "/*LUNA-DATA*/"
        let template = HTMLFlowPage.template
        guard let range = template.firstRange(of: marker) else { return }
        out.write(String(template[..<range.lowerBound]))
        out.write(json)
        out.write(String(template[range.upperBound...]))
    }

    private struct NearMissKey: Hashable {
        var pid: UInt64
        var at: UInt64
    }

    /// `text` as a JSON string literal that is also safe inside a `<script>` element.
    static func quoted(_ text: String) -> String { JSONString.quoted(text, scriptSafe: true) }
}

/// Lanes of the page: pids in the order first seen, with their index.
private struct LaneTable {
    private(set) var pids: [UInt64] = []
    private var indexOf: [UInt64: Int] = [:]

    mutating func index(_ pid: UInt64) -> Int {
        if let i = indexOf[pid] { return i }
        indexOf[pid] = pids.count
        pids.append(pid)
        return pids.count - 1
    }
}

/// Distinct strings, each stored once and referred to by index.
private struct StringTable {
    private(set) var values: [String] = []
    private var indexOf: [String: Int] = [:]

    mutating func index(_ s: String) -> Int {
        if let i = indexOf[s] { return i }
        indexOf[s] = values.count
        values.append(s)
        return values.count - 1
    }
}

/// A flat JSON array of integers, built as text. Integers beyond what a JavaScript number holds
/// exactly (2^53) are written as strings, so that ids from any file survive the trip.
private struct NumberArray {
    private var body = ""
    private var empty = true

    var text: String { "[" + body + "]" }

    mutating func append(_ v: Int) { append(Int64(v)) }

    mutating func append(_ v: Int64) {
        if !empty { body += "," }
        empty = false
        if v > (1 << 53) || v < -(1 << 53) { body += "\"\(v)\"" } else { body += String(v) }
    }

    mutating func append(_ v: UInt64) {
        if !empty { body += "," }
        empty = false
        if v > (1 << 53) { body += "\"\(v)\"" } else { body += String(v) }
    }
}
