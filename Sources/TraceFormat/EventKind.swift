/// The kind of a trace event: which host call or lifecycle change it records.
///
/// Kinds are 16-bit codes grouped by namespace (see `docs/TRACE_FORMAT.md`, "Event kinds").
/// A reader keeps kinds it does not know as raw codes, so newer files stay readable.
public struct EventKind: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 16-bit code stored in the file.
    public var rawValue: UInt16

    /// Wraps a raw code, known or not.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static func < (lhs: EventKind, rhs: EventKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The lunatic name of the call (`create_data`, `tcp_bind`, …) or of the lifecycle event
    /// (`spawn`, `exit`, …); `kind_N` for a code this version does not know.
    public var name: String { EventKind.info[self]?.name ?? "kind_\(rawValue)" }

    /// The namespace the kind belongs to (`lunatic::message`, `lifecycle`, …).
    public var namespace: Namespace { EventKind.info[self]?.namespace ?? .unknown }

    /// Names of the positional arguments (`TraceEvent.args`) of this kind, for rendering.
    public var argumentNames: [String] { EventKind.info[self]?.arguments ?? [] }

    /// Whether this version knows the code.
    public var isKnown: Bool { EventKind.info[self] != nil }

    public var description: String { name }

    /// Looks a kind up by its name (as printed by `name`).
    public init?(name: String) {
        guard let kind = EventKind.byName[name] else { return nil }
        self = kind
    }

    /// All kinds this version knows, in code order.
    public static var allKnown: [EventKind] { info.keys.sorted() }

    /// Groups of kinds; the raw code ranges are fixed by the format.
    public enum Namespace: String, Sendable, CaseIterable {
        case message = "lunatic::message"
        case lifecycle = "lifecycle"
        case process = "lunatic::process"
        case error = "lunatic::error"
        case version = "lunatic::version"
        case networking = "lunatic::networking"
        case wasi = "wasi"
        case distributed = "lunatic::distributed"
        case registry = "lunatic::registry"
        case timer = "lunatic::timer"
        case unknown = "unknown"
    }

    struct Info {
        var name: String
        var namespace: Namespace
        var arguments: [String]
    }

    private static func k(_ code: UInt16) -> EventKind { EventKind(rawValue: code) }

    // MARK: lunatic::message (1…31)

    /// `create_data(tag, capacity)`; `message` is the new message's id.
    public static let createData = k(1)
    /// `write_data`; args `[len]`, payload = bytes written, result = bytes written.
    public static let writeData = k(2)
    /// `read_data`; args `[len]` (buffer length), payload = bytes read, result = bytes read.
    public static let readData = k(3)
    /// `seek_data(index)`.
    public static let seekData = k(4)
    /// `get_tag()`; result = tag.
    public static let getTag = k(5)
    /// `data_size()`; result = size.
    public static let dataSize = k(6)
    /// `push_module(module_id)`; result = slot index.
    public static let pushModule = k(7)
    /// `take_module(index)`; result = new module id.
    public static let takeModule = k(8)
    /// `push_tcp_stream(stream_id)`; result = slot index.
    public static let pushTcpStream = k(9)
    /// `take_tcp_stream(index)`; result = new stream id.
    public static let takeTcpStream = k(10)
    /// `push_tls_stream(stream_id)`; result = slot index.
    public static let pushTlsStream = k(11)
    /// `take_tls_stream(index)`; result = new stream id.
    public static let takeTlsStream = k(12)
    /// `push_udp_socket(socket_id)`; result = slot index.
    public static let pushUdpSocket = k(13)
    /// `take_udp_socket(index)`; result = new socket id.
    public static let takeUdpSocket = k(14)
    /// `send(pid)`; `message` = the message sent; result 0.
    public static let send = k(15)
    /// `send_receive_skip_search(pid, timeout)`, its send half: recorded when the request
    /// reaches `pid`'s mailbox, so before the receive that takes it. args `[pid, timeout]`,
    /// `message` = the request sent, result none (or a trap: then the call's only event). The
    /// call's return is `sendReceiveSkipSearchReturn`. (Format 1.0 files recorded the whole call
    /// as this one event; `TraceReader` reads each as a send half and a return.)
    public static let sendReceiveSkipSearch = k(16)
    /// `receive(tags, timeout)`; args `[timeout]`, `tags` = the tag set,
    /// `message` = the message received (0 on timeout); result 0, 1 or 9027.
    public static let receive = k(17)
    /// The return of `send_receive_skip_search` (format 1.1), after its send half. args
    /// `[pid, timeout, request]`, `message` = the reply taken (0 on timeout), `start` = when the
    /// call began; result 0 (even for a LinkDied reply) or 9027.
    public static let sendReceiveSkipSearchReturn = k(18)

    // MARK: lifecycle (64…95)

    /// A process was spawned. `pid` = parent (0 from the host), args
    /// `[child, link_tag, module_id, config_id]`, text = entry function; result 0 or 1 (error).
    public static let spawn = k(64)
    /// `link(tag, pid)`; args `[tag, pid]`.
    public static let link = k(65)
    /// `unlink(pid)`; args `[pid]`.
    public static let unlink = k(66)
    /// `kill(pid)`; args `[pid]`.
    public static let kill = k(67)
    /// `die_when_link_dies(flag)`; args `[flag]`.
    public static let dieWhenLinkDies = k(68)
    /// A process ended. args `[status]` (`ExitStatus` code: 0 normal, 1 failure, 2 killed,
    /// 3 died from a link), text = reason.
    public static let exit = k(69)
    /// A link-death notice reached `pid`. args `[dead_pid, tag, action]`, action 0 = queued as
    /// a LinkDied message (`message` = its id), 1 = the process dies too.
    public static let linkDied = k(70)
    /// A trap outside any host call (guest code: unreachable, out-of-bounds access, …).
    /// text = the trap reason.
    public static let trap = k(71)
    /// A message was dropped without being received. `message` = its id, args `[reason]`
    /// (`DropReason` code), `pid` = the process holding it when it was dropped.
    public static let messageDropped = k(72)
    /// A resource in a message slot was dropped with its message. args `[slot, resource_kind]`,
    /// `message` = the message.
    public static let resourceDropped = k(73)
    /// A process started running its entry. text = entry; args `[parent]`.
    public static let start = k(74)

    // MARK: lunatic::process (96…127)

    /// `compile_module(len)`; result 0/1, args `[len, id_or_error]`.
    public static let compileModule = k(96)
    /// `drop_module(id)`.
    public static let dropModule = k(97)
    /// `create_config()`; result = config id.
    public static let createConfig = k(98)
    /// `drop_config(id)`.
    public static let dropConfig = k(99)
    /// `sleep_ms(ms)`.
    public static let sleepMs = k(100)
    /// `process_id()`; result = pid.
    public static let processId = k(101)
    /// `environment_id()`; result = id.
    public static let environmentId = k(102)
    /// `config_*` setter or getter; text = the function name, args as passed.
    public static let configCall = k(103)

    // MARK: lunatic::error (120…123), lunatic::version (124…127)

    /// `lunatic::error::string_size(id)`.
    public static let errorStringSize = k(120)
    /// `lunatic::error::to_string(id, ptr)`; text = the string.
    public static let errorToString = k(121)
    /// `lunatic::error::drop(id)`.
    public static let errorDrop = k(122)
    /// `lunatic::version::major|minor|patch`; text = which.
    public static let version = k(124)

    // MARK: lunatic::networking (128…191)

    public static let tcpBind = k(128)
    public static let tcpLocalAddr = k(129)
    public static let tcpAccept = k(130)
    public static let tcpConnect = k(131)
    public static let tcpRead = k(132)
    public static let tcpPeek = k(133)
    public static let tcpWriteVectored = k(134)
    public static let tcpFlush = k(135)
    public static let tcpTimeout = k(136)
    public static let dropTcpStream = k(137)
    public static let dropTcpListener = k(138)
    public static let cloneTcpStream = k(139)
    public static let udpBind = k(144)
    public static let udpLocalAddr = k(145)
    public static let udpConnect = k(146)
    public static let udpSendTo = k(147)
    public static let udpSend = k(148)
    public static let udpReceive = k(149)
    public static let udpReceiveFrom = k(150)
    public static let udpOption = k(151)
    public static let dropUdpSocket = k(152)
    public static let cloneUdpSocket = k(153)
    public static let tlsBind = k(160)
    public static let tlsLocalAddr = k(161)
    public static let tlsAccept = k(162)
    public static let tlsConnect = k(163)
    public static let tlsRead = k(164)
    public static let tlsWriteVectored = k(165)
    public static let tlsFlush = k(166)
    public static let tlsTimeout = k(167)
    public static let dropTlsStream = k(168)
    public static let dropTlsListener = k(169)
    public static let cloneTlsStream = k(170)
    public static let resolve = k(176)
    public static let resolveNext = k(177)
    public static let dropDnsIterator = k(178)

    // MARK: wasi (192…223), distributed (224…239), registry (240…247), timer (248…255)

    /// A WASI call; text = the function name.
    public static let wasiCall = k(192)
    /// A `lunatic::distributed` call; text = the function name.
    public static let distributedCall = k(224)
    /// A `lunatic::registry` call; text = the function name.
    public static let registryCall = k(240)
    /// A `lunatic::timer` call; text = the function name.
    public static let timerCall = k(248)

    static let info: [EventKind: Info] = {
        var t: [EventKind: Info] = [:]
        func add(_ kind: EventKind, _ name: String, _ ns: Namespace, _ args: [String]) {
            t[kind] = Info(name: name, namespace: ns, arguments: args)
        }
        add(.createData, "create_data", .message, ["tag", "capacity"])
        add(.writeData, "write_data", .message, ["len"])
        add(.readData, "read_data", .message, ["len"])
        add(.seekData, "seek_data", .message, ["index"])
        add(.getTag, "get_tag", .message, [])
        add(.dataSize, "data_size", .message, [])
        add(.pushModule, "push_module", .message, ["module_id"])
        add(.takeModule, "take_module", .message, ["index"])
        add(.pushTcpStream, "push_tcp_stream", .message, ["stream_id"])
        add(.takeTcpStream, "take_tcp_stream", .message, ["index"])
        add(.pushTlsStream, "push_tls_stream", .message, ["stream_id"])
        add(.takeTlsStream, "take_tls_stream", .message, ["index"])
        add(.pushUdpSocket, "push_udp_socket", .message, ["socket_id"])
        add(.takeUdpSocket, "take_udp_socket", .message, ["index"])
        add(.send, "send", .message, ["pid"])
        add(.sendReceiveSkipSearch, "send_receive_skip_search", .message, ["pid", "timeout"])
        add(.receive, "receive", .message, ["timeout"])
        add(.sendReceiveSkipSearchReturn, "send_receive_skip_search_return", .message, ["pid", "timeout", "request"])
        add(.spawn, "spawn", .lifecycle, ["child", "link", "module_id", "config_id"])
        add(.link, "link", .lifecycle, ["tag", "pid"])
        add(.unlink, "unlink", .lifecycle, ["pid"])
        add(.kill, "kill", .lifecycle, ["pid"])
        add(.dieWhenLinkDies, "die_when_link_dies", .lifecycle, ["flag"])
        add(.exit, "exit", .lifecycle, ["status"])
        add(.linkDied, "link_died", .lifecycle, ["dead_pid", "tag", "action"])
        add(.trap, "trap", .lifecycle, [])
        add(.messageDropped, "message_dropped", .lifecycle, ["reason"])
        add(.resourceDropped, "resource_dropped", .lifecycle, ["slot", "resource_kind"])
        add(.start, "start", .lifecycle, ["parent"])
        add(.compileModule, "compile_module", .process, ["len", "id"])
        add(.dropModule, "drop_module", .process, ["module_id"])
        add(.createConfig, "create_config", .process, [])
        add(.dropConfig, "drop_config", .process, ["config_id"])
        add(.sleepMs, "sleep_ms", .process, ["ms", "never_returned"])
        add(.processId, "process_id", .process, [])
        add(.environmentId, "environment_id", .process, [])
        add(.configCall, "config_call", .process, [])
        add(.errorStringSize, "string_size", .error, ["error_id"])
        add(.errorToString, "to_string", .error, ["error_id"])
        add(.errorDrop, "drop", .error, ["error_id"])
        add(.version, "version", .version, [])
        let net: [(EventKind, String)] = [
            (.tcpBind, "tcp_bind"), (.tcpLocalAddr, "tcp_local_addr"), (.tcpAccept, "tcp_accept"),
            (.tcpConnect, "tcp_connect"), (.tcpRead, "tcp_read"), (.tcpPeek, "tcp_peek"),
            (.tcpWriteVectored, "tcp_write_vectored"), (.tcpFlush, "tcp_flush"),
            (.tcpTimeout, "tcp_timeout"), (.dropTcpStream, "drop_tcp_stream"),
            (.dropTcpListener, "drop_tcp_listener"), (.cloneTcpStream, "clone_tcp_stream"),
            (.udpBind, "udp_bind"), (.udpLocalAddr, "udp_local_addr"), (.udpConnect, "udp_connect"),
            (.udpSendTo, "udp_send_to"), (.udpSend, "udp_send"), (.udpReceive, "udp_receive"),
            (.udpReceiveFrom, "udp_receive_from"), (.udpOption, "udp_option"),
            (.dropUdpSocket, "drop_udp_socket"), (.cloneUdpSocket, "clone_udp_socket"),
            (.tlsBind, "tls_bind"), (.tlsLocalAddr, "tls_local_addr"), (.tlsAccept, "tls_accept"),
            (.tlsConnect, "tls_connect"), (.tlsRead, "tls_read"),
            (.tlsWriteVectored, "tls_write_vectored"), (.tlsFlush, "tls_flush"),
            (.tlsTimeout, "tls_timeout"), (.dropTlsStream, "drop_tls_stream"),
            (.dropTlsListener, "drop_tls_listener"), (.cloneTlsStream, "clone_tls_stream"),
            (.resolve, "resolve"), (.resolveNext, "resolve_next"), (.dropDnsIterator, "drop_dns_iterator"),
        ]
        for (kind, name) in net { add(kind, name, .networking, []) }
        add(.wasiCall, "wasi_call", .wasi, [])
        add(.distributedCall, "distributed_call", .distributed, [])
        add(.registryCall, "registry_call", .registry, [])
        add(.timerCall, "timer_call", .timer, [])
        return t
    }()

    static let byName: [String: EventKind] = {
        var t: [String: EventKind] = [:]
        for (kind, info) in info { t[info.name] = kind }
        return t
    }()
}
