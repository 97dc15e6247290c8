/*
 * network.c — acceptors handing live connections to workers inside messages: TCP, TLS and
 * UDP over loopback (R-RES-3/5 with real resources). The client process runs its connections
 * one after another and waits for each answer, so every call and result is the same on every
 * run; only port numbers differ.
 *
 * tls_acceptor needs the PEM certificate and key as program arguments (record-all.sh passes
 * traces/corpus/tls/localhost.{crt,key}).
 */
#include "corpus.h"
#include "lunatic_networking.h"

static const lunatic_u8 LOOPBACK[4] = {127, 0, 0, 1};
#define SECONDS_5 5000
#define CONNECTIONS 2

static int bytes_equal(const void *a, const void *b, lunatic_u32 n) {
    const unsigned char *x = a, *y = b;
    for (lunatic_u32 i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

/* The port of the single address in DNS iterator `iter` (dropped after). */
static lunatic_u32 iterator_port(lunatic_u64 iter) {
    lunatic_u32 type = 0, flow = 0, scope = 0;
    lunatic_u8 addr[16];
    unsigned short port = 0;
    CHECK(lunatic_resolve_next(iter, &type, addr, &port, &flow, &scope) == 0);
    CHECK(type == 4 && bytes_equal(addr, LOOPBACK, 4));
    lunatic_drop_dns_iterator(iter);
    return port;
}

static lunatic_u32 read_exactly(lunatic_u64 stream, int tls, char *buf, lunatic_u32 want) {
    lunatic_u32 got = 0;
    while (got < want) {
        lunatic_u64 n = 0;
        lunatic_u32 r = tls ? lunatic_tls_read(stream, buf + got, want - got, &n)
                            : lunatic_tcp_read(stream, buf + got, want - got, &n);
        CHECK(r == 0);
        if (n == 0) break;
        got += (lunatic_u32)n;
    }
    return got;
}

static lunatic_u64 spawn_client(const char *entry, lunatic_u32 port) {
    lunatic_u8 params[2 * LUNATIC_PARAM_SIZE];
    luna_param_i32(luna_param_i64(params, (lunatic_i64)self()), (lunatic_i32)port);
    return luna_spawn(0, entry, params, sizeof params);
}

/* ---- program arguments (the TLS certificate and key, as PEM text) ---- */

static char arg_buffer[8192];
static char *arg_pointers[16];

static const char *argument_with_prefix(const char *prefix, lunatic_u32 *len) {
    lunatic_u32 argc = 0, size = 0;
    CHECK(wasi_args_sizes_get(&argc, &size) == 0);
    CHECK(argc <= 16 && size <= sizeof arg_buffer);
    CHECK(wasi_args_get(arg_pointers, arg_buffer) == 0);
    lunatic_u32 plen = luna_strlen(prefix);
    for (lunatic_u32 i = 0; i < argc; i++) {
        lunatic_u32 n = luna_strlen(arg_pointers[i]);
        if (n >= plen && bytes_equal(arg_pointers[i], prefix, plen)) {
            *len = n;
            return arg_pointers[i];
        }
    }
    CHECK(0 && "argument missing");
    return 0;
}

/* ---- workers: take the stream from slot 0 of a tagged message, echo one request ---- */

static void serve_one(int tls) {
    lunatic_i64 work = 30;
    CHECK(lunatic_receive(&work, 1, LUNATIC_FOREVER) == 0);
    lunatic_u64 from = luna_read_u64();
    lunatic_u64 s = tls ? lunatic_take_tls_stream(0) : lunatic_take_tcp_stream(0);
    char buf[4];
    CHECK(read_exactly(s, tls, buf, 4) == 4);
    lunatic_ciovec iov[2] = {{"echo:", 5}, {buf, 4}};
    lunatic_u64 written = 0;
    CHECK((tls ? lunatic_tls_write_vectored(s, iov, 2, &written)
               : lunatic_tcp_write_vectored(s, iov, 2, &written)) == 0);
    CHECK(written == 9);
    if (tls) lunatic_drop_tls_stream(s); else lunatic_drop_tcp_stream(s);
    luna_send_u64(from, 31, self()); /* done */
}

EXPORT("tcp_worker") void tcp_worker(void) { serve_one(0); }
EXPORT("tls_worker") void tls_worker(void) { serve_one(1); }

/* ---- clients: CONNECTIONS connections, one after another ---- */

static void client(lunatic_u64 acceptor, lunatic_u32 port, int tls) {
    for (int k = 0; k < CONNECTIONS; k++) {
        lunatic_u64 s = 0, written = 0;
        if (tls) {
            lunatic_u32 cert_len;
            const char *cert = argument_with_prefix("-----BEGIN CERTIFICATE", &cert_len);
            lunatic_ciovec roots = {cert, cert_len};
            CHECK(lunatic_tls_connect("localhost", 9, port, SECONDS_5, &s, &roots, 1) == 0);
        } else {
            CHECK(lunatic_tcp_connect(4, LOOPBACK, port, 0, 0, SECONDS_5, &s) == 0);
        }
        lunatic_ciovec iov = {"ping", 4};
        CHECK((tls ? lunatic_tls_write_vectored(s, &iov, 1, &written)
                   : lunatic_tcp_write_vectored(s, &iov, 1, &written)) == 0 && written == 4);
        char buf[9];
        CHECK(read_exactly(s, tls, buf, 9) == 9);
        CHECK(bytes_equal(buf, "echo:ping", 9));
        if (tls) lunatic_drop_tls_stream(s); else lunatic_drop_tcp_stream(s);
    }
    luna_send_u64(acceptor, 32, CONNECTIONS); /* all answered */
}

EXPORT("tcp_client") void tcp_client(lunatic_i64 acceptor, lunatic_i32 port) { client((lunatic_u64)acceptor, (lunatic_u32)port, 0); }
EXPORT("tls_client") void tls_client(lunatic_i64 acceptor, lunatic_i32 port) { client((lunatic_u64)acceptor, (lunatic_u32)port, 1); }

/* ---- acceptors ---- */

static void hand_over(lunatic_u64 stream, lunatic_u64 worker, int tls) {
    lunatic_u64 me = self();
    lunatic_create_data(30, 8);
    lunatic_write_data(&me, 8);
    CHECK((tls ? lunatic_push_tls_stream(stream) : lunatic_push_tcp_stream(stream)) == 0);
    lunatic_send(worker);
}

static void acceptor(int tls) {
    lunatic_u64 listener, iter, stream, peer;
    if (tls) {
        lunatic_u32 cert_len, key_len;
        const char *cert = argument_with_prefix("-----BEGIN CERTIFICATE", &cert_len);
        const char *key = argument_with_prefix("-----BEGIN PRIVATE KEY", &key_len);
        CHECK(lunatic_tls_bind(4, LOOPBACK, 0, 0, 0, &listener, cert, cert_len, key, key_len) == 0);
        CHECK(lunatic_tls_local_addr(listener, &iter) == 0);
    } else {
        CHECK(lunatic_tcp_bind(4, LOOPBACK, 0, 0, 0, &listener) == 0);
        CHECK(lunatic_tcp_local_addr(listener, &iter) == 0);
    }
    lunatic_u32 port = iterator_port(iter);
    lunatic_u64 workers[CONNECTIONS];
    for (int k = 0; k < CONNECTIONS; k++) workers[k] = luna_spawn(0, tls ? "tls_worker" : "tcp_worker", 0, 0);
    spawn_client(tls ? "tls_client" : "tcp_client", port);
    for (int k = 0; k < CONNECTIONS; k++) {
        CHECK((tls ? lunatic_tls_accept(listener, &stream, &peer)
                   : lunatic_tcp_accept(listener, &stream, &peer)) == 0);
        lunatic_drop_dns_iterator(peer);
        hand_over(stream, workers[k], tls);
        CHECK(receive_tag_u64(31) == workers[k]); /* the worker answered */
    }
    CHECK(receive_tag_u64(32) == CONNECTIONS);
    if (tls) lunatic_drop_tls_listener(listener); else lunatic_drop_tcp_listener(listener);
}

/* A TCP acceptor hands each accepted stream to a worker in a message (slot 0, tag 30). */
EXPORT("tcp_acceptor") void tcp_acceptor(void) { acceptor(0); }

/* The same over TLS. */
EXPORT("tls_acceptor") void tls_acceptor(void) { acceptor(1); }

/* ---- UDP ---- */

EXPORT("udp_worker") void udp_worker(void) {
    lunatic_i64 work = 30;
    CHECK(lunatic_receive(&work, 1, LUNATIC_FOREVER) == 0);
    lunatic_u64 from = luna_read_u64();
    lunatic_u64 s = lunatic_take_udp_socket(0);
    char buf[5 + 64] = {'p', 'o', 'n', 'g', ':'};
    lunatic_u64 n = 0, sender = 0, sent = 0;
    CHECK(lunatic_udp_receive_from(s, buf + 5, 64, &n, &sender) == 0);
    lunatic_u32 type = 0, flow = 0, scope = 0;
    lunatic_u8 addr[16];
    unsigned short port = 0;
    CHECK(lunatic_resolve_next(sender, &type, addr, &port, &flow, &scope) == 0);
    lunatic_drop_dns_iterator(sender);
    CHECK(lunatic_udp_send_to(s, buf, 5 + (lunatic_u32)n, type, addr, port, flow, scope, &sent) == 0);
    CHECK(sent == 5 + n);
    lunatic_drop_udp_socket(s);
    luna_send_u64(from, 31, self());
}

EXPORT("udp_client") void udp_client(lunatic_i64 owner, lunatic_i32 port) {
    lunatic_i64 go = 33;
    CHECK(lunatic_receive(&go, 1, LUNATIC_FOREVER) == 0); /* the worker holds the socket */
    lunatic_u64 c, n = 0, sender = 0;
    CHECK(lunatic_udp_bind(4, LOOPBACK, 0, 0, 0, &c) == 0);
    CHECK(lunatic_udp_send_to(c, "ping", 4, 4, LOOPBACK, (lunatic_u32)port, 0, 0, &n) == 0 && n == 4);
    char buf[64];
    CHECK(lunatic_udp_receive_from(c, buf, sizeof buf, &n, &sender) == 0);
    CHECK(n == 9 && bytes_equal(buf, "pong:ping", 9));
    CHECK(iterator_port(sender) == (lunatic_u32)port);
    lunatic_drop_udp_socket(c);
    luna_send_u64((lunatic_u64)owner, 32, 1);
}

/* A bound UDP socket moves to a worker in a message; the worker answers a client's datagram. */
EXPORT("udp_handover") void udp_handover(void) {
    lunatic_u64 socket, iter;
    CHECK(lunatic_udp_bind(4, LOOPBACK, 0, 0, 0, &socket) == 0);
    CHECK(lunatic_udp_local_addr(socket, &iter) == 0);
    lunatic_u32 port = iterator_port(iter);
    lunatic_u64 worker = luna_spawn(0, "udp_worker", 0, 0);
    lunatic_u64 client_pid = spawn_client("udp_client", port);
    lunatic_u64 me = self();
    lunatic_create_data(30, 8);
    lunatic_write_data(&me, 8);
    CHECK(lunatic_push_udp_socket(socket) == 0);
    lunatic_send(worker);
    luna_send_u64(client_pid, 33, 0);
    CHECK(receive_tag_u64(32) == 1);
    CHECK(receive_tag_u64(31) == worker);
}
