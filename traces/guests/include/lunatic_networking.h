/*
 * lunatic_networking.h — lunatic::networking as imported by Luna's guests (lunatic's ABI of
 * November 2022, SEMANTICS.md §1.1). Include after lunatic.h.
 *
 * Fallible calls return 0 (the u64 at the out-pointer is the new id or a byte count), 1 (it is
 * a lunatic::error id) or 9027 (timeout; nothing written). addr_type is 4 or 6 (anything else
 * traps); addr points at 4 or 16 address bytes. Timeouts are milliseconds, LUNATIC_FOREVER =
 * none. Unknown resource ids trap.
 */
#ifndef LUNATIC_NETWORKING_H
#define LUNATIC_NETWORKING_H

#include "lunatic.h"

#define LUNATIC_NET(name) LUNATIC_IMPORT("lunatic::networking", name)

/* ---- names ---- */
LUNATIC_NET("resolve")
lunatic_u32 lunatic_resolve(const char *name, lunatic_u32 name_len, lunatic_u64 timeout_ms, lunatic_u64 *id);
/* 0 = an address was written (addr must have room for 16 bytes), 1 = no more. */
LUNATIC_NET("resolve_next")
lunatic_u32 lunatic_resolve_next(lunatic_u64 iter_id, lunatic_u32 *addr_type, lunatic_u8 *addr,
                                 unsigned short *port, lunatic_u32 *flow_info, lunatic_u32 *scope_id);
LUNATIC_NET("drop_dns_iterator")
void lunatic_drop_dns_iterator(lunatic_u64 iter_id);

/* ---- TCP ---- */
LUNATIC_NET("tcp_bind")
lunatic_u32 lunatic_tcp_bind(lunatic_u32 addr_type, const lunatic_u8 *addr, lunatic_u32 port,
                             lunatic_u32 flow_info, lunatic_u32 scope_id, lunatic_u64 *id);
LUNATIC_NET("tcp_local_addr")
lunatic_u32 lunatic_tcp_local_addr(lunatic_u64 listener_id, lunatic_u64 *dns_iter_id);
LUNATIC_NET("tcp_accept")
lunatic_u32 lunatic_tcp_accept(lunatic_u64 listener_id, lunatic_u64 *id, lunatic_u64 *peer_dns_iter_id);
LUNATIC_NET("tcp_connect")
lunatic_u32 lunatic_tcp_connect(lunatic_u32 addr_type, const lunatic_u8 *addr, lunatic_u32 port,
                                lunatic_u32 flow_info, lunatic_u32 scope_id, lunatic_u64 timeout_ms,
                                lunatic_u64 *id);
LUNATIC_NET("tcp_read")
lunatic_u32 lunatic_tcp_read(lunatic_u64 stream_id, void *buffer, lunatic_u32 len, lunatic_u64 *opaque);
LUNATIC_NET("tcp_peek")
lunatic_u32 lunatic_tcp_peek(lunatic_u64 stream_id, void *buffer, lunatic_u32 len, lunatic_u64 *opaque);
LUNATIC_NET("tcp_write_vectored")
lunatic_u32 lunatic_tcp_write_vectored(lunatic_u64 stream_id, const lunatic_ciovec *iovs, lunatic_u32 iovs_len,
                                       lunatic_u64 *opaque);
LUNATIC_NET("tcp_flush")
lunatic_u32 lunatic_tcp_flush(lunatic_u64 stream_id, lunatic_u64 *error_id);
LUNATIC_NET("set_read_timeout")
void lunatic_set_read_timeout(lunatic_u64 stream_id, lunatic_u64 ms);
LUNATIC_NET("get_read_timeout")
lunatic_u64 lunatic_get_read_timeout(lunatic_u64 stream_id);
LUNATIC_NET("set_write_timeout")
void lunatic_set_write_timeout(lunatic_u64 stream_id, lunatic_u64 ms);
LUNATIC_NET("get_write_timeout")
lunatic_u64 lunatic_get_write_timeout(lunatic_u64 stream_id);
LUNATIC_NET("set_peek_timeout")
void lunatic_set_peek_timeout(lunatic_u64 stream_id, lunatic_u64 ms);
LUNATIC_NET("get_peek_timeout")
lunatic_u64 lunatic_get_peek_timeout(lunatic_u64 stream_id);
LUNATIC_NET("drop_tcp_stream")
void lunatic_drop_tcp_stream(lunatic_u64 stream_id);
LUNATIC_NET("drop_tcp_listener")
void lunatic_drop_tcp_listener(lunatic_u64 listener_id);
LUNATIC_NET("clone_tcp_stream")
lunatic_u64 lunatic_clone_tcp_stream(lunatic_u64 stream_id);

/* ---- UDP ---- */
LUNATIC_NET("udp_bind")
lunatic_u32 lunatic_udp_bind(lunatic_u32 addr_type, const lunatic_u8 *addr, lunatic_u32 port,
                             lunatic_u32 flow_info, lunatic_u32 scope_id, lunatic_u64 *id);
LUNATIC_NET("udp_local_addr")
lunatic_u32 lunatic_udp_local_addr(lunatic_u64 socket_id, lunatic_u64 *dns_iter_id);
LUNATIC_NET("udp_connect")
lunatic_u32 lunatic_udp_connect(lunatic_u64 socket_id, lunatic_u32 addr_type, const lunatic_u8 *addr,
                                lunatic_u32 port, lunatic_u32 flow_info, lunatic_u32 scope_id,
                                lunatic_u64 timeout_ms, lunatic_u64 *error_id);
LUNATIC_NET("udp_send_to")
lunatic_u32 lunatic_udp_send_to(lunatic_u64 socket_id, const void *buffer, lunatic_u32 len,
                                lunatic_u32 addr_type, const lunatic_u8 *addr, lunatic_u32 port,
                                lunatic_u32 flow_info, lunatic_u32 scope_id, lunatic_u64 *opaque);
LUNATIC_NET("udp_send")
lunatic_u32 lunatic_udp_send(lunatic_u64 socket_id, const void *buffer, lunatic_u32 len, lunatic_u64 *opaque);
LUNATIC_NET("udp_receive")
lunatic_u32 lunatic_udp_receive(lunatic_u64 socket_id, void *buffer, lunatic_u32 len, lunatic_u64 *opaque);
LUNATIC_NET("udp_receive_from")
lunatic_u32 lunatic_udp_receive_from(lunatic_u64 socket_id, void *buffer, lunatic_u32 len, lunatic_u64 *opaque,
                                     lunatic_u64 *sender_dns_iter_id);
LUNATIC_NET("set_udp_socket_broadcast")
void lunatic_set_udp_socket_broadcast(lunatic_u64 socket_id, lunatic_u32 on);
LUNATIC_NET("get_udp_socket_broadcast")
lunatic_u32 lunatic_get_udp_socket_broadcast(lunatic_u64 socket_id);
LUNATIC_NET("set_udp_socket_ttl")
void lunatic_set_udp_socket_ttl(lunatic_u64 socket_id, lunatic_u32 ttl);
LUNATIC_NET("get_udp_socket_ttl")
lunatic_u32 lunatic_get_udp_socket_ttl(lunatic_u64 socket_id);
LUNATIC_NET("drop_udp_socket")
void lunatic_drop_udp_socket(lunatic_u64 socket_id);
LUNATIC_NET("clone_udp_socket")
lunatic_u64 lunatic_clone_udp_socket(lunatic_u64 socket_id);

/* ---- TLS ---- */
/* certs/keys: PEM bytes. */
LUNATIC_NET("tls_bind")
lunatic_u32 lunatic_tls_bind(lunatic_u32 addr_type, const lunatic_u8 *addr, lunatic_u32 port,
                             lunatic_u32 flow_info, lunatic_u32 scope_id, lunatic_u64 *id,
                             const char *certs, lunatic_u32 certs_len, const char *keys, lunatic_u32 keys_len);
LUNATIC_NET("tls_local_addr")
lunatic_u32 lunatic_tls_local_addr(lunatic_u64 listener_id, lunatic_u64 *dns_iter_id);
LUNATIC_NET("tls_accept")
lunatic_u32 lunatic_tls_accept(lunatic_u64 listener_id, lunatic_u64 *id, lunatic_u64 *peer_dns_iter_id);
/* certs: a ciovec array of PEM root certificates; certs_len 0 = the system's roots. */
LUNATIC_NET("tls_connect")
lunatic_u32 lunatic_tls_connect(const char *host, lunatic_u32 host_len, lunatic_u32 port, lunatic_u64 timeout_ms,
                                lunatic_u64 *id, const lunatic_ciovec *certs, lunatic_u32 certs_len);
LUNATIC_NET("tls_read")
lunatic_u32 lunatic_tls_read(lunatic_u64 stream_id, void *buffer, lunatic_u32 len, lunatic_u64 *opaque);
LUNATIC_NET("tls_write_vectored")
lunatic_u32 lunatic_tls_write_vectored(lunatic_u64 stream_id, const lunatic_ciovec *iovs, lunatic_u32 iovs_len,
                                       lunatic_u64 *opaque);
LUNATIC_NET("tls_flush")
lunatic_u32 lunatic_tls_flush(lunatic_u64 stream_id, lunatic_u64 *error_id);
LUNATIC_NET("set_tls_read_timeout")
void lunatic_set_tls_read_timeout(lunatic_u64 stream_id, lunatic_u64 ms);
LUNATIC_NET("get_tls_read_timeout")
lunatic_u64 lunatic_get_tls_read_timeout(lunatic_u64 stream_id);
LUNATIC_NET("set_tls_write_timeout")
void lunatic_set_tls_write_timeout(lunatic_u64 stream_id, lunatic_u64 ms);
LUNATIC_NET("get_tls_write_timeout")
lunatic_u64 lunatic_get_tls_write_timeout(lunatic_u64 stream_id);
LUNATIC_NET("drop_tls_stream")
void lunatic_drop_tls_stream(lunatic_u64 stream_id);
LUNATIC_NET("drop_tls_listener")
void lunatic_drop_tls_listener(lunatic_u64 listener_id);
LUNATIC_NET("clone_tls_stream")
lunatic_u64 lunatic_clone_tls_stream(lunatic_u64 stream_id);

#endif /* LUNATIC_NETWORKING_H */
