import Foundation
import LunaSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// The networking operations of one process through the Swift API: errors as error ids,
/// timeouts, clones, options, addresses and traces (loopback only).
@Suite("Networking operations (Swift API)")
struct NetworkingAPITests {
    /// Runs `body` as a thread process of a traced environment; returns its exit and the events.
    private func runProcess(
        _ body: @escaping @Sendable (ProcessContext) throws -> Void
    )
        -> (ProcessExit?, NetworkEventCollector)
    {
        let sink = NetworkEventCollector()
        let env = Environment(trace: sink)
        let pid = env.spawnThread(entry: "net", body)
        let exit = env.waitForExitBlocking(of: pid, timeout: 10)
        return (exit, sink)
    }

    @Test("a refused connection is status 1 with an error id whose text names the cause")
    func refusedConnection() {
        let text = Box<String?>(nil)
        let (exit, sink) = runProcess { ctx in
            // Bind then drop a listener: its port is then (almost certainly) closed.
            let listener = try ctx.tcpBind(.loopback(port: 0)).expectSuccess("bind")
            let port = try ctx.resolveNext(ctx.tcpLocalAddress(listener).expectSuccess("local"))!.port
            try ctx.dropTcpListener(listener)
            let outcome = try ctx.tcpConnect(.loopback(port: port), timeoutMs: 2000)
            guard case .failure(let errorID) = outcome else { throw LunaTrap("connected: \(outcome)") }
            text.value = ctx.errorText(errorID)
        }
        #expect(exit == .normal)
        #expect(text.value?.contains("Connection refused") == true, "\(text.value ?? "nil")")
        #expect(sink.events(.tcpConnect).first?.result == .value(1))
    }

    @Test("read timeout: 9027 after at least the timeout and well within 2 s; u64::MAX means none")
    func readTimeout() {
        let observed = Box<(NetworkOutcome, Double, UInt64)?>(nil)
        let (exit, _) = runProcess { ctx in
            let listener = try ctx.tcpBind(.loopback(port: 0)).expectSuccess("bind")
            let address = try ctx.resolveNext(ctx.tcpLocalAddress(listener).expectSuccess("local"))!
            let client = try ctx.tcpConnect(address, timeoutMs: 2000).expectSuccess("connect")
            try ctx.setTcpTimeout(client, .read, ms: 150)
            let started = MonotonicClock.now()
            let (outcome, _) = try ctx.tcpRead(client, maxCount: 16)
            let elapsed = Double(MonotonicClock.now() - started) / 1e9
            try ctx.setTcpTimeout(client, .read, ms: .max)
            observed.value = (outcome, elapsed, try ctx.tcpTimeout(client, .read))
        }
        #expect(exit == .normal)
        guard let (outcome, elapsed, after) = observed.value else { return }
        #expect(outcome == .timedOut)
        #expect(outcome.code == 9027)
        #expect(elapsed >= 0.15 && elapsed < 30)  // loose: only that the timeout ended the read
        #expect(after == .max)
    }

    @Test("a clone keeps the connection open after the original id is dropped; ids are never reused")
    func cloneOutlivesDrop() {
        let observed = Box<[String]>([])
        let (exit, sink) = runProcess { ctx in
            let listener = try ctx.tcpBind(.loopback(port: 0)).expectSuccess("bind")
            let address = try ctx.resolveNext(ctx.tcpLocalAddress(listener).expectSuccess("local"))!
            let client = try ctx.tcpConnect(address, timeoutMs: 2000).expectSuccess("connect")
            let (accepted, _) = try ctx.tcpAccept(listener)
            let server = accepted.expectSuccess("accept")
            let clone = try ctx.cloneTcpStream(client)
            try ctx.dropTcpStream(client)
            let dropTwice = trapReason { try ctx.dropTcpStream(client) }
            _ = try ctx.tcpWrite(clone, Array("via clone".utf8))
            try ctx.setTcpTimeout(server, .read, ms: 2000)
            var peeked = [UInt8](repeating: 0, count: 3)
            _ = try peeked.withUnsafeMutableBytes { try ctx.tcpPeek(server, into: $0) }
            let (_, bytes) = try ctx.tcpRead(server, maxCount: 64)
            observed.value = [
                "\(client) \(clone) \(server)", dropTwice ?? "no trap",
                String(decoding: peeked, as: UTF8.self), String(decoding: bytes, as: UTF8.self),
            ]
        }
        #expect(exit == .normal)
        #expect(observed.value == ["0 2 1", "lunatic::networking::drop_tcp_stream", "via", "via clone"])
        #expect(sink.events(.tcpWriteVectored).first?.payload == .bytes(Array("via clone".utf8)))
        #expect(sink.events(.cloneTcpStream).first?.result == .value(2))
    }

    @Test("TLS: an untrusted server certificate is an error id, and so is an unusable key")
    func tlsFailuresAreErrors() throws {
        let material = try TestCertificate.shared.get()
        let observed = Box<[String]>([])
        let (exit, _) = runProcess { ctx in
            let badKey = try ctx.tlsBind(
                .loopback(port: 0), certificatePEM: material.certificatePEM,
                keyPEM: Array("not a key".utf8))
            let listener = try ctx.tlsBind(
                .loopback(port: 0), certificatePEM: material.certificatePEM,
                keyPEM: material.keyPEM
            ).expectSuccess("bind")
            let port = try ctx.resolveNext(ctx.tlsLocalAddress(listener).expectSuccess("local"))!.port
            // The server side accepts on the listener object on a plain thread (its handshake
            // fails too, when the client rejects the certificate).
            guard let resource = ctx.resource(.tlsListener, id: listener) as? TlsListenerResource else {
                throw LunaTrap("no listener")
            }
            let acceptor = Thread { _ = try? resource.accept(timeoutMs: 3000) }
            acceptor.start()
            let untrusted = try ctx.tlsConnect(host: "localhost", port: port, rootCertificatePEMs: [], timeoutMs: 3000)
            observed.value = [
                "\(badKey.code)", ctx.errorText(badKey.value) ?? "",
                "\(untrusted.code)", ctx.errorText(untrusted.value) ?? "",
            ]
        }
        #expect(exit == .normal)
        let values = observed.value
        #expect(values.count == 4)
        if values.count == 4 {
            #expect(values[0] == "1")
            #expect(values[1].contains("private key"), "\(values[1])")
            #expect(values[2] == "1")
            #expect(values[3].contains("certificate verify failed"), "\(values[3])")
        }
    }

    @Test("UDP options, connected send/receive, and IPv6 loopback where the host has it")
    func udpOptionsAndConnected() {
        let observed = Box<[String]>([])
        let (exit, _) = runProcess { ctx in
            let a = try ctx.udpBind(.loopback(port: 0)).expectSuccess("bind a")
            let b = try ctx.udpBind(.loopback(port: 0)).expectSuccess("bind b")
            let addressA = try ctx.resolveNext(ctx.udpLocalAddress(a).expectSuccess("local a"))!
            let addressB = try ctx.resolveNext(ctx.udpLocalAddress(b).expectSuccess("local b"))!
            try ctx.setUdpOption(a, .ttl, value: 17)
            try ctx.setUdpOption(a, .broadcast, value: 1)
            let ttl = try ctx.udpOption(a, .ttl), broadcast = try ctx.udpOption(a, .broadcast)
            _ = try ctx.udpConnect(a, to: addressB).expectSuccess("connect")
            _ = try Array("hi".utf8).withUnsafeBytes { try ctx.udpSend(a, $0) }
            var buffer = [UInt8](repeating: 0, count: 16)
            let (got, from) = try buffer.withUnsafeMutableBytes { try ctx.udpReceiveFrom(b, into: $0, timeoutMs: 2000) }
            let sender = try ctx.resolveNext(from)
            var values = ["\(ttl)", "\(broadcast)", "\(got)", "\(sender == addressA)"]
            // IPv6 loopback, if configured.
            if let v6 = SocketAddress(numericHost: "::1", port: 0), let s = try ctx.udpBind(v6).successValue {
                let local = try ctx.resolveNext(ctx.udpLocalAddress(s).expectSuccess("local v6"))!
                values.append("\(local.family) \(local.host)")
            } else {
                values.append("v6 ::1")
            }
            observed.value = values
        }
        #expect(exit == .normal)
        #expect(observed.value == ["17", "1", "success(2)", "true", "v6 ::1"])
    }

    @Test("resolve: numeric names, bracketed IPv6, localhost, and a missing port is an error")
    func resolveNames() {
        let observed = Box<[String]>([])
        let (exit, _) = runProcess { ctx in
            var values: [String] = []
            for name in ["127.0.0.1:80", "[::1]:443", "localhost:8080"] {
                let iterator = try ctx.resolve(name, timeoutMs: 5000).expectSuccess(name)
                values.append(try ctx.resolveNext(iterator)?.description ?? "none")
            }
            let missing = try ctx.resolve("localhost", timeoutMs: 5000)
            values.append("\(missing.code)")
            observed.value = values
        }
        #expect(exit == .normal)
        let values = observed.value
        #expect(values.prefix(2) == ["127.0.0.1:80", "[::1]:443"])
        #expect(values.count == 4 && (values[2] == "127.0.0.1:8080" || values[2] == "[::1]:8080"))
        #expect(values.last == "1")
    }

    @Test("unknown ids trap with lunatic's reasons and are traced as traps")
    func unknownIDsTrap() {
        let reasons = Box<[String]>([])
        let (exit, sink) = runProcess { ctx in
            reasons.value = [
                trapReason { _ = try ctx.tcpRead(9, maxCount: 1) },
                trapReason { _ = try ctx.tlsWrite(9, [1]) },
                trapReason { _ = try ctx.udpSendTo(9, [1], to: .loopback(port: 9)) },
                trapReason { _ = try ctx.resolveNext(9) },
                trapReason { _ = try ctx.tcpAccept(9) },
            ].map { $0 ?? "no trap" }
        }
        #expect(exit == .normal)
        #expect(
            reasons.value == [
                "lunatic::networking::tcp_read", "lunatic::networking::tls_write_vectored",
                "lunatic::networking::udp_send_to", "lunatic::networking::resolve_next",
                "lunatic::networking::tcp_accept",
            ])
        #expect(sink.events(.tcpRead).first?.result == .trap("lunatic::networking::tcp_read"))
    }

    @Test("TLS: a client that closes before the handshake makes tls_accept an error, not a stream")
    func tlsAcceptOfClosedConnection() throws {
        let material = try TestCertificate.shared.get()
        let observed = Box<String?>(nil)
        let (exit, _) = runProcess { ctx in
            let listener = try ctx.tlsBind(
                .loopback(port: 0), certificatePEM: material.certificatePEM,
                keyPEM: material.keyPEM
            ).expectSuccess("bind")
            let address = try ctx.resolveNext(ctx.tlsLocalAddress(listener).expectSuccess("local"))!
            // A plain TCP client that connects and goes away without a ClientHello.
            _ = try TcpStreamResource.connect(to: address, timeoutMs: 2000)
            let (accepted, peer) = try ctx.tlsAccept(listener)
            guard case .failure(let errorID) = accepted else { throw LunaTrap("accepted: \(accepted)") }
            observed.value = "\(peer) " + (ctx.errorText(errorID) ?? "no text")
        }
        #expect(exit == .normal)
        #expect(observed.value == "0 tls: tls_accept: the peer closed the connection")
    }
}
