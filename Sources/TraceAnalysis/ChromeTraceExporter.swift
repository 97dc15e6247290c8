import TraceFormat

/// Streams a trace as Chrome Trace Event JSON (opens in the Perfetto UI and chrome://tracing).
///
/// One thread track per Luna process (all under one "Luna environment" process), every host
/// call as a complete slice (`ph: X`, so blocking receives show how long they waited),
/// lifecycle events as instants, and each delivered message as a flow arrow from the send to
/// the receive (`ph: s` / `ph: f` with the same `id`; both are written when the receive happens).
package final class ChromeTraceExporter {
    private let out: any TextOutput
    private let tracker = MessageTracker()
    private var first = true
    private var named: Set<UInt64> = []
    private var flowCount: UInt64 = 0
    /// Flow arrows written (each is one `s` and one `f` event).
    package var flows: UInt64 { flowCount }

    /// An exporter writing to `out`; it writes the JSON header at once.
    package init(out: any TextOutput) {
        self.out = out
        out.write("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"luna-trace\"},\"traceEvents\":[\n")
        emit("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"Luna environment\"}}")
    }

    /// Takes the next event.
    package func observe(_ e: TraceEvent) {
        let attribution = tracker.observe(e)
        nameTrack(e.pid)
        if e.kind == .spawn, let child = e.args.at(0), child > 0 { nameTrack(UInt64(child)) }
        if e.kind == .start { nameTrack(e.pid, force: true) }

        var args: [String] = []
        let names = e.kind.argumentNames
        for (i, v) in e.args.enumerated() {
            args.append(JSONText.string(i < names.count ? names[i] : "arg\(i)") + ":\(v)")
        }
        if !e.tags.isEmpty { args.append("\"tags\":[" + e.tags.map(String.init).joined(separator: ",") + "]") }
        if let m = attribution?.message ?? (e.message != 0 ? e.message : nil) { args.append("\"message\":\(m)") }
        if let tag = attribution?.tag, tag != 0 { args.append("\"tag\":\(tag)") }
        if e.payload.size > 0 { args.append("\"bytes\":\(e.payload.size)") }
        if !e.text.isEmpty { args.append("\"text\":" + JSONText.string(e.text)) }
        switch e.result {
        case .none: break
        case .value(let v): args.append("\"result\":\(v)")
        case .trap(let r): args.append("\"trap\":" + JSONText.string(r))
        }
        let argsJSON = "{" + args.joined(separator: ",") + "}"
        let name = JSONText.string(e.kind.name)
        let category = JSONText.string(e.kind.namespace.rawValue)

        if e.kind.namespace == .lifecycle && e.kind != .link && e.kind != .unlink && e.kind != .kill && e.kind != .dieWhenLinkDies
        {
            emit(
                "{\"ph\":\"i\",\"s\":\"t\",\"name\":\(name),\"cat\":\(category),\"pid\":1,\"tid\":\(e.pid),\"ts\":\(JSONText.micros(e.start)),\"args\":\(argsJSON)}"
            )
        } else {
            let duration = max(e.duration, 1)
            emit(
                "{\"ph\":\"X\",\"name\":\(name),\"cat\":\(category),\"pid\":1,\"tid\":\(e.pid),\"ts\":\(JSONText.micros(e.start)),\"dur\":\(JSONText.micros(duration)),\"args\":\(argsJSON)}"
            )
        }

        // A delivery: draw the arrow from its send to this receive.
        var delivered: MessageID = 0
        if e.kind == .receive, e.message != 0, let r = e.result.value, r == 0 || r == 1 { delivered = e.message }
        if e.kind == .sendReceiveSkipSearchReturn { delivered = e.skipSearchReply }
        if delivered != 0, let life = tracker.life(delivered), let hop = life.hops.last, let send = hop.send, let d = hop.delivery
        {
            flow(delivered, send, d)
        }
    }

    private func flow(_ message: MessageID, _ send: MessageSend, _ delivery: MessageDelivery) {
        flowCount += 1
        let flowName = JSONText.string("message #\(message)")
        emit(
            "{\"ph\":\"s\",\"name\":\(flowName),\"cat\":\"message\",\"id\":\(flowCount),\"pid\":1,\"tid\":\(send.from),\"ts\":\(JSONText.micros(send.at))}"
        )
        emit(
            "{\"ph\":\"f\",\"bp\":\"e\",\"name\":\(flowName),\"cat\":\"message\",\"id\":\(flowCount),\"pid\":1,\"tid\":\(delivery.receiver),\"ts\":\(JSONText.micros(delivery.calledAt))}"
        )
    }

    /// Closes the JSON document.
    package func finish() {
        out.write("\n]}\n")
    }

    private func nameTrack(_ pid: ProcessID, force: Bool = false) {
        guard force || !named.contains(pid) else { return }
        named.insert(pid)
        var label = pid == 0 ? "host" : "pid \(pid)"
        if let entry = tracker.process(pid)?.entry { label += " (\(entry))" }
        emit("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":\(pid),\"args\":{\"name\":\(JSONText.string(label))}}")
        if !force {
            emit("{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":\(pid),\"args\":{\"sort_index\":\(pid)}}")
        }
    }

    private func emit(_ json: String) {
        if first { first = false } else { out.write(",\n") }
        out.write(json)
    }
}
