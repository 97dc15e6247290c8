import LunaSupport
import TraceFormat

/// Generates workloads from a seed: the same seed and options always give the same workload.
///
/// A workload is built as a sequence of *interactions* (a message from one process to another,
/// a burst into a deep mailbox, a request and its reply, a receive racing a send, a link and a
/// death, calls on whatever is in the scratch area…), each appending steps to the scripts of the
/// processes involved. Processes run concurrently, so the fragments interleave in time roughly
/// as they were appended; where they do not, the recorded trace says what happened.
public struct WorkloadGenerator: Sendable {
    /// Tuning knobs.
    public struct Options: Sendable, Hashable {
        /// Processes per workload.
        public var processes: ClosedRange<Int> = 2...6
        /// Calls per workload (approximate: a workload stops growing once it has this many).
        public var calls: ClosedRange<Int> = 50...200
        /// Whether finite non-zero timeouts are generated (their races make the trace depend on
        /// timing; without them every run of a workload records the same calls).
        public var finiteTimeouts = true
        /// Whether kills, links, unlinks, die_when_link_dies, traps and early returns are
        /// generated (without them: messages, resources, receives and timeouts only).
        public var lifecycle = true
        /// Whether send_receive_skip_search may wait for its reply (a non-zero timeout).
        /// Without it every skip-search call has timeout 0 and takes no reply.
        public var skipSearchWaits = true

        /// The defaults.
        public init() {}
    }

    /// The options.
    public var options: Options

    /// A generator with `options`.
    public init(options: Options = .init()) { self.options = options }

    /// Tags messages carry: mostly a few small ones (so tag sets match and skip), sometimes 0
    /// (untagged) or extreme values.
    static let tags: [Int64] = [0, 1, 1, 2, 2, 3, 3, 4, 5, 7, -1, Int64.max]
    /// A tag no message ever carries: a receive on it is a pure wait.
    static let quietTag: Int64 = 9_999
    static let kinds: [ResourceKind] = [.module, .tcpStream, .tlsStream, .udpSocket]
    static let shortTimeouts: [UInt64] = [1, 1, 2, 2, 3, 5, 8, 20]

    /// The workload of `seed`.
    public func generate(seed: UInt64) -> Workload {
        var g = Builder(rng: SplitMix(seed: seed), options: options)
        return Workload(seed: seed, processes: g.build())
    }

    struct Builder {
        var rng: SplitMix
        let options: Options
        var scripts: [[FuzzStep]] = []
        var calls = 0

        mutating func build() -> [[FuzzStep]] {
            let n = rng.int(options.processes)
            scripts = Array(repeating: [], count: n)
            // The spawn tree: each process after the first is spawned by an earlier one, mostly
            // at the start of the parent's script (so that it exists when others talk to it).
            var late: [(parent: Int, child: Int, link: Int64)] = []
            for child in 1..<max(n, 1) {
                let parent = rng.chance(0.6) ? 0 : rng.below(child)
                let link: Int64 = options.lifecycle && rng.chance(0.45) ? rng.pick([1, 2, 5, 7, -3]) : 0
                if rng.chance(0.15) {
                    late.append((parent, child, link))
                } else {
                    append(parent, .spawn(child: child, link: link))
                }
            }
            for p in 0..<n where options.lifecycle && rng.chance(0.35) { append(p, .dieWhenLinkDies(false)) }
            let target = rng.int(options.calls)
            var lateAt = late.map { _ in rng.int(5...30) }
            while calls < target {
                for (i, l) in late.enumerated() where lateAt[i] >= 0 && calls >= lateAt[i] {
                    append(l.parent, .spawn(child: l.child, link: l.link))
                    lateAt[i] = -1
                }
                interaction()
            }
            for (i, l) in late.enumerated() where lateAt[i] >= 0 { append(l.parent, .spawn(child: l.child, link: l.link)) }
            return scripts
        }

        mutating func append(_ p: Int, _ s: FuzzStep) {
            scripts[p].append(s)
            if s.isCall { calls += 1 }
        }

        var count: Int { scripts.count }

        mutating func anyProcess() -> Int { rng.below(count) }

        /// A target for a send: mostly another process, sometimes itself or a missing pid.
        mutating func target(from p: Int) -> FuzzTarget {
            switch rng.weighted([80, 8, 7]) {
            case 0: return .process(anyProcess())
            case 1: return .me
            default: return .missing(rng.pick([1_000, 77_777, UInt64(Int64.max)]))
            }
        }

        mutating func tag() -> Int64 { rng.pick(WorkloadGenerator.tags) }

        mutating func tagSet(including t: Int64?) -> [Int64] {
            switch rng.weighted([35, 45, 20]) {
            case 0: return []
            case 1:
                var set = (0..<rng.int(1...3)).map { _ in tag() }
                if let t, rng.chance(0.7) { set.insert(t, at: rng.below(set.count + 1)) }
                return set
            default: return [rng.pick([0, 6, WorkloadGenerator.quietTag])]  // 0 or tags nobody sends
            }
        }

        /// A skip-search timeout: zero, forever or long. Its reply is sent by a later event, and
        /// the replay cannot make that send reach the adapter within a few milliseconds of the
        /// call, so a short timeout that the reply beat when recording would be a race the
        /// replay does not reproduce.
        mutating func skipSearchTimeout() -> FuzzTimeout {
            if !options.skipSearchWaits { return .zero }
            switch rng.weighted([30, options.finiteTimeouts ? 15 : 0, 55]) {
            case 0: return .zero
            case 1: return .ms(250)
            default: return .forever
            }
        }

        mutating func timeout() -> FuzzTimeout {
            switch rng.weighted([35, options.finiteTimeouts ? 30 : 0, 35]) {
            case 0: return .zero
            case 1: return .ms(rng.pick(WorkloadGenerator.shortTimeouts))
            default: return .forever
            }
        }

        mutating func size() -> Int {
            switch rng.weighted([20, 60, 15, 5]) {
            case 0: return 0
            case 1: return rng.int(1...16)
            case 2: return rng.int(17...300)
            default: return rng.int(301...5_000)
            }
        }

        /// create_data, writes, pushes (of fresh or held resources, sometimes invalid ids).
        @discardableResult
        mutating func compose(_ p: Int, tag t: Int64) -> [ResourceKind] {
            var kinds: [ResourceKind] = []
            append(p, .createData(tag: t, capacity: UInt64(rng.pick([0, 0, 8, 64, 1_000_000]))))
            for _ in 0..<rng.weighted([25, 45, 20, 10]) {
                append(p, .writeData(count: size(), fill: UInt8(truncatingIfNeeded: rng.next())))
            }
            let pushes = rng.weighted([45, 25, 18, 12])
            for _ in 0..<pushes {
                let kind = rng.pick(WorkloadGenerator.kinds)
                if rng.chance(0.9) { scripts[p].append(.newResource(kind)) }
                append(p, .push(kind, rng.chance(0.04) ? .invalid(rng.pick([5, 1 << 30])) : .held(rng.below(3))))
                kinds.append(kind)
            }
            return kinds
        }

        /// Takes out of a received message with `kinds` in its slots: the right kinds in some
        /// order, sometimes a wrong kind or a slot taken twice.
        mutating func takeOut(_ r: Int, _ kinds: [ResourceKind]) {
            guard !kinds.isEmpty else { return }
            for i in Array(kinds.indices).shuffled(using: &rng).prefix(rng.int(1...kinds.count)) {
                let kind = rng.chance(0.1) ? rng.pick(WorkloadGenerator.kinds) : kinds[i]
                append(r, .take(kind, index: UInt64(i)))
                if rng.chance(0.05) { append(r, .take(kind, index: UInt64(i))) }
            }
        }

        /// Calls on the scratch area after a receive: reads, seeks, tags, takes (some wrong).
        mutating func inspect(_ p: Int) {
            for _ in 0..<rng.weighted([30, 35, 20, 15]) {
                switch rng.weighted([30, 10, 14, 12, 14, 2]) {
                case 0: append(p, .readData(count: rng.pick([0, 1, 4, 16, 1_000])))
                case 1: append(p, .seekData(UInt64(rng.pick([0, 1, 3, 100]))))
                case 2: append(p, .getTag)
                case 3: append(p, .dataSize)
                case 4: append(p, .take(rng.pick(WorkloadGenerator.kinds), index: UInt64(rng.weighted([40, 30, 15, 10, 5]))))
                default: append(p, .push(rng.pick(WorkloadGenerator.kinds), .held(rng.below(3))))
                }
            }
        }

        mutating func interaction() {
            let life = options.lifecycle ? 1 : 0
            switch rng.weighted([26, 9, 9, 9, 11 * life, 8, 6 * life, 4]) {
            case 0: message()
            case 1: burst()
            case 2: requestReply()
            case 3: race()
            case 4: lifecycle()
            case 5: inspect(anyProcess())
            case 6: inFlightDeath()
            default: concurrentTimeouts()
            }
        }

        /// One message from a sender to a receiver, received selectively.
        mutating func message() {
            let s = anyProcess()
            let t = tag()
            let kinds = compose(s, tag: t)
            let to = target(from: s)
            append(s, .send(to))
            var r: Int? = nil
            if case .process(let i) = to { r = i } else if case .me = to { r = s }
            if let r, rng.chance(0.85) {
                append(r, .receive(tags: tagSet(including: t), timeout()))
                if rng.chance(0.6) { takeOut(r, kinds) }
                if rng.chance(0.6) { inspect(r) }
            }
        }

        /// Many messages into one mailbox, then selective receives that skip over most of them.
        mutating func burst() {
            let s = anyProcess(), r = anyProcess()
            let k = rng.int(4...16)
            let small: [Int64] = [1, 2, 3, 0]
            for _ in 0..<k {
                append(s, .createData(tag: rng.pick(small), capacity: 0))
                if rng.chance(0.5) { append(s, .writeData(count: rng.int(0...8), fill: UInt8(truncatingIfNeeded: rng.next()))) }
                if rng.chance(0.15) {
                    let kind = rng.pick(WorkloadGenerator.kinds)
                    scripts[s].append(.newResource(kind))
                    append(s, .push(kind, .held(0)))
                }
                append(s, .send(.process(r)))
            }
            for _ in 0..<rng.int(1...k) {
                let tags: [Int64] = rng.chance(0.2) ? [] : Array(small.shuffled(using: &rng).prefix(rng.int(1...2)))
                append(r, .receive(tags: tags, rng.chance(0.6) ? .zero : timeout()))
                if rng.chance(0.3) { inspect(r) }
            }
        }

        /// A skip-search request and its reply, sometimes with a stale message of the same tag
        /// already queued at the caller.
        mutating func requestReply() {
            let c = anyProcess()
            var sv = anyProcess()
            if sv == c && count > 1 { sv = (c + 1) % count }
            let t: Int64 = rng.chance(0.25) ? 0 : rng.pick([1, 2, 3, 5])
            switch rng.weighted([40, 30, 30]) {
            case 0:
                // A stale message with the request's tag, queued before the call.
                append(c, .createData(tag: t, capacity: 0))
                append(c, .writeData(count: 5, fill: 0x50))
                append(c, .send(.me))
            case 1:
                let other = anyProcess()
                append(other, .createData(tag: t, capacity: 0))
                append(other, .writeData(count: 5, fill: 0x50))
                append(other, .send(.process(c)))
            default:
                break
            }
            compose(c, tag: t)
            append(c, .skipSearch(rng.chance(0.05) ? .missing(1_000) : .process(sv), skipSearchTimeout()))
            inspect(c)
            if sv != c {
                append(sv, .receive(tags: rng.chance(0.5) ? [] : [t], rng.chance(0.7) ? .forever : timeout()))
                append(sv, .createData(tag: rng.chance(0.85) ? t : tag(), capacity: 0))
                append(sv, .writeData(count: rng.int(0...6), fill: 0x72))
                append(sv, .send(.process(c)))
            }
        }

        /// A timed receive racing a send that comes after a wait of about the same length.
        mutating func race() {
            let r = anyProcess()
            var s = anyProcess()
            if s == r && count > 1 { s = (r + 1) % count }
            let t: Int64 = rng.pick([1, 2, 3])
            let ms = rng.pick(WorkloadGenerator.shortTimeouts)
            append(r, .receive(tags: rng.chance(0.5) ? [t] : [], options.finiteTimeouts ? .ms(ms) : .forever))
            if options.finiteTimeouts {
                let wait = max(0, Int(ms) + rng.int(-2...2))
                append(s, .receive(tags: [WorkloadGenerator.quietTag], wait == 0 ? .zero : .ms(UInt64(wait))))
            }
            append(s, .createData(tag: t, capacity: 0))
            append(s, .writeData(count: rng.int(0...4), fill: 0x11))
            append(s, .send(.process(r)))
            if rng.chance(0.5) { inspect(r) }
        }

        /// Several processes waiting with timeouts at once.
        mutating func concurrentTimeouts() {
            for _ in 0..<rng.int(2...4) {
                append(
                    anyProcess(),
                    .receive(tags: rng.chance(0.5) ? [WorkloadGenerator.quietTag] : tagSet(including: nil), timeout()))
            }
        }

        /// Links, unlinks, kills (of blocked processes and of itself), deaths, normal ends.
        mutating func lifecycle() {
            let p = anyProcess()
            switch rng.weighted([22, 8, 18, 14, 10, 10, 5, 16]) {
            case 0: append(p, .link(tag: rng.pick([0, 1, 4, 9]), rng.chance(0.1) ? .missing(4_242) : .process(anyProcess())))
            case 1: append(p, .unlink(.process(anyProcess())))
            case 2:
                // Kill a process that is probably blocked: it waits forever first.
                let victim = anyProcess()
                if victim != p { append(victim, .receive(tags: [rng.pick([WorkloadGenerator.quietTag, 1])], .forever)) }
                append(p, .kill(rng.chance(0.1) ? .missing(31_337) : .process(victim)))
            case 3: append(p, .dieWhenLinkDies(rng.chance(0.5)))
            case 4: append(p, .kill(.me))
            case 5: append(p, .trap)
            case 6: append(p, .exit)
            default:
                // A link-death notice received as a message: p stops dying with its links,
                // links to q, q fails or is killed, p receives.
                var q = anyProcess()
                if q == p && count > 1 { q = (p + 1) % count }
                guard q != p else { return }
                let tag: Int64 = rng.pick([0, 3, 8])
                append(p, .dieWhenLinkDies(false))
                append(p, .link(tag: tag, .process(q)))
                if rng.chance(0.5) { append(q, .trap) } else { append(p, .kill(.process(q))) }
                append(p, .receive(tags: rng.chance(0.5) ? [] : [tag], rng.chance(0.5) ? .forever : timeout()))
                append(p, .getTag)
                return
            }
            if rng.chance(0.4) {
                // Someone waits for a notice of it.
                let w = anyProcess()
                append(w, .receive(tags: rng.chance(0.5) ? [] : [rng.pick([0, 1, 2, 5, 7, -3])], timeout()))
                if rng.chance(0.5) { append(w, .getTag) }
            }
        }

        /// Resources in a message that is in flight or queued when its receiver dies.
        mutating func inFlightDeath() {
            let s = anyProcess()
            var r = anyProcess()
            if r == s && count > 1 { r = (s + 1) % count }
            append(s, .createData(tag: rng.pick([1, 2]), capacity: 0))
            for _ in 0..<rng.int(1...3) {
                let kind = rng.pick(WorkloadGenerator.kinds)
                scripts[s].append(.newResource(kind))
                append(s, .push(kind, .held(rng.below(2))))
            }
            append(s, .send(.process(r)))
            switch rng.weighted([40, 30, 30]) {
            case 0: append(s, .kill(.process(r)))
            case 1: append(r, .trap)
            default:
                append(r, .receive(tags: [], .zero))
                append(r, .kill(.me))
            }
        }
    }
}
