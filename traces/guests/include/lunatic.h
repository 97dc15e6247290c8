/*
 * lunatic.h — the lunatic host API as imported by Luna's WebAssembly guests.
 *
 * Every import has the exact name and WebAssembly type of lunatic (November 2022), see
 * SEMANTICS.md §1: ids and tags are i64, pointers and lengths i32. Compile with
 *   clang --target=wasm32 -nostdlib -Wl,--no-entry -Wl,--allow-undefined -Wl,--export-dynamic -O2
 * (traces/guests/build.sh does that for every guest).
 *
 * No libc: the types below are the wasm32 C ABI's own.
 */
#ifndef LUNATIC_H
#define LUNATIC_H

typedef signed char lunatic_i8;
typedef unsigned char lunatic_u8;
typedef int lunatic_i32;
typedef unsigned int lunatic_u32;
typedef long long lunatic_i64;
typedef unsigned long long lunatic_u64;

#define LUNATIC_IMPORT(module, name) \
    __attribute__((import_module(module), import_name(name)))

/* Result of receive / send_receive_skip_search when the timeout elapsed. */
#define LUNATIC_TIMEOUT 9027
/* Timeout value meaning "wait forever" (u64::MAX). */
#define LUNATIC_FOREVER ((lunatic_u64)-1)
/* receive results */
#define LUNATIC_DATA_MESSAGE 0
#define LUNATIC_LINK_DIED 1

/* ---- lunatic::message ------------------------------------------------------------------ */

LUNATIC_IMPORT("lunatic::message", "create_data")
void lunatic_create_data(lunatic_i64 tag, lunatic_u64 buffer_capacity);
LUNATIC_IMPORT("lunatic::message", "write_data")
lunatic_u32 lunatic_write_data(const void *data, lunatic_u32 data_len);
LUNATIC_IMPORT("lunatic::message", "read_data")
lunatic_u32 lunatic_read_data(void *data, lunatic_u32 data_len);
LUNATIC_IMPORT("lunatic::message", "seek_data")
void lunatic_seek_data(lunatic_u64 index);
LUNATIC_IMPORT("lunatic::message", "get_tag")
lunatic_i64 lunatic_get_tag(void);
LUNATIC_IMPORT("lunatic::message", "data_size")
lunatic_u64 lunatic_data_size(void);
LUNATIC_IMPORT("lunatic::message", "push_module")
lunatic_u64 lunatic_push_module(lunatic_u64 module_id);
LUNATIC_IMPORT("lunatic::message", "take_module")
lunatic_u64 lunatic_take_module(lunatic_u64 index);
LUNATIC_IMPORT("lunatic::message", "push_tcp_stream")
lunatic_u64 lunatic_push_tcp_stream(lunatic_u64 stream_id);
LUNATIC_IMPORT("lunatic::message", "take_tcp_stream")
lunatic_u64 lunatic_take_tcp_stream(lunatic_u64 index);
LUNATIC_IMPORT("lunatic::message", "push_tls_stream")
lunatic_u64 lunatic_push_tls_stream(lunatic_u64 stream_id);
LUNATIC_IMPORT("lunatic::message", "take_tls_stream")
lunatic_u64 lunatic_take_tls_stream(lunatic_u64 index);
LUNATIC_IMPORT("lunatic::message", "push_udp_socket")
lunatic_u64 lunatic_push_udp_socket(lunatic_u64 socket_id);
LUNATIC_IMPORT("lunatic::message", "take_udp_socket")
lunatic_u64 lunatic_take_udp_socket(lunatic_u64 index);
LUNATIC_IMPORT("lunatic::message", "send")
lunatic_u32 lunatic_send(lunatic_u64 process_id);
LUNATIC_IMPORT("lunatic::message", "send_receive_skip_search")
lunatic_u32 lunatic_send_receive_skip_search(lunatic_u64 process_id, lunatic_u64 timeout_ms);
/* tags: tag_len little-endian i64 tags; tag_len 0 = any message. */
LUNATIC_IMPORT("lunatic::message", "receive")
lunatic_u32 lunatic_receive(const lunatic_i64 *tags, lunatic_u32 tag_len, lunatic_u64 timeout_ms);

/* ---- lunatic::process ------------------------------------------------------------------ */

/* Spawn params: LUNATIC_PARAM_SIZE bytes each — one type byte, then 16 bytes little-endian. */
#define LUNATIC_PARAM_SIZE 17
#define LUNATIC_PARAM_I32 0x7F
#define LUNATIC_PARAM_I64 0x7E
#define LUNATIC_PARAM_V128 0x7B

/* 0 = spawned (child pid at id), 1 = error (error id at id). module_id/config_id -1 = the
   caller's own module / config. */
LUNATIC_IMPORT("lunatic::process", "spawn")
lunatic_u32 lunatic_spawn(lunatic_i64 link, lunatic_i64 config_id, lunatic_i64 module_id,
                          const char *func, lunatic_u32 func_len,
                          const lunatic_u8 *params, lunatic_u32 params_len, lunatic_u64 *id);
LUNATIC_IMPORT("lunatic::process", "compile_module")
lunatic_i32 lunatic_compile_module(const lunatic_u8 *data, lunatic_u32 data_len, lunatic_u64 *id);
LUNATIC_IMPORT("lunatic::process", "drop_module")
void lunatic_drop_module(lunatic_u64 module_id);
LUNATIC_IMPORT("lunatic::process", "create_config")
lunatic_i64 lunatic_create_config(void);
LUNATIC_IMPORT("lunatic::process", "drop_config")
void lunatic_drop_config(lunatic_u64 config_id);
LUNATIC_IMPORT("lunatic::process", "sleep_ms")
void lunatic_sleep_ms(lunatic_u64 ms);
LUNATIC_IMPORT("lunatic::process", "die_when_link_dies")
void lunatic_die_when_link_dies(lunatic_u32 trap);
LUNATIC_IMPORT("lunatic::process", "process_id")
lunatic_u64 lunatic_process_id(void);
LUNATIC_IMPORT("lunatic::process", "environment_id")
lunatic_u64 lunatic_environment_id(void);
LUNATIC_IMPORT("lunatic::process", "link")
void lunatic_link(lunatic_i64 tag, lunatic_u64 process_id);
LUNATIC_IMPORT("lunatic::process", "unlink")
void lunatic_unlink(lunatic_u64 process_id);
LUNATIC_IMPORT("lunatic::process", "kill")
void lunatic_kill(lunatic_u64 process_id);
LUNATIC_IMPORT("lunatic::process", "exists")
lunatic_i32 lunatic_exists(lunatic_u64 process_id);

/* ---- lunatic::error -------------------------------------------------------------------- */

LUNATIC_IMPORT("lunatic::error", "string_size")
lunatic_u32 lunatic_error_string_size(lunatic_u64 error_id);
LUNATIC_IMPORT("lunatic::error", "to_string")
void lunatic_error_to_string(lunatic_u64 error_id, char *str);
LUNATIC_IMPORT("lunatic::error", "drop")
void lunatic_error_drop(lunatic_u64 error_id);

/* ---- lunatic::version ------------------------------------------------------------------ */

LUNATIC_IMPORT("lunatic::version", "major")
lunatic_u32 lunatic_version_major(void);
LUNATIC_IMPORT("lunatic::version", "minor")
lunatic_u32 lunatic_version_minor(void);
LUNATIC_IMPORT("lunatic::version", "patch")
lunatic_u32 lunatic_version_patch(void);

/* ---- wasi_snapshot_preview1 (the part Luna provides) ----------------------------------- */

typedef struct { const void *buf; lunatic_u32 buf_len; } lunatic_ciovec;

LUNATIC_IMPORT("wasi_snapshot_preview1", "fd_write")
lunatic_u32 wasi_fd_write(lunatic_u32 fd, const lunatic_ciovec *iovs, lunatic_u32 iovs_len,
                          lunatic_u32 *nwritten);
LUNATIC_IMPORT("wasi_snapshot_preview1", "proc_exit")
__attribute__((noreturn)) void wasi_proc_exit(lunatic_u32 code);
LUNATIC_IMPORT("wasi_snapshot_preview1", "args_sizes_get")
lunatic_u32 wasi_args_sizes_get(lunatic_u32 *argc, lunatic_u32 *argv_buf_size);
LUNATIC_IMPORT("wasi_snapshot_preview1", "args_get")
lunatic_u32 wasi_args_get(char **argv, char *argv_buf);
LUNATIC_IMPORT("wasi_snapshot_preview1", "clock_time_get")
lunatic_u32 wasi_clock_time_get(lunatic_u32 clock_id, lunatic_u64 precision, lunatic_u64 *time);
LUNATIC_IMPORT("wasi_snapshot_preview1", "random_get")
lunatic_u32 wasi_random_get(lunatic_u8 *buf, lunatic_u32 buf_len);

#endif /* LUNATIC_H */
