import ConformanceKit
import Foundation
import LunaRuntime
import LunaSupport
import TraceFormat

/// `luna-conform adapter`: LunaRuntime behind the stdio adapter protocol
/// (docs/ADAPTER_PROTOCOL.md), with optional injected faults.
///
/// One thread reads stdin and hands each request to the dispatcher thread, which runs every
/// request, one at a time, on the caller's LunaRuntime context, as the protocol's synchronous
/// model says (section 2.1). Each adapter process is a native LunaRuntime process whose body
/// only does what cannot be done without blocking: waiting in `receive` or
/// `send_receive_skip_search`, and ending. When such a wait ends (a message or a death that a
/// request delivered, or a timeout the dispatcher lets expire between requests), its body posts
/// the answer back and the dispatcher writes it and runs the requests that queued behind the
/// call before it reads another request; so a request sent after an answer always starts
/// after everything that answer's process had queued (see `settle`).
///
/// Thread safety (`@unchecked Sendable`): every `var` belongs to the dispatcher thread; process
/// bodies read only `faults` and `inbox`; output goes through `ResponseWriter`'s lock.
public final class BuiltinAdapter: @unchecked Sendable {
    let faults: FaultSet
    let out: ResponseWriter
    let inbox = Inbox()
    var env: Environment
    var generation = 1
    var procs: [Int64: AdapterProcess] = [:]
    /// The processes in spawn (pid) order.
    var order: [AdapterProcess] = []
    var sendCount = 0
    let tokens = TokenCounter()
    /// The protocol version chosen at `hello`.
    var protocolVersion: Int64 = 1
    /// Requests run or queued so far (queued requests run in this order, section 2.1 rule 1).
    var arrivals: UInt64 = 0
    /// Processes with requests queued (`settle` runs them once the process is idle).
    var queued: [AdapterProcess] = []
    /// Processes the last request may have woken or marked to die (see `suspect`).
    var suspects: [AdapterProcess] = []
    /// Whether the last request may have woken or killed any process.
    var suspectEveryone = false
    /// Processes that wait with a deadline (see `startWaiting`).
    var timedWaits: [AdapterProcess] = []
    /// `wait_exit` requests not answered yet.
    var exitWaiters: [(id: Int64, process: AdapterProcess, deadline: UInt64?)] = []

    /// The protocol versions this adapter speaks (version 2 adds `guest_fault`).
    static let protocolVersions: ClosedRange<Int64> = 1...2

    /// Creates an adapter writing responses to `output` (a file descriptor).
    public init(faults: FaultSet, output: Int32 = 1) {
        self.faults = faults
        self.out = ResponseWriter(fd: output)
        self.env = Environment(id: 1, trace: MessageIDSink())
    }

    /// Serves requests from `input` until it is closed and every request read has been run.
    public func serve(input: Int32 = 0) {
        let done = DispatchSemaphore(value: 0)
        let dispatcher = Thread { [self] in
            dispatch()
            done.signal()
        }
        dispatcher.stackSize = 16 << 20
        dispatcher.name = "luna-adapter dispatcher"
        dispatcher.start()
        LineReader.readLines(fd: input) { read($0) }
        inbox.endInput()
        done.wait()
        out.flush()
        log("stdin closed, exiting")
    }

    func log(_ text: String) {
        FileHandle.standardError.write(Data(("luna-adapter: " + text + "\n").utf8))
    }

    /// Parses one line (reading thread) and hands it to the dispatcher.
    func read(_ line: UnsafeBufferPointer<UInt8>) {
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
        inbox.put(Request(id: id, op: op, body: req))
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

    /// The dispatcher thread: runs requests and the ends of blocking calls until input ends.
    func dispatch() {
        while true {
            settle()
            if endDueWait() { continue }
            answerExpiredExitWaits()
            let deadline = (exitWaiters.compactMap(\.deadline) + [nextWaitDeadline].compactMap { $0 }).min()
            switch inbox.next(until: deadline, beforeBlocking: { out.flush() }) {
            case .request(let r): handle(r)
            case .completion, .deadline: continue
            case .endOfInput: return
            }
        }
    }

    func handle(_ r: Request) {
        do throws(AdapterRequestError) {
            switch r.op {
            case "hello":
                hello(r)
            case "reset":
                reset()
                out.result(r.id, "null")
            case "spawn":
                let pid = spawn(parent: try r.int("parent"), link: try r.int("link"))
                out.result(r.id, "{\"pid\":\(pid)}")
            case "wait_exit":
                try waitExit(r)
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

    func hello(_ r: Request) {
        let offered = r.body["protocols"]?.array?.compactMap(\.int) ?? [r.body["protocol"]?.int ?? 1]
        protocolVersion = offered.filter { Self.protocolVersions.contains($0) }.max() ?? 1
        out.result(
            r.id,
            "{\"name\":\"luna-runtime\",\"version\":\"\(LunaRuntimeInfo.version)\",\"protocol\":\(protocolVersion),"
                + "\"resource_kinds\":[\"module\",\"tcp_stream\",\"tls_stream\",\"udp_socket\"],"
                + "\"namespaces\":[\"lunatic::message\",\"lifecycle\"],\"faults\":["
                + faults.faults.map { "\"\($0.rawValue)\"" }.sorted().joined(separator: ",") + "]}")
    }

    // MARK: environment

    /// Ends every process without notifying links (all are killed at once, so none dies from
    /// another's link), answering their waiting and queued requests, and starts a fresh
    /// environment whose first pid is 1 again.
    func reset() {
        env.kill(all: order.filter { $0.endedStatus == nil }.map { ProcessID($0.pid) })
        suspectAll()
        settle()
        inbox.dropCompletions()
        for w in exitWaiters { out.result(w.id, "{\"exit\":\"running\",\"reason\":\"\"}") }
        exitWaiters = []
        procs = [:]
        order = []
        queued = []
        suspects = []
        timedWaits = []
        sendCount = 0
        generation += 1
        env = Environment(id: UInt64(generation), trace: MessageIDSink())
    }

    func spawn(parent: Int64, link: Int64) -> Int64 {
        let proc = AdapterProcess(generation: generation)
        let parentPid: ProcessID? = parent > 0 ? ProcessID(parent) : nil
        let pid = env.spawn(link: parentPid == nil ? 0 : link, parent: parentPid, entry: "adapter") { [self] ctx in
            try await proc.body(ctx, adapter: self)
        }
        proc.pid = Int64(pid)
        proc.waitUntilStarted()
        procs[Int64(pid)] = proc
        order.append(proc)
        return Int64(pid)
    }

    /// `kill` by the host (process 0): every pid in `to` (a pid or an array) is marked killed
    /// before any of them ends, as the runtime does when a program ends.
    func hostKill(_ r: Request) {
        let targets: [Int64] = r.body["to"]?.array?.compactMap(\.int) ?? r.body["to"]?.int.map { [$0] } ?? []
        env.kill(all: targets.map { ProcessID(truncatingIfNeeded: $0) })
        suspectAll()
        settle()
        out.result(r.id, "null")
    }

    /// `wait_exit`: answered now when the process has ended or the timeout is 0, else when the
    /// dispatcher ends it (link notices delivered) or the timeout passes.
    func waitExit(_ r: Request) throws(AdapterRequestError) {
        let pid = try r.int("process")
        let timeoutMs = r.body["timeout_ms"]?.int ?? 0
        guard let p = procs[pid] else {
            out.result(r.id, "{\"exit\":\"failure\",\"reason\":\"no process\"}")
            return
        }
        if p.endedStatus != nil {
            out.result(r.id, Self.describe(env.exitStatus(of: ProcessID(pid))))
        } else if timeoutMs == 0 {
            out.result(r.id, Self.describe(nil))
        } else {
            exitWaiters.append((r.id, p, timeoutMs < 0 ? nil : MonotonicClock.deadline(afterMs: UInt64(timeoutMs))))
        }
    }

    /// Answers the `wait_exit` requests for `p`, which has just ended.
    func answerExitWaits(of p: AdapterProcess) {
        guard exitWaiters.contains(where: { $0.process === p }) else { return }
        let exit = Self.describe(env.exitStatus(of: ProcessID(p.pid)))
        for w in exitWaiters where w.process === p { out.result(w.id, exit) }
        exitWaiters.removeAll { $0.process === p }
    }

    /// Answers `running` to the `wait_exit` requests whose timeout has passed.
    func answerExpiredExitWaits() {
        guard !exitWaiters.isEmpty else { return }
        let now = MonotonicClock.now()
        for w in exitWaiters where w.deadline.map({ $0 <= now }) ?? false { out.result(w.id, Self.describe(nil)) }
        exitWaiters.removeAll { $0.deadline.map { $0 <= now } ?? false }
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

    /// The protocol status of an end.
    static func status(_ exit: ProcessExit?) -> String {
        switch exit {
        case .normal?: return "normal"
        case .killed?: return "killed"
        case .linkDied?: return "link_died"
        case .failure?, nil: return "failure"
        }
    }
}
