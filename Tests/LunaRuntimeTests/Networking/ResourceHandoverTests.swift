import Foundation
import LunaSupport
import Testing
import TraceFormat

@testable import LunaRuntime

/// Live TCP, TLS and UDP resources moving between processes inside messages, through the
/// Swift API of `ProcessContext` (loopback only, bounded timeouts, ports from binding port 0).
@Suite("Networking resources move between processes (Swift API)")
struct ResourceHandoverTests {
    /// What the processes of one hand-over scenario observed.
    struct Observed: Sendable {
        var echoed: [UInt8]? = nil
        var slot: UInt64? = nil
        var idStillInTable = true
        var readAfterPush: String? = nil
        var failure: String? = nil
    }

    @Test("R-RES-3, R-RES-5: an accepted TCP stream is pushed to a worker, which echoes over it")
    func tcpStreamMovesToWorker() throws {
        let sink = NetworkEventCollector()
        let env = Environment(trace: sink)
        let seen = Box(Observed())

        let worker = env.spawnThread(entry: "worker") { ctx in
            guard try ctx.receiveBlocking(timeoutMs: 5000) == 0 else { throw LunaTrap("worker: no message") }
            let stream = try ctx.take(.tcpStream, index: 0)
            try ctx.setTcpTimeout(stream, .read, ms: 5000)
            let (read, bytes) = try ctx.tcpRead(stream, maxCount: 64)
            guard read.successValue != nil else { throw LunaTrap("worker read: \(read)") }
            _ = try ctx.tcpWrite(stream, bytes)
        }
        env.spawnThread(entry: "listener") { ctx in
            guard let listener = try ctx.tcpBind(.loopback(port: 0)).successValue,
                let iterator = try ctx.tcpLocalAddress(listener).successValue,
                let port = try ctx.resolveNext(iterator)?.port
            else { throw LunaTrap("listener: bind failed") }
            ctx.environment.spawnThread(entry: "client") { client in
                guard let s = try client.tcpConnect(.loopback(port: port), timeoutMs: 2000).successValue else {
                    throw LunaTrap("client: connect failed")
                }
                _ = try client.tcpWrite(s, Array("ping over tcp".utf8))
                try client.setTcpTimeout(s, .read, ms: 5000)
                let (_, bytes) = try client.tcpRead(s, maxCount: 64)
                seen.update { $0.echoed = bytes }
            }
            let (accepted, _) = try ctx.tcpAccept(listener)
            guard let stream = accepted.successValue else { throw LunaTrap("accept: \(accepted)") }
            ctx.createData(tag: 7, capacity: 0)
            let slot = try ctx.push(.tcpStream, id: stream)
            let stillThere = ctx.resource(.tcpStream, id: stream) != nil
            let reason = trapReason { _ = try ctx.tcpRead(stream, maxCount: 1) }
            seen.update {
                $0.slot = slot; $0.idStillInTable = stillThere; $0.readAfterPush = reason
            }
            _ = try ctx.send(to: worker)
        }

        #expect(env.waitUntilAllExited(timeout: 10))
        let observed = seen.value
        #expect(observed.echoed == Array("ping over tcp".utf8))
        #expect(observed.slot == 0)
        #expect(!observed.idStillInTable)
        #expect(observed.readAfterPush == "lunatic::networking::tcp_read")
        // The worker's read is traced with its payload, in the worker's process.
        let reads = sink.events(.tcpRead).filter { $0.result == .value(0) }
        #expect(reads.contains { $0.pid == worker && $0.payload == .bytes(Array("ping over tcp".utf8)) })
        #expect(sink.events(.tcpRead).contains { $0.result == .trap("lunatic::networking::tcp_read") })
        #expect(sink.events(.pushTcpStream).count == 1 && sink.events(.takeTcpStream).count == 1)
    }

    @Test("R-RES-3, R-RES-5: an accepted TLS stream is pushed to a worker, which echoes over it")
    func tlsStreamMovesToWorker() throws {
        let material = try TestCertificate.shared.get()
        let sink = NetworkEventCollector()
        let env = Environment(trace: sink)
        let seen = Box(Observed())

        let worker = env.spawnThread(entry: "worker") { ctx in
            guard try ctx.receiveBlocking(timeoutMs: 5000) == 0 else { throw LunaTrap("worker: no message") }
            let stream = try ctx.take(.tlsStream, index: 0)
            try ctx.setTlsTimeout(stream, .read, ms: 5000)
            let (read, bytes) = try ctx.tlsRead(stream, maxCount: 64)
            guard read.successValue != nil else { throw LunaTrap("worker read: \(read)") }
            _ = try ctx.tlsWrite(stream, bytes)
            _ = try ctx.tlsFlush(stream)
        }
        env.spawnThread(entry: "listener") { ctx in
            let bound = try ctx.tlsBind(.loopback(port: 0), certificatePEM: material.certificatePEM, keyPEM: material.keyPEM)
            guard let listener = bound.successValue,
                let iterator = try ctx.tlsLocalAddress(listener).successValue,
                let port = try ctx.resolveNext(iterator)?.port
            else { throw LunaTrap("listener: bind failed: \(bound)") }
            ctx.environment.spawnThread(entry: "client") { client in
                let connected = try client.tlsConnect(
                    host: "localhost", port: port,
                    rootCertificatePEMs: [material.certificatePEM], timeoutMs: 5000)
                guard let s = connected.successValue else {
                    seen.update { $0.failure = "connect: \(connected) \(client.errorText(connected.value) ?? "")" }
                    return
                }
                _ = try client.tlsWrite(s, Array("ping over tls".utf8))
                try client.setTlsTimeout(s, .read, ms: 5000)
                let (_, bytes) = try client.tlsRead(s, maxCount: 64)
                seen.update { $0.echoed = bytes }
            }
            let (accepted, _) = try ctx.tlsAccept(listener)
            guard let stream = accepted.successValue else { throw LunaTrap("accept: \(accepted)") }
            ctx.createData(tag: 0, capacity: 0)
            let slot = try ctx.push(.tlsStream, id: stream)
            let stillThere = ctx.resource(.tlsStream, id: stream) != nil
            let reason = trapReason { _ = try ctx.tlsWrite(stream, [1]) }
            seen.update {
                $0.slot = slot; $0.idStillInTable = stillThere; $0.readAfterPush = reason
            }
            _ = try ctx.send(to: worker)
        }

        #expect(env.waitUntilAllExited(timeout: 10))
        let observed = seen.value
        #expect(observed.failure == nil)
        #expect(observed.echoed == Array("ping over tls".utf8))
        #expect(observed.slot == 0)
        #expect(!observed.idStillInTable)
        #expect(observed.readAfterPush == "lunatic::networking::tls_write_vectored")
        #expect(sink.events(.tlsRead).contains { $0.pid == worker && $0.payload == .bytes(Array("ping over tls".utf8)) })
    }

    @Test("R-RES-3, R-RES-5: a UDP socket handed to a worker answers a datagram")
    func udpSocketMovesToWorker() throws {
        let env = Environment(trace: NetworkEventCollector())
        let seen = Box(Observed())
        let serverPort = Box<UInt16?>(nil)

        let worker = env.spawnThread(entry: "worker") { ctx in
            guard try ctx.receiveBlocking(timeoutMs: 5000) == 0 else { throw LunaTrap("worker: no message") }
            let socket = try ctx.take(.udpSocket, index: 0)
            var buffer = [UInt8](repeating: 0, count: 64)
            let (received, senderIterator) = try buffer.withUnsafeMutableBytes {
                try ctx.udpReceiveFrom(socket, into: $0, timeoutMs: 5000)
            }
            guard let n = received.successValue, let sender = try ctx.resolveNext(senderIterator) else {
                throw LunaTrap("worker receive: \(received)")
            }
            _ = try ctx.udpSendTo(socket, Array("answer to ".utf8) + buffer.prefix(Int(n)), to: sender)
        }
        env.spawnThread(entry: "owner") { ctx in
            guard let socket = try ctx.udpBind(.loopback(port: 0)).successValue,
                let port = try ctx.resolveNext(ctx.udpLocalAddress(socket).successValue ?? .max)?.port
            else { throw LunaTrap("owner: bind failed") }
            ctx.createData(tag: 1, capacity: 0)
            let slot = try ctx.push(.udpSocket, id: socket)
            let reason = trapReason { _ = try ctx.udpSendTo(socket, [1], to: .loopback(port: port)) }
            seen.update {
                $0.slot = slot; $0.idStillInTable = ctx.resource(.udpSocket, id: socket) != nil
                $0.readAfterPush = reason
            }
            _ = try ctx.send(to: worker)
            serverPort.value = port
        }
        guard let port = waitForValue(serverPort) else {
            Issue.record("the owner never bound its socket")
            return
        }
        let client = try UdpSocketResource(binding: .loopback(port: 0))
        _ = try Array("ping".utf8).withUnsafeBytes { try client.send($0, to: .loopback(port: port)) }
        var reply = [UInt8](repeating: 0, count: 64)
        let (n, from) = try reply.withUnsafeMutableBytes { try client.receiveFrom(into: $0, timeoutMs: 5000) }

        #expect(Array(reply.prefix(n)) == Array("answer to ping".utf8))
        #expect(from.port == port)
        #expect(env.waitUntilAllExited(timeout: 10))
        #expect(seen.value.slot == 0)
        #expect(!seen.value.idStillInTable)
        #expect(seen.value.readAfterPush == "lunatic::networking::udp_send_to")
    }

    @Test("R-RES-6: take_udp_socket on a TCP slot traps and the stream stays takeable")
    func wrongKindTakeLeavesStream() throws {
        let env = Environment()
        let outcome = Box<[String]>([])
        let server = try TcpListenerResource(binding: .loopback(port: 0))
        env.spawnThread(entry: "self-sender") { ctx in
            guard let s = try ctx.tcpConnect(server.localAddress, timeoutMs: 2000).successValue else {
                throw LunaTrap("connect failed")
            }
            ctx.createData(tag: 0, capacity: 0)
            _ = try ctx.push(.tcpStream, id: s)
            _ = try ctx.send(to: ctx.id)
            guard try ctx.receiveBlocking(timeoutMs: 2000) == 0 else { throw LunaTrap("no message") }
            let wrong = trapReason { _ = try ctx.take(.udpSocket, index: 0) }
            let wrongTLS = trapReason { _ = try ctx.take(.tlsStream, index: 0) }
            let taken = try ctx.take(.tcpStream, index: 0)
            let written = try ctx.tcpWrite(taken, Array("still alive".utf8))
            let again = trapReason { _ = try ctx.take(.tcpStream, index: 0) }
            outcome.value = [wrong ?? "no trap", wrongTLS ?? "no trap", "\(written)", again ?? "no trap"]
        }
        let (peer, _) = try server.accept(timeoutMs: 5000)
        peer.timeouts.set(.read, 5000)
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = try buffer.withUnsafeMutableBytes { try peer.read(into: $0) }
        #expect(env.waitUntilAllExited(timeout: 10))
        #expect(
            outcome.value == [
                "lunatic::message::take_udp_socket", "lunatic::message::take_tls_stream",
                "success(11)", "lunatic::message::take_tcp_stream",
            ])
        #expect(Array(buffer.prefix(n)) == Array("still alive".utf8))
    }

    @Test("R-RES-4: push_tcp_stream with an empty scratch area traps and loses the stream")
    func pushWithoutMessageLosesStream() throws {
        let env = Environment()
        let outcome = Box<(String?, Bool)>((nil, true))
        let server = try TcpListenerResource(binding: .loopback(port: 0))
        let pusher = env.spawnThread(entry: "pusher") { ctx in
            guard let s = try ctx.tcpConnect(server.localAddress, timeoutMs: 2000).successValue else {
                throw LunaTrap("connect failed")
            }
            let reason = trapReason { _ = try ctx.push(.tcpStream, id: s) }
            outcome.value = (reason, ctx.resource(.tcpStream, id: s) != nil)
            // Stay alive: the stream must be gone because the push lost it, not because we ended.
            try ctx.sleepBlocking(ms: 1000)
        }
        let (peer, _) = try server.accept(timeoutMs: 5000)
        peer.timeouts.set(.read, 800)
        var buffer = [UInt8](repeating: 0, count: 8)
        let n = try buffer.withUnsafeMutableBytes { try peer.read(into: $0) }
        #expect(n == 0, "the lost stream is closed")
        #expect(env.exitStatus(of: pusher) == nil, "… while its process still runs")
        #expect(env.waitUntilAllExited(timeout: 10))
        #expect(outcome.value.0 == "lunatic::message::push_tcp_stream")
        #expect(outcome.value.1 == false)
    }

    @Test("R-PROC-8: a process killed while blocked in tcp_accept ends as killed, promptly")
    func killWhileAccepting() async throws {
        // Promptness is judged on the runtime's own clock (kill event → exit event), not on
        // when this test task gets to run again: under a loaded parallel test run the latter
        // says more about the test pool than about the runtime.
        let trace = TraceCollector()
        let env = Environment(trace: trace)
        let blocked = env.spawnThread(entry: "acceptor") { ctx in
            guard let listener = try ctx.tcpBind(.loopback(port: 0)).successValue else { throw LunaTrap("bind failed") }
            _ = try ctx.tcpAccept(listener)  // nobody connects
            throw LunaTrap("accept returned")
        }
        env.spawn(entry: "killer") { ctx in
            try await ctx.sleep(ms: 100)
            try ctx.kill(blocked)
        }
        let exit = await env.waitForExit(of: blocked, timeout: 30)
        #expect(exit == .killed)
        let events = trace.events
        let killedAt = try #require(events.first { $0.kind == .kill && $0.args.at(0) == Int64(blocked) }).start
        let endedAt = try #require(events.first { $0.kind == .exit && $0.pid == blocked }).start
        #expect(endedAt >= killedAt)
        // Loose: unkilled, the accept waits forever; a loaded machine may take seconds.
        #expect(endedAt - killedAt < 20_000_000_000, "ended \(Double(endedAt - killedAt) / 1e9) s after the kill")
    }

    @Test("R-PROC-7: a stream left in a process's table closes when the process ends")
    func processEndClosesStreams() throws {
        let env = Environment()
        let server = try TcpListenerResource(binding: .loopback(port: 0))
        let pid = env.spawnThread(entry: "holder") { ctx in
            _ = try ctx.tcpConnect(server.localAddress, timeoutMs: 2000).expectSuccess("connect")
            try ctx.sleepBlocking(ms: 100)
        }
        let (peer, _) = try server.accept(timeoutMs: 5000)
        // The end of the holder closes the stream (end of file) long before the read's own
        // timeout; the margin is for a loaded machine, where the 100-ms sleep and the exit
        // may take seconds.
        peer.timeouts.set(.read, 30_000)
        var buffer = [UInt8](repeating: 0, count: 8)
        let started = MonotonicClock.now()
        let n = try buffer.withUnsafeMutableBytes { try peer.read(into: $0) }
        #expect(n == 0)
        #expect(Double(MonotonicClock.now() - started) / 1e9 < 25)
        #expect(env.waitForExitBlocking(of: pid, timeout: 5) == .normal)
    }
}
