import ConformanceKit
import Foundation
import LunaRuntime
import TraceFormat

/// `luna-conform adapter`: LunaRuntime behind the stdio adapter protocol
/// (docs/ADAPTER_PROTOCOL.md), with optional injected faults.
///
/// Each adapter process is a native LunaRuntime process whose body waits for work. Requests that
/// cannot block run inline on the reading thread, on the process's context, while its body is
/// idle; a receive first looks at the mailbox inline and only hands the waiting to the body; a
/// process's later requests queue behind a waiting call and its body runs them when the call
/// returns. So requests start in arrival order, as the protocol requires (section 2.1).
///
/// Thread safety (`@unchecked Sendable`): `procs`, `env`, `generation` and `sendCount` are
/// touched only by the reading thread; each `AdapterProcess` guards its own queue; output goes
/// through `ResponseWriter`'s lock.
public final class BuiltinAdapter: @unchecked Sendable {
    let faults: FaultSet
    let out: ResponseWriter
    var env: Environment
    var generation = 1
    var procs: [Int64: AdapterProcess] = [:]
    var sendCount = 0
    let tokens = TokenCounter()
    /// The processes, for threads other than the reading one (see `reapDying`).
    let registry = ProcessRegistry()
    let reaper = DispatchQueue(label: "luna.adapter.reaper")

    /// Creates an adapter writing responses to `output` (a file descriptor).
    public init(faults: FaultSet, output: Int32 = 1) {
        self.faults = faults
        self.out = ResponseWriter(fd: output)
        self.env = Environment(id: 1, trace: MessageIDSink())
    }

    /// Serves requests from `input` until it is closed.
    public func serve(input: Int32 = 0) {
        LineReader.readLines(fd: input, afterEachRead: { out.flush() }) { handleLine($0) }
        out.flush()
        log("stdin closed, exiting")
    }

    func log(_ text: String) {
        FileHandle.standardError.write(Data(("luna-adapter: " + text + "\n").utf8))
    }

    func handleLine(_ line: UnsafeBufferPointer<UInt8>) {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { return }
        let req: JSONValue
        do { req = try JSONParser.parse(line) } catch {
            log("unreadable request: \(error)")
            return
        }
        guard let id = req["id"]?.int, let op = req["op"]?.string else {
            log("request without id or op: \(req.serialized)")
            return
        }
        dispatch(Request(id: id, op: op, body: req))
    }

    /// One request.
    struct Request: @unchecked Sendable {  // JSONValue trees are immutable values
        let id: Int64
        let op: String
        let body: JSONValue
        func int(_ key: String) throws(AdapterRequestError) -> Int64 {
            guard let v = body[key]?.int else { throw AdapterRequestError("missing integer field '\(key)'") }
            return v
        }
    }

    func dispatch(_ r: Request) {
        do throws(AdapterRequestError) {
            switch r.op {
            case "hello":
                out.result(r.id, "{\"name\":\"luna-runtime\",\"version\":\"\(LunaRuntimeInfo.version)\",\"protocol\":1,"
                    + "\"resource_kinds\":[\"module\",\"tcp_stream\",\"tls_stream\",\"udp_socket\"],"
                    + "\"namespaces\":[\"lunatic::message\",\"lifecycle\"],\"faults\":["
                    + faults.faults.map { "\"\($0.rawValue)\"" }.sorted().joined(separator: ",") + "]}")
            case "reset":
                reset()
                out.result(r.id, "null")
            case "spawn":
                let parent = try r.int("parent")
                let link = try r.int("link")
                let pid = spawn(parent: parent, link: link)
                out.result(r.id, "{\"pid\":\(pid)}")
            case "wait_exit":
                waitExit(r, pid: try r.int("process"), timeoutMs: r.body["timeout_ms"]?.int ?? 0)
            case "kill" where r.body["process"]?.int == 0:
                hostKill(r)
            default:
                let pid = try r.int("process")
                guard let p = procs[pid] else { throw AdapterRequestError("unknown process \(pid)") }
                submit(r, to: p)
            }
        } catch {
            out.error(r.id, error.message)
        }
    }

    // MARK: environment

    func reset() {
        for p in procs.values where p.endedStatus == nil {
            env.kill(ProcessID(p.pid))
            p.poke()
        }
        for p in procs.values { _ = p.waitUntilEnded(timeout: 5) }
        procs = [:]
        registry.removeAll()
        sendCount = 0
        generation += 1
        env = Environment(id: UInt64(generation), trace: MessageIDSink())
    }

    func spawn(parent: Int64, link: Int64) -> Int64 {
        let proc = AdapterProcess(adapter: self)
        let parentPid: ProcessID? = parent > 0 ? ProcessID(parent) : nil
        let pid = env.spawn(link: parentPid == nil ? 0 : link, parent: parentPid, entry: "adapter") { ctx in
            try await proc.body(ctx)
        }
        proc.pid = Int64(pid)
        proc.waitUntilStarted()
        procs[Int64(pid)] = proc
        registry.add(proc)
        return Int64(pid)
    }

    /// `kill` by the host (process 0): every pid in `to` (a pid or an array) is marked killed
    /// before any of them ends, as the runtime does when a program ends.
    func hostKill(_ r: Request) {
        let targets: [Int64] = r.body["to"]?.array?.compactMap(\.int) ?? r.body["to"]?.int.map { [$0] } ?? []
        env.kill(all: targets.map { ProcessID(truncatingIfNeeded: $0) })
        settleDeaths()
        settleWoken()
        out.result(r.id, "null")
    }

    /// Ends, from a helper thread, the processes the runtime has marked to die while the reading
    /// thread was not looking (a kill or trap run by a body after a blocking call): their bodies
    /// wait for work and must be woken. Waits first for `pid` (a process ending now, whose
    /// link notices may mark others) to be finished by the runtime.
    func reapDying(after pid: Int64? = nil) {
        let registry = self.registry
        reaper.async {
            if let pid, let p = registry.process(pid) { p.waitUntilEnded(timeout: 5) }
            for _ in 0..<64 {
                let dying = registry.all.filter { $0.endedStatus == nil && $0.isTerminating }
                if dying.isEmpty { return }
                for p in dying { p.poke() }
                for p in dying { _ = p.waitUntilEnded(timeout: 5) }
            }
        }
    }

    func waitExit(_ r: Request, pid: Int64, timeoutMs: Int64) {
        let env = self.env
        let out = self.out
        let id = r.id
        guard procs[pid] != nil || env.exists(ProcessID(pid)) else {
            out.result(id, "{\"exit\":\"failure\",\"reason\":\"no process\"}")
            return
        }
        Task {
            let exit = await env.waitForExit(of: ProcessID(pid), timeout: timeoutMs < 0 ? nil : Double(timeoutMs) / 1000)
            out.result(id, Self.describe(exit), flush: true)
        }
    }

    static func describe(_ exit: ProcessExit?) -> String {
        var reason = ""
        let status: String
        switch exit {
        case nil: status = "running"
        case .normal: status = "normal"
        case .failure(let r): status = "failure"; reason = r
        case .killed: status = "killed"
        case .linkDied(let from): status = "link_died"; reason = "linked process \(from) died"
        }
        var text = ""
        JSONValue.writeString(reason, to: &text)
        return "{\"exit\":\"\(status)\",\"reason\":\(text)}"
    }

    /// After something that may end processes: make every process that has been marked to die
    /// end now (their bodies wait for work, not in the runtime), cascades included, so the ends
    /// are complete before the next request starts.
    func settleDeaths() {
        for _ in 0..<64 {
            let dying = procs.values.filter { $0.endedStatus == nil && $0.isTerminating }
            if dying.isEmpty { return }
            for p in dying { p.poke() }
            for p in dying { _ = p.waitUntilEnded(timeout: 5) }
        }
    }
}

/// The adapter's processes, readable from any thread. `@unchecked Sendable`: guarded by `lock`.
final class ProcessRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var table: [Int64: AdapterProcess] = [:]

    func add(_ p: AdapterProcess) { lock.lock(); table[p.pid] = p; lock.unlock() }
    func removeAll() { lock.lock(); table = [:]; lock.unlock() }
    func process(_ pid: Int64) -> AdapterProcess? { lock.lock(); defer { lock.unlock() }; return table[pid] }
    var all: [AdapterProcess] { lock.lock(); defer { lock.unlock() }; return Array(table.values) }
}

/// A request the adapter cannot perform.
struct AdapterRequestError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Makes the runtime number messages (their ids become message tokens) and keeps nothing.
final class MessageIDSink: TraceSink {
    func record(_ event: TraceEvent) {}
}

/// A resource created by `new_resource`, named by its token.
final class AdapterResource: Resource {
    let resourceKind: ResourceKind
    let token: String
    init(kind: ResourceKind, token: String) {
        self.resourceKind = kind
        self.token = token
    }
}

/// Unique resource tokens. `@unchecked Sendable`: the counter is guarded by `lock`.
final class TokenCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func make(_ prefix: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        next += 1
        return "\(prefix)\(next)"
    }
}

/// Buffered, locked stdout. `@unchecked Sendable`: every access holds `lock`.
final class ResponseWriter: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private let fd: Int32

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    func result(_ id: Int64, _ json: String, flush: Bool = false) {
        line("{\"id\":\(id),\"result\":\(json)}", flush: flush)
    }

    func error(_ id: Int64, _ text: String, flush: Bool = false) {
        var s = ""
        JSONValue.writeString(text, to: &s)
        line("{\"id\":\(id),\"error\":\(s)}", flush: flush)
    }

    func line(_ text: String, flush doFlush: Bool) {
        lock.lock()
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if doFlush || buffer.count > 1 << 16 { writeAll() }
        lock.unlock()
    }

    func flush() {
        lock.lock()
        writeAll()
        lock.unlock()
    }

    private func writeAll() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
