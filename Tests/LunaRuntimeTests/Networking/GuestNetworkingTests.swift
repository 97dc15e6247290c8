import Foundation
import Testing
import TraceFormat

@testable import LunaRuntime

/// The `lunatic::networking` host functions, driven by real WebAssembly guests
/// (traces/guests/net_handover.c) on loopback.
@Suite("Networking host functions (WebAssembly guests)")
struct GuestNetworkingTests {
    /// `traces/guests/net_handover.wasm`, loaded once.
    static let loaded: Result<GuestModule, any Error> = Result { try TestGuests.module("net_handover") }

    static var module: GuestModule { get throws { try loaded.get() } }

    /// Exit of process `pid` of `run`.
    private func exit(_ run: GuestRun, _ pid: ProcessID) -> ProcessExit? { run.environment.exitStatus(of: pid) }

    @Test("R-RES-3, R-RES-5: a guest pushes an accepted TCP stream to a worker, which echoes; the old id traps")
    func tcpHandover() async throws {
        let run = try await runGuest(try Self.module, "tcp_listener")
        // pids: 1 listener, 2 worker, 3 client.
        #expect(run.failureReason == "lunatic::networking::tcp_read", "stderr: \(run.stderr)")
        #expect(exit(run, 2) == .normal, "stderr: \(run.stderr)")
        #expect(exit(run, 3) == .normal, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("worker: echoed"))
        #expect(run.stdout.contains("client: got echo:ping"))
        #expect(!run.stdout.contains("listener: still had the stream"))
        #expect(run.events(.pushTcpStream).map(\.pid) == [1])
        #expect(run.events(.takeTcpStream).map(\.pid) == [2])
        #expect(run.events(.tcpRead).contains { $0.pid == 2 && $0.payload == .bytes(Array("ping".utf8)) })
        #expect(run.events(.tcpWriteVectored).contains { $0.pid == 2 && $0.payload == .bytes(Array("echo:ping".utf8)) })
        #expect(run.events(.tcpRead).contains { $0.pid == 1 && $0.result == .trap("lunatic::networking::tcp_read") })
    }

    @Test("R-RES-3, R-RES-5: the same hand-over over TLS with a self-signed certificate")
    func tlsHandover() async throws {
        let material = try TestCertificate.shared.get()
        let run = try await runGuest(
            try Self.module, "tls_listener",
            arguments: [
                String(decoding: material.certificatePEM, as: UTF8.self),
                String(decoding: material.keyPEM, as: UTF8.self),
            ])
        #expect(run.failureReason == "lunatic::networking::tls_read", "stderr: \(run.stderr)")
        #expect(exit(run, 2) == .normal, "stderr: \(run.stderr)")
        #expect(exit(run, 3) == .normal, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("worker: echoed over tls"))
        #expect(run.stdout.contains("client: got tls-echo:ping"))
        #expect(run.events(.takeTlsStream).map(\.pid) == [2])
        #expect(run.events(.tlsRead).contains { $0.pid == 2 && $0.payload == .bytes(Array("ping".utf8)) })
        #expect(run.events(.tlsConnect).first?.text == "localhost")
    }

    @Test("R-RES-3, R-RES-5: a UDP socket handed to a worker answers a datagram")
    func udpHandover() async throws {
        let run = try await runGuest(try Self.module, "udp_owner")
        // pids: 1 owner, 2 worker, 3 client.
        #expect(run.failureReason == "lunatic::networking::udp_send_to", "stderr: \(run.stderr)")
        #expect(exit(run, 2) == .normal, "stderr: \(run.stderr)")
        #expect(exit(run, 3) == .normal, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("worker: answered"))
        #expect(run.stdout.contains("client: got pong:ping"))
        #expect(run.events(.udpReceiveFrom).contains { $0.pid == 2 && $0.payload == .bytes(Array("ping".utf8)) })
    }

    @Test("R-RES-6: take_udp_socket on a TCP slot traps and the stream stays in its slot")
    func wrongKindTake() async throws {
        let run = try await runGuest(try Self.module, "wrong_kind")
        #expect(run.failureReason == "lunatic::message::take_udp_socket", "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("no trap"))
        #expect(run.events(.takeUdpSocket).map(\.result) == [.trap("lunatic::message::take_udp_socket")])
        // The stream was still in slot 0 when the trap ended the process: it is dropped with
        // the message that held it.
        let dropped = run.events(.resourceDropped)
        #expect(dropped.contains { $0.args.at(0) == 0 && $0.args.at(1) == ResourceKind.tcpStream.rawValue })
    }

    @Test("R-RES-4: push_tcp_stream with an empty scratch area traps")
    func pushWithEmptyScratch() async throws {
        let run = try await runGuest(try Self.module, "empty_push")
        #expect(run.failureReason == "lunatic::message::push_tcp_stream", "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("no trap"))
        #expect(run.events(.resourceDropped).isEmpty, "the stream was in no message")
    }

    @Test("read timeout returns 9027 and writes nothing; a clone keeps the connection after the original is dropped")
    func readTimeoutAndClone() async throws {
        let run = try await runGuest(try Self.module, "read_timeout")
        #expect(run.exit == .normal, "stderr: \(run.stderr)")
        let timedOut = run.events(.tcpRead).filter { $0.result == .value(9027) }
        #expect(timedOut.count == 1)
        if let t = timedOut.first {
            #expect(t.duration >= 100_000_000 && t.duration < 2_000_000_000)
        }
    }

    @Test("R-MEM-1: addr_type other than 4 or 6, wild address, ciovec and out-pointers, and unknown stream ids trap")
    func abiTraps() async throws {
        let badType = try await runGuest(try Self.module, "bad_addr_type")
        #expect(badType.failureReason == "lunatic::networking::tcp_bind")
        let wild = try await runGuest(try Self.module, "wild_addr_pointer")
        #expect(wild.failureReason == "lunatic::networking::tcp_connect")
        let unknown = try await runGuest(try Self.module, "unknown_stream")
        #expect(unknown.failureReason == "lunatic::networking::tcp_read")
        #expect(unknown.events(.tcpRead).first?.result == .trap("lunatic::networking::tcp_read"))
        let ciovec = try await runGuest(try Self.module, "wild_ciovec")
        #expect(ciovec.failureReason == "lunatic::networking::tcp_write_vectored")
        #expect(ciovec.events(.tcpWriteVectored).map(\.result) == [.trap("lunatic::networking::tcp_write_vectored")])
        let out = try await runGuest(try Self.module, "wild_out_pointer")
        #expect(out.failureReason == "lunatic::networking::tcp_read")
    }

    @Test("resolve finds localhost; a name without a port is an error id")
    func resolveLocalhost() async throws {
        let run = try await runGuest(try Self.module, "resolve_localhost")
        #expect(run.exit == .normal, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("resolve_localhost: "))
        #expect(run.events(.resolve).map(\.result) == [.value(0), .value(1)])
    }

    @Test("every other import once: peek, UDP connect/send/receive and options, clones, drops")
    func abiTour() async throws {
        let run = try await runGuest(try Self.module, "abi_tour")
        #expect(run.exit == .normal, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("abi_tour: ok"))
        #expect(run.events(.tcpPeek).first?.payload == .bytes(Array("peek".utf8)))
        #expect(
            run.events(.udpOption).map(\.text) == [
                "set_udp_socket_ttl", "get_udp_socket_ttl",
                "set_udp_socket_broadcast", "get_udp_socket_broadcast",
            ])
    }

    @Test("TLS timeouts, clone and drop of a TLS stream and listener, vectored TLS writes")
    func tlsTour() async throws {
        let material = try TestCertificate.shared.get()
        let run = try await runGuest(
            try Self.module, "tls_tour",
            arguments: [
                String(decoding: material.certificatePEM, as: UTF8.self),
                String(decoding: material.keyPEM, as: UTF8.self),
            ])
        #expect(run.exit == .normal, "stderr: \(run.stderr)")
        #expect(exit(run, 2) == .normal, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("tls_tour: ok"))
        #expect(run.stdout.contains("client: got tls-echo:ping"))
        #expect(run.events(.tlsWriteVectored).contains { $0.pid == 1 && $0.payload == .bytes(Array("tls-echo:ping".utf8)) })
    }
}
