/*
 * luna_guest.h — the few libc pieces Luna's test guests need (they are built with -nostdlib),
 * plus printing through WASI fd_write and a check that traps.
 *
 * Include exactly once per guest (it defines memcpy/memset/strlen, which clang may call
 * implicitly even with -fno-builtin).
 */
#ifndef LUNA_GUEST_H
#define LUNA_GUEST_H

#include "lunatic.h"

#define EXPORT(name) __attribute__((export_name(name)))

void *memcpy(void *dst, const void *src, unsigned long n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, unsigned long n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}

unsigned long strlen(const char *s) {
    unsigned long n = 0;
    while (s[n]) n++;
    return n;
}

static inline lunatic_u32 luna_strlen(const char *s) { return (lunatic_u32)strlen(s); }

/* Writes bytes to stdout (fd 1). */
static inline void luna_write(lunatic_u32 fd, const void *buf, lunatic_u32 len) {
    lunatic_ciovec iov = { buf, len };
    lunatic_u32 written = 0;
    wasi_fd_write(fd, &iov, 1, &written);
}

static inline void luna_print(const char *s) { luna_write(1, s, luna_strlen(s)); }

/* Prints an unsigned decimal number. */
static inline void luna_print_u64(lunatic_u64 v) {
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    luna_print(&buf[i]);
}

/* Prints "check failed: <what>" to stderr and traps (unreachable): the process fails. */
#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) {                                               \
            const char *msg_ = "check failed: " #cond "\n";          \
            luna_write(2, msg_, luna_strlen(msg_));                  \
            __builtin_trap();                                        \
        }                                                            \
    } while (0)

/* Writes one spawn parameter (17 bytes: type byte + 16 bytes little-endian) at p. */
static inline lunatic_u8 *luna_param_i64(lunatic_u8 *p, lunatic_i64 v) {
    p[0] = LUNATIC_PARAM_I64;
    lunatic_u64 u = (lunatic_u64)v;
    for (int i = 0; i < 16; i++) p[1 + i] = i < 8 ? (lunatic_u8)(u >> (8 * i)) : (v < 0 ? 0xFF : 0);
    return p + LUNATIC_PARAM_SIZE;
}

static inline lunatic_u8 *luna_param_i32(lunatic_u8 *p, lunatic_i32 v) {
    p[0] = LUNATIC_PARAM_I32;
    lunatic_u32 u = (lunatic_u32)v;
    for (int i = 0; i < 16; i++) p[1 + i] = i < 4 ? (lunatic_u8)(u >> (8 * i)) : (v < 0 ? 0xFF : 0);
    return p + LUNATIC_PARAM_SIZE;
}

/* Spawns `func` of the caller's own module (module_id -1, config -1); returns the child pid
   (traps if spawn reports an error). */
static inline lunatic_u64 luna_spawn(lunatic_i64 link, const char *func, const lunatic_u8 *params,
                                     lunatic_u32 params_len) {
    lunatic_u64 id = 0;
    lunatic_u32 r = lunatic_spawn(link, -1, -1, func, luna_strlen(func), params, params_len, &id);
    CHECK(r == 0);
    return id;
}

/* Creates a data message holding one u64 and sends it. */
static inline void luna_send_u64(lunatic_u64 to, lunatic_i64 tag, lunatic_u64 value) {
    lunatic_create_data(tag, 8);
    lunatic_write_data(&value, 8);
    lunatic_send(to);
}

/* Reads one u64 from the scratch message. */
static inline lunatic_u64 luna_read_u64(void) {
    lunatic_u64 v = 0;
    CHECK(lunatic_read_data(&v, 8) == 8);
    return v;
}

#endif /* LUNA_GUEST_H */
