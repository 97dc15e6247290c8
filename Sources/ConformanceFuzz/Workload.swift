import TraceFormat

/// A timeout of a generated receive or skip-search call.
public enum FuzzTimeout: Hashable, Sendable {
    /// Return at once when nothing matches.
    case zero
    /// Wait this many milliseconds.
    case ms(UInt64)
    /// Wait forever (`u64::MAX`).
    case forever

    /// The value passed to the runtime.
    public var runtimeValue: UInt64 {
        switch self {
        case .zero: return 0
        case .ms(let n): return n
        case .forever: return .max
        }
    }

    var text: String {
        switch self {
        case .zero: return "0"
        case .ms(let n): return "\(n)ms"
        case .forever: return "forever"
        }
    }
}

/// Whom a call names: another process of the workload (by its index), the caller itself, or
/// a pid that never exists.
public enum FuzzTarget: Hashable, Sendable {
    /// Process `index` of the workload (a missing pid while it has not been spawned).
    case process(Int)
    /// The calling process.
    case me
    /// A pid no process ever has.
    case missing(UInt64)

    var text: String {
        switch self {
        case .process(let i): return "P\(i)"
        case .me: return "self"
        case .missing(let p): return "missing pid \(p)"
        }
    }
}

/// Which resource id a push names.
public enum FuzzResourceRef: Hashable, Sendable {
    /// The n-th id (modulo their count) the caller holds of that kind when the push runs; an
    /// id it never held when it holds none.
    case held(Int)
    /// An id the caller never held.
    case invalid(UInt64)

    var text: String {
        switch self {
        case .held(let n): return "held #\(n)"
        case .invalid(let id): return "invalid id \(id)"
        }
    }
}

/// One call (or lifecycle action) of a generated process's script.
public enum FuzzStep: Hashable, Sendable {
    case createData(tag: Int64, capacity: UInt64)
    /// Writes `count` bytes `fill, fill+1, …`.
    case writeData(count: Int, fill: UInt8)
    case readData(count: Int)
    case seekData(UInt64)
    case getTag
    case dataSize
    /// Puts a fresh resource of `kind` in the caller's table (not a call of the message API:
    /// it stands for compile_module, tcp_connect, …, as the adapter protocol's `new_resource`).
    case newResource(ResourceKind)
    case push(ResourceKind, FuzzResourceRef)
    case take(ResourceKind, index: UInt64)
    case send(FuzzTarget)
    case skipSearch(FuzzTarget, FuzzTimeout)
    case receive(tags: [Int64], FuzzTimeout)
    /// Spawns workload process `child`, linked with `link` (0 = not linked).
    case spawn(child: Int, link: Int64)
    case link(tag: Int64, FuzzTarget)
    case unlink(FuzzTarget)
    case kill(FuzzTarget)
    case dieWhenLinkDies(Bool)
    /// Traps outside any host call (the body throws): ends with failure.
    case trap
    /// The entry function returns here: ends normally.
    case exit

    /// One line for listings.
    public var text: String {
        switch self {
        case .createData(let tag, let cap): return "create_data(tag \(tag), capacity \(cap))"
        case .writeData(let count, let fill): return "write_data(\(count) bytes from 0x\(String(fill, radix: 16)))"
        case .readData(let count): return "read_data(\(count))"
        case .seekData(let i): return "seek_data(\(i))"
        case .getTag: return "get_tag"
        case .dataSize: return "data_size"
        case .newResource(let k): return "new_resource(\(k))"
        case .push(let k, let r): return "push_\(k)(\(r.text))"
        case .take(let k, let i): return "take_\(k)(\(i))"
        case .send(let t): return "send(\(t.text))"
        case .skipSearch(let t, let timeout): return "send_receive_skip_search(\(t.text), timeout \(timeout.text))"
        case .receive(let tags, let timeout): return "receive(tags \(tags), timeout \(timeout.text))"
        case .spawn(let child, let link): return "spawn P\(child)" + (link != 0 ? " linked with tag \(link)" : "")
        case .link(let tag, let t): return "link(tag \(tag), \(t.text))"
        case .unlink(let t): return "unlink(\(t.text))"
        case .kill(let t): return "kill(\(t.text))"
        case .dieWhenLinkDies(let on): return "die_when_link_dies(\(on ? 1 : 0))"
        case .trap: return "trap (unreachable)"
        case .exit: return "return (normal exit)"
        }
    }

    /// Whether the step is a call the trace records (not `newResource`, `trap` or `exit`).
    var isCall: Bool {
        switch self {
        case .newResource, .trap, .exit: return false
        default: return true
        }
    }
}

/// A generated workload: native processes with straight-line scripts. Process 0 is spawned by
/// the host; every other process is spawned by a `spawn` step of an earlier one (and never runs
/// when that step is not reached).
public struct Workload: Hashable, Sendable {
    /// The seed it was generated from (0 for hand-made or shrunk workloads that lost it).
    public var seed: UInt64
    /// The scripts, by process index.
    public var processes: [[FuzzStep]]

    /// Creates a workload.
    public init(seed: UInt64, processes: [[FuzzStep]]) {
        self.seed = seed
        self.processes = processes
    }

    /// Steps over all processes.
    public var stepCount: Int { processes.reduce(0) { $0 + $1.count } }

    /// A readable listing, one step per line.
    public var listing: String {
        var lines = ["workload (seed \(seed)): \(processes.count) processes, \(stepCount) steps"]
        for (i, steps) in processes.enumerated() {
            lines.append("P\(i)" + (i == 0 ? " (spawned by the host)" : "") + ":")
            for (n, s) in steps.enumerated() { lines.append("  \(n): \(s.text)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Workload {
    /// A long workload with no traps: `processes` processes in a ring, each round sending the
    /// next one a tagged message with bytes and a resource, then receiving from the previous
    /// one, taking the resource and reading the bytes. About 9 events per process and round.
    /// In the round two thirds of the way, process 0 sends two TCP streams and process 1
    /// takes them in reverse order (a take of slot 1 deep in a long trace).
    public static func ring(processes n: Int, rounds: Int, seed: UInt64 = 0) -> Workload {
        let kinds: [ResourceKind] = [.module, .tcpStream, .tlsStream, .udpSocket]
        var procs: [[FuzzStep]] = Array(repeating: [], count: max(n, 2))
        let n = procs.count
        for child in 1..<n { procs[0].append(.spawn(child: child, link: 0)) }
        let special = rounds * 2 / 3
        for r in 0..<rounds {
            for p in 0..<n {
                let tag = Int64(1 + (r + p) % 3)
                let kind = kinds[(r + p) % 4]
                if r == special && p == 0 {
                    procs[p] += [
                        .createData(tag: tag, capacity: 0), .newResource(.tcpStream), .push(.tcpStream, .held(0)),
                        .newResource(.tcpStream), .push(.tcpStream, .held(0)), .send(.process(1)),
                        .receive(tags: [], .forever), .take(kinds[(r + n - 1) % 4], index: 0),
                    ]
                    continue
                }
                if r == special && p == 1 {
                    procs[p] += [
                        .createData(tag: tag, capacity: 16), .newResource(kind), .push(kind, .held(0)), .send(.process(2)),
                        .receive(tags: [], .forever), .take(.tcpStream, index: 1), .take(.tcpStream, index: 0),
                    ]
                    continue
                }
                procs[p] += [
                    .createData(tag: tag, capacity: 16), .writeData(count: 1 + (r + p) % 7, fill: UInt8(truncatingIfNeeded: r)),
                    .newResource(kind), .push(kind, .held(0)), .send(.process((p + 1) % n)),
                    .receive(tags: [], .forever), .getTag, .dataSize, .take(kinds[(r + (p + n - 1) % n) % 4], index: 0),
                    .readData(count: 8),
                ]
            }
        }
        return Workload(seed: seed, processes: procs)
    }
}
