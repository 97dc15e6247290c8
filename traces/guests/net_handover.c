/*
 * net_handover.c — guests that move live TCP, TLS and UDP resources between processes
 * (R-RES-3/4/5/6) over loopback, with lunatic::networking's ABI of November 2022.
 *
 * Entries (all spawn their helpers with link 0, so one process's trap ends only itself):
 *   tcp_listener  accept a connection, push the stream to tcp_worker, then touch the old id
 *                 (traps: the id left with the message)
 *   tls_listener  the same over TLS; argv holds the PEM certificate and key
 *   udp_owner     hand a bound UDP socket to udp_worker, which answers udp_client's datagram
 *   wrong_kind    take_udp_socket on a slot holding a TCP stream (traps; the stream stays)
 *   empty_push    push_tcp_stream with an empty scratch area (traps; the stream is lost)
 *   read_timeout  a read with a 100 ms timeout on a silent stream returns 9027
 *   bad_addr_type, wild_addr_pointer, unknown_stream, wild_ciovec, wild_out_pointer
 *                 traps of the ABI checks
 *   resolve_localhost   resolve("localhost:8080") and print what it yields
 *   abi_tour, tls_tour  every remaining import once (peek, UDP connect/send/receive and
 *                 options, clones and drops, TLS timeouts), so each import's type is checked
 */
#include "luna_guest.h"
#include "lunatic_networking.h"

static const lunatic_u8 LOOPBACK[4] = {127, 0, 0, 1};
#define SECONDS_5 5000

static int bytes_equal(const void *a, const void *b, lunatic_u32 n) {
    const unsigned char *x = a, *y = b;
    for (lunatic_u32 i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

/* The port of the single address in DNS iterator `iter`. */
static lunatic_u32 iterator_port(lunatic_u64 iter) {
    lunatic_u32 type = 0, flow = 0, scope = 0;
    lunatic_u8 addr[16];
    unsigned short port = 0;
    CHECK(lunatic_resolve_next(iter, &type, addr, &port, &flow, &scope) == 0);
    CHECK(type == 4 && bytes_equal(addr, LOOPBACK, 4));
    lunatic_drop_dns_iterator(iter);
    return port;
}

static lunatic_u64 spawn_with_port(const char *entry, lunatic_u32 port) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i32(params, (lunatic_i32)port);
    return luna_spawn(0, entry, params, sizeof params);
}

/* ---- program arguments (the TLS certificate and key, as PEM text) ---- */

static char arg_buffer[8192];
static char *arg_pointers[16];

/* The argument starting with `prefix` (its length in *len), or traps. */
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

/* Reads until `want` bytes arrived (or the stream ends); returns the count. */
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

/* ---- TCP ---- */

EXPORT("tcp_listener")
void tcp_listener(void) {
    lunatic_u64 listener, iter, stream, peer;
    CHECK(lunatic_tcp_bind(4, LOOPBACK, 0, 0, 0, &listener) == 0);
    CHECK(lunatic_tcp_local_addr(listener, &iter) == 0);
    lunatic_u32 port = iterator_port(iter);
    lunatic_u64 worker = luna_spawn(0, "tcp_worker", 0, 0);
    spawn_with_port("tcp_client", port);
    CHECK(lunatic_tcp_accept(listener, &stream, &peer) == 0);
    CHECK(iterator_port(peer) != 0);
    lunatic_create_data(42, 0);
    CHECK(lunatic_push_tcp_stream(stream) == 0);
    lunatic_send(worker);
    luna_print("listener: stream sent\n");
    /* The stream moved with the message: its id is gone here (R-RES-3), so this traps. */
    char b;
    lunatic_u64 n;
    lunatic_tcp_read(stream, &b, 1, &n);
    luna_print("listener: still had the stream\n");
}

EXPORT("tcp_worker")
void tcp_worker(void) {
    CHECK(lunatic_receive(0, 0, SECONDS_5) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 42);
    lunatic_u64 s = lunatic_take_tcp_stream(0);
    lunatic_set_read_timeout(s, SECONDS_5);
    CHECK(lunatic_get_read_timeout(s) == SECONDS_5);
    char buf[4];
    CHECK(read_exactly(s, 0, buf, 4) == 4);
    lunatic_ciovec iov[2] = {{"echo:", 5}, {buf, 4}};
    lunatic_u64 written = 0, error = 1;
    CHECK(lunatic_tcp_write_vectored(s, iov, 2, &written) == 0);
    CHECK(written == 9);
    CHECK(lunatic_tcp_flush(s, &error) == 0 && error == 0);
    luna_print("worker: echoed\n");
}

EXPORT("tcp_client")
void tcp_client(lunatic_i32 port) {
    lunatic_u64 s, written;
    CHECK(lunatic_tcp_connect(4, LOOPBACK, (lunatic_u32)port, 0, 0, SECONDS_5, &s) == 0);
    lunatic_ciovec iov = {"ping", 4};
    CHECK(lunatic_tcp_write_vectored(s, &iov, 1, &written) == 0 && written == 4);
    lunatic_set_read_timeout(s, SECONDS_5);
    char buf[9];
    CHECK(read_exactly(s, 0, buf, 9) == 9);
    CHECK(bytes_equal(buf, "echo:ping", 9));
    luna_print("client: got echo:ping\n");
}

/* ---- TLS ---- */

EXPORT("tls_listener")
void tls_listener(void) {
    lunatic_u32 cert_len, key_len;
    const char *cert = argument_with_prefix("-----BEGIN CERTIFICATE", &cert_len);
    const char *key = argument_with_prefix("-----BEGIN PRIVATE KEY", &key_len);
    lunatic_u64 listener, iter, stream, peer;
    CHECK(lunatic_tls_bind(4, LOOPBACK, 0, 0, 0, &listener, cert, cert_len, key, key_len) == 0);
    CHECK(lunatic_tls_local_addr(listener, &iter) == 0);
    lunatic_u32 port = iterator_port(iter);
    lunatic_u64 worker = luna_spawn(0, "tls_worker", 0, 0);
    spawn_with_port("tls_client", port);
    CHECK(lunatic_tls_accept(listener, &stream, &peer) == 0);
    lunatic_create_data(43, 0);
    CHECK(lunatic_push_tls_stream(stream) == 0);
    lunatic_send(worker);
    luna_print("listener: tls stream sent\n");
    char b;
    lunatic_u64 n;
    lunatic_tls_read(stream, &b, 1, &n); /* traps: the id moved with the message */
    luna_print("listener: still had the tls stream\n");
}

EXPORT("tls_worker")
void tls_worker(void) {
    CHECK(lunatic_receive(0, 0, SECONDS_5) == LUNATIC_DATA_MESSAGE);
    lunatic_u64 s = lunatic_take_tls_stream(0);
    lunatic_set_tls_read_timeout(s, SECONDS_5);
    CHECK(lunatic_get_tls_read_timeout(s) == SECONDS_5);
    char buf[4];
    CHECK(read_exactly(s, 1, buf, 4) == 4);
    lunatic_ciovec iov[2] = {{"tls-echo:", 9}, {buf, 4}};
    lunatic_u64 written = 0, error = 1;
    CHECK(lunatic_tls_write_vectored(s, iov, 2, &written) == 0 && written == 13);
    CHECK(lunatic_tls_flush(s, &error) == 0 && error == 0);
    luna_print("worker: echoed over tls\n");
}

EXPORT("tls_client")
void tls_client(lunatic_i32 port) {
    lunatic_u32 cert_len;
    const char *cert = argument_with_prefix("-----BEGIN CERTIFICATE", &cert_len);
    lunatic_ciovec roots = {cert, cert_len};
    lunatic_u64 s, written;
    lunatic_u32 r = lunatic_tls_connect("localhost", 9, (lunatic_u32)port, SECONDS_5, &s, &roots, 1);
    if (r == 1) {
        char text[512];
        lunatic_u32 size = lunatic_error_string_size(s);
        if (size < sizeof text) {
            lunatic_error_to_string(s, text);
            luna_write(2, text, size);
            luna_print("\n");
        }
    }
    CHECK(r == 0);
    lunatic_ciovec iov = {"ping", 4};
    CHECK(lunatic_tls_write_vectored(s, &iov, 1, &written) == 0 && written == 4);
    lunatic_set_tls_read_timeout(s, SECONDS_5);
    char buf[13];
    CHECK(read_exactly(s, 1, buf, 13) == 13);
    CHECK(bytes_equal(buf, "tls-echo:ping", 13));
    luna_print("client: got tls-echo:ping\n");
}

/* ---- UDP ---- */

EXPORT("udp_owner")
void udp_owner(void) {
    lunatic_u64 socket, iter, n;
    CHECK(lunatic_udp_bind(4, LOOPBACK, 0, 0, 0, &socket) == 0);
    CHECK(lunatic_udp_local_addr(socket, &iter) == 0);
    lunatic_u32 port = iterator_port(iter);
    lunatic_u64 worker = luna_spawn(0, "udp_worker", 0, 0);
    lunatic_create_data(44, 0);
    CHECK(lunatic_push_udp_socket(socket) == 0);
    lunatic_send(worker);
    spawn_with_port("udp_client", port);
    luna_print("owner: socket sent\n");
    lunatic_udp_send_to(socket, "x", 1, 4, LOOPBACK, port, 0, 0, &n); /* traps: the socket moved */
    luna_print("owner: still had the socket\n");
}

EXPORT("udp_worker")
void udp_worker(void) {
    CHECK(lunatic_receive(0, 0, SECONDS_5) == LUNATIC_DATA_MESSAGE);
    lunatic_u64 s = lunatic_take_udp_socket(0);
    char buf[5 + 64] = {'p', 'o', 'n', 'g', ':'};
    lunatic_u64 n = 0, sender = 0, sent = 0;
    CHECK(lunatic_udp_receive_from(s, buf + 5, 64, &n, &sender) == 0);
    lunatic_u32 type = 0, flow = 0, scope = 0;
    lunatic_u8 addr[16];
    unsigned short port = 0;
    CHECK(lunatic_resolve_next(sender, &type, addr, &port, &flow, &scope) == 0);
    CHECK(lunatic_udp_send_to(s, buf, 5 + (lunatic_u32)n, type, addr, port, flow, scope, &sent) == 0);
    CHECK(sent == 5 + n);
    luna_print("worker: answered\n");
}

EXPORT("udp_client")
void udp_client(lunatic_i32 port) {
    lunatic_u64 c, n = 0, sender = 0;
    CHECK(lunatic_udp_bind(4, LOOPBACK, 0, 0, 0, &c) == 0);
    CHECK(lunatic_udp_send_to(c, "ping", 4, 4, LOOPBACK, (lunatic_u32)port, 0, 0, &n) == 0 && n == 4);
    char buf[64];
    CHECK(lunatic_udp_receive_from(c, buf, sizeof buf, &n, &sender) == 0);
    CHECK(n == 9 && bytes_equal(buf, "pong:ping", 9));
    CHECK(iterator_port(sender) == (lunatic_u32)port);
    luna_print("client: got pong:ping\n");
}

/* ---- rule checks ---- */

/* A connected pair on loopback: *client from tcp_connect, *server from tcp_accept. */
static void loopback_pair(lunatic_u64 *client, lunatic_u64 *server) {
    lunatic_u64 listener, iter, peer;
    CHECK(lunatic_tcp_bind(4, LOOPBACK, 0, 0, 0, &listener) == 0);
    CHECK(lunatic_tcp_local_addr(listener, &iter) == 0);
    lunatic_u32 port = iterator_port(iter);
    CHECK(lunatic_tcp_connect(4, LOOPBACK, port, 0, 0, SECONDS_5, client) == 0);
    CHECK(lunatic_tcp_accept(listener, server, &peer) == 0);
}

EXPORT("wrong_kind")
void wrong_kind(void) {
    lunatic_u64 client, server;
    loopback_pair(&client, &server);
    lunatic_create_data(45, 0);
    CHECK(lunatic_push_tcp_stream(client) == 0);
    lunatic_send(lunatic_process_id());
    CHECK(lunatic_receive(0, 0, SECONDS_5) == LUNATIC_DATA_MESSAGE);
    luna_print("wrong_kind: taking a udp socket from a tcp slot\n");
    lunatic_take_udp_socket(0); /* traps; the stream stays in slot 0 (R-RES-6) */
    luna_print("wrong_kind: no trap\n");
}

EXPORT("empty_push")
void empty_push(void) {
    lunatic_u64 client, server;
    loopback_pair(&client, &server);
    luna_print("empty_push: pushing without a message\n");
    lunatic_push_tcp_stream(client); /* traps and loses the stream (R-RES-4) */
    luna_print("empty_push: no trap\n");
}

EXPORT("read_timeout")
void read_timeout(void) {
    lunatic_u64 client, server, n = 7;
    loopback_pair(&client, &server);
    lunatic_set_read_timeout(server, 100);
    char buf[8];
    CHECK(lunatic_tcp_read(server, buf, sizeof buf, &n) == LUNATIC_TIMEOUT);
    CHECK(n == 7); /* nothing written on a timeout */
    lunatic_set_read_timeout(server, LUNATIC_FOREVER);
    CHECK(lunatic_get_read_timeout(server) == LUNATIC_FOREVER);
    lunatic_u64 clone = lunatic_clone_tcp_stream(client);
    lunatic_drop_tcp_stream(client); /* the clone keeps the connection open */
    lunatic_ciovec iov = {"late", 4};
    CHECK(lunatic_tcp_write_vectored(clone, &iov, 1, &n) == 0 && n == 4);
    CHECK(read_exactly(server, 0, buf, 4) == 4 && bytes_equal(buf, "late", 4));
    luna_print("read_timeout: 9027, then data through the clone\n");
}

EXPORT("bad_addr_type")
void bad_addr_type(void) {
    lunatic_u64 id;
    lunatic_tcp_bind(5, LOOPBACK, 0, 0, 0, &id);
}

EXPORT("wild_addr_pointer")
void wild_addr_pointer(void) {
    lunatic_u64 id;
    lunatic_tcp_connect(4, (const lunatic_u8 *)0xFFFFFFFE, 80, 0, 0, 100, &id);
}

EXPORT("wild_ciovec")
void wild_ciovec(void) {
    lunatic_u64 client, server, n;
    loopback_pair(&client, &server);
    lunatic_ciovec iov[2] = {{"fine", 4}, {(const void *)0xFFFFFF00, 512}};
    lunatic_tcp_write_vectored(client, iov, 2, &n); /* the second buffer leaves memory: trap */
}

EXPORT("wild_out_pointer")
void wild_out_pointer(void) {
    lunatic_u64 client, server;
    loopback_pair(&client, &server);
    char buf[4];
    lunatic_tcp_read(server, buf, sizeof buf, (lunatic_u64 *)0xFFFFFFFC); /* 8 bytes do not fit */
}

EXPORT("unknown_stream")
void unknown_stream(void) {
    char buf[4];
    lunatic_u64 n;
    lunatic_tcp_read(12345, buf, sizeof buf, &n);
}

EXPORT("resolve_localhost")
void resolve_localhost(void) {
    lunatic_u64 iter;
    CHECK(lunatic_resolve("localhost:8080", 14, SECONDS_5, &iter) == 0);
    lunatic_u32 type = 0, flow = 0, scope = 0, count = 0;
    lunatic_u8 addr[16];
    unsigned short port = 0;
    while (lunatic_resolve_next(iter, &type, addr, &port, &flow, &scope) == 0) {
        CHECK(port == 8080 && (type == 4 || type == 6));
        count++;
    }
    CHECK(count > 0);
    lunatic_drop_dns_iterator(iter);
    lunatic_u64 error;
    CHECK(lunatic_resolve("no port here", 12, SECONDS_5, &error) == 1);
    CHECK(lunatic_error_string_size(error) > 0);
    luna_print("resolve_localhost: ");
    luna_print_u64(count);
    luna_print(" addresses\n");
}

/* ---- every remaining import once ---- */

EXPORT("abi_tour")
void abi_tour(void) {
    lunatic_u64 client, server, n = 0, error = 0;
    loopback_pair(&client, &server);
    lunatic_set_write_timeout(client, 1000);
    CHECK(lunatic_get_write_timeout(client) == 1000);
    lunatic_set_peek_timeout(server, 1000);
    CHECK(lunatic_get_peek_timeout(server) == 1000);
    lunatic_ciovec iov = {"peekaboo", 8};
    CHECK(lunatic_tcp_write_vectored(client, &iov, 1, &n) == 0 && n == 8);
    char buf[8];
    CHECK(lunatic_tcp_peek(server, buf, 4, &n) == 0 && n == 4 && bytes_equal(buf, "peek", 4));
    CHECK(read_exactly(server, 0, buf, 8) == 8 && bytes_equal(buf, "peekaboo", 8));
    lunatic_drop_tcp_stream(client);
    lunatic_drop_tcp_stream(server);

    lunatic_u64 a, b, iter, clone;
    CHECK(lunatic_udp_bind(4, LOOPBACK, 0, 0, 0, &a) == 0);
    CHECK(lunatic_udp_bind(4, LOOPBACK, 0, 0, 0, &b) == 0);
    CHECK(lunatic_udp_local_addr(b, &iter) == 0);
    lunatic_u32 port_b = iterator_port(iter);
    CHECK(lunatic_udp_local_addr(a, &iter) == 0);
    lunatic_u32 port_a = iterator_port(iter);
    lunatic_set_udp_socket_ttl(a, 9);
    CHECK(lunatic_get_udp_socket_ttl(a) == 9);
    lunatic_set_udp_socket_broadcast(a, 1);
    CHECK(lunatic_get_udp_socket_broadcast(a) == 1);
    error = 7;
    CHECK(lunatic_udp_connect(a, 4, LOOPBACK, port_b, 0, 0, SECONDS_5, &error) == 0 && error == 0);
    CHECK(lunatic_udp_connect(b, 4, LOOPBACK, port_a, 0, 0, SECONDS_5, &error) == 0);
    clone = lunatic_clone_udp_socket(a);
    lunatic_drop_udp_socket(a);
    CHECK(lunatic_udp_send(clone, "dgram", 5, &n) == 0 && n == 5);
    CHECK(lunatic_udp_receive(b, buf, sizeof buf, &n) == 0 && n == 5 && bytes_equal(buf, "dgram", 5));
    lunatic_drop_udp_socket(clone);
    lunatic_drop_udp_socket(b);

    lunatic_u64 listener;
    CHECK(lunatic_tcp_bind(4, LOOPBACK, 0, 0, 0, &listener) == 0);
    lunatic_drop_tcp_listener(listener);
    luna_print("abi_tour: ok\n");
}

EXPORT("tls_tour")
void tls_tour(void) {
    lunatic_u32 cert_len, key_len;
    const char *cert = argument_with_prefix("-----BEGIN CERTIFICATE", &cert_len);
    const char *key = argument_with_prefix("-----BEGIN PRIVATE KEY", &key_len);
    lunatic_u64 listener, iter, stream, peer, n = 0;
    CHECK(lunatic_tls_bind(4, LOOPBACK, 0, 0, 0, &listener, cert, cert_len, key, key_len) == 0);
    CHECK(lunatic_tls_local_addr(listener, &iter) == 0);
    spawn_with_port("tls_client", iterator_port(iter));
    CHECK(lunatic_tls_accept(listener, &stream, &peer) == 0);
    lunatic_drop_tls_listener(listener);
    lunatic_set_tls_write_timeout(stream, 2000);
    CHECK(lunatic_get_tls_write_timeout(stream) == 2000);
    lunatic_u64 clone = lunatic_clone_tls_stream(stream);
    lunatic_drop_tls_stream(stream);
    lunatic_set_tls_read_timeout(clone, SECONDS_5);
    char buf[4];
    CHECK(read_exactly(clone, 1, buf, 4) == 4 && bytes_equal(buf, "ping", 4));
    lunatic_ciovec iov[3] = {{"tls-", 4}, {"echo:", 5}, {buf, 4}};
    CHECK(lunatic_tls_write_vectored(clone, iov, 3, &n) == 0 && n == 13);
    luna_print("tls_tour: ok\n");
    lunatic_sleep_ms(200); /* let the client read before the stream closes */
    lunatic_drop_tls_stream(clone);
}
