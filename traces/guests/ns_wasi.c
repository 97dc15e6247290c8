/*
 * ns_wasi.c — a guest using WASI preview 1 the way lunatic-rs 0.12 programs do (std::env::args,
 * std::env::vars, std::fs through the preopened directories), with lunatic::wasi configs.
 *
 *   print_wasi()               prints "arg A" per argument, "env K=V" per variable and
 *                              "preopen P" per preopened directory, then "end"
 *   config_child_main()        spawns report_wasi(parent) with a new config carrying two arguments,
 *                              two variables and no preopens; prints the reply, then "config ok"
 *   inherit_child_main()       spawns report_wasi(parent) with config -1 (the spawner's own)
 *   report_wasi(parent: i64)   sends its print_wasi text to `parent` (tag 9)
 *   cat_main()                 prints the file named by argv[1], opened under the preopen "."
 *   wild_fd_write(ptr, count)  fd_write with iovec array (ptr, count); prints "errno N"
 *   wild_fd_write_buffer(ptr, len)  fd_write of one iovec naming (ptr, len); prints "errno N"
 *   wild_args_get(ptr)         args_get with the pointer array at ptr; prints "errno N"
 *   exit_after_output(code)    writes "bye" without a newline, then proc_exit(code)
 *   #lunatic_test_sees_host_environment            LUNA_TEST_VAR=42 is among the variables
 *   #lunatic_test_reads_file_in_current_directory  reads "hello\n" from ./hello.txt
 */
#include "luna_guest.h"
#include "ns_imports.h"

LUNATIC_IMPORT("wasi_snapshot_preview1", "environ_sizes_get")
lunatic_u32 wasi_environ_sizes_get(lunatic_u32 *count, lunatic_u32 *size);
LUNATIC_IMPORT("wasi_snapshot_preview1", "environ_get")
lunatic_u32 wasi_environ_get(char **environ, char *buf);
LUNATIC_IMPORT("wasi_snapshot_preview1", "fd_prestat_get")
lunatic_u32 wasi_fd_prestat_get(lunatic_u32 fd, lunatic_u32 *prestat);
LUNATIC_IMPORT("wasi_snapshot_preview1", "fd_prestat_dir_name")
lunatic_u32 wasi_fd_prestat_dir_name(lunatic_u32 fd, char *path, lunatic_u32 len);
LUNATIC_IMPORT("wasi_snapshot_preview1", "path_open")
lunatic_u32 wasi_path_open(lunatic_u32 dirfd, lunatic_u32 dirflags, const char *path, lunatic_u32 path_len,
                           lunatic_u32 oflags, lunatic_u64 rights, lunatic_u64 rights_inheriting,
                           lunatic_u32 fdflags, lunatic_u32 *fd);
LUNATIC_IMPORT("wasi_snapshot_preview1", "fd_read")
lunatic_u32 wasi_fd_read(lunatic_u32 fd, const lunatic_ciovec *iovs, lunatic_u32 iovs_len, lunatic_u32 *nread);
LUNATIC_IMPORT("wasi_snapshot_preview1", "fd_close")
lunatic_u32 wasi_fd_close(lunatic_u32 fd);

#define TAG_REPORT 9

static char text[4096];
static lunatic_u32 text_len;

static void put(const char *s) {
    lunatic_u32 n = luna_strlen(s);
    if (text_len + n > sizeof text) n = sizeof text - text_len;
    memcpy(text + text_len, s, n);
    text_len += n;
}

static void print_errno(lunatic_u32 e) {
    luna_print("errno ");
    luna_print_u64(e);
    luna_print("\n");
}

/* Collects "arg …", "env …", "preopen …" lines and "end\n" into `text`. */
static void collect_wasi(void) {
    static char *ptrs[64];
    static char buf[2048];
    lunatic_u32 count = 0, size = 0;
    text_len = 0;
    CHECK(wasi_args_sizes_get(&count, &size) == 0);
    CHECK(count <= 64 && size <= sizeof buf);
    CHECK(wasi_args_get(ptrs, buf) == 0);
    for (lunatic_u32 i = 0; i < count; i++) { put("arg "); put(ptrs[i]); put("\n"); }
    CHECK(wasi_environ_sizes_get(&count, &size) == 0);
    if (count <= 64 && size <= sizeof buf) {
        CHECK(wasi_environ_get(ptrs, buf) == 0);
        for (lunatic_u32 i = 0; i < count; i++) { put("env "); put(ptrs[i]); put("\n"); }
    } else {
        put("env (too many)\n");
    }
    for (lunatic_u32 fd = 3; fd < 16; fd++) {
        lunatic_u32 prestat[2] = { 0, 0 };
        if (wasi_fd_prestat_get(fd, prestat) != 0) break;
        char name[256];
        if (prestat[1] >= sizeof name) continue;
        CHECK(wasi_fd_prestat_dir_name(fd, name, prestat[1]) == 0);
        name[prestat[1]] = 0;
        put("preopen "); put(name); put("\n");
    }
    put("end\n");
}

EXPORT("print_wasi") void print_wasi(void) {
    collect_wasi();
    luna_write(1, text, text_len);
}

EXPORT("report_wasi") void report_wasi(lunatic_i64 parent) {
    collect_wasi();
    lunatic_create_data(TAG_REPORT, text_len);
    lunatic_write_data(text, text_len);
    lunatic_send((lunatic_u64)parent);
}

static void spawn_reporter_and_print(lunatic_i64 config) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, (lunatic_i64)lunatic_process_id());
    lunatic_u64 child = 0;
    const char *name = "report_wasi";
    CHECK(lunatic_spawn(0, config, -1, name, luna_strlen(name), params, sizeof params, &child) == 0);
    lunatic_i64 tag = TAG_REPORT;
    CHECK(lunatic_receive(&tag, 1, 10000) == LUNATIC_DATA_MESSAGE);
    static char reply[4096];
    lunatic_u32 n = (lunatic_u32)lunatic_read_data(reply, sizeof reply);
    luna_print("child says:\n");
    luna_write(1, reply, n);
}

EXPORT("config_child_main") void config_child_main(void) {
    lunatic_i64 config = lunatic_create_config();
    lunatic_wasi_config_add_command_line_argument((lunatic_u64)config, "child.wasm", 10);
    lunatic_wasi_config_add_command_line_argument((lunatic_u64)config, "--answer=42", 11);
    lunatic_wasi_config_add_environment_variable((lunatic_u64)config, "GREETING", 8, "hello", 5);
    lunatic_wasi_config_add_environment_variable((lunatic_u64)config, "EMPTY", 5, "", 0);
    spawn_reporter_and_print(config);
    luna_print("config ok\n");
}

EXPORT("inherit_child_main") void inherit_child_main(void) {
    spawn_reporter_and_print(-1);
    luna_print("inherit ok\n");
}

/* The fd of the preopened directory named `name`, or 0. */
static lunatic_u32 preopen_fd(const char *name) {
    lunatic_u32 len = luna_strlen(name);
    for (lunatic_u32 fd = 3; fd < 16; fd++) {
        lunatic_u32 prestat[2] = { 0, 0 };
        if (wasi_fd_prestat_get(fd, prestat) != 0) break;
        char found[256];
        if (prestat[1] != len || len >= sizeof found) continue;
        if (wasi_fd_prestat_dir_name(fd, found, len) != 0) continue;
        lunatic_u32 i = 0;
        while (i < len && found[i] == name[i]) i++;
        if (i == len) return fd;
    }
    return 0;
}

/* Reads file `path` under the preopen "." into `out`; returns its length, or exits 3 if it
   cannot be opened. */
static lunatic_u32 read_under_cwd(const char *path, char *out, lunatic_u32 cap) {
    lunatic_u32 dir = preopen_fd(".");
    CHECK(dir != 0);
    lunatic_u32 file = 0;
    lunatic_u32 e = wasi_path_open(dir, 0, path, luna_strlen(path), 0, 2 /* fd_read */, 0, 0, &file);
    if (e != 0) {
        luna_print("open failed: ");
        print_errno(e);
        wasi_proc_exit(3);
    }
    lunatic_ciovec iov = { out, cap };
    lunatic_u32 n = 0;
    CHECK(wasi_fd_read(file, &iov, 1, &n) == 0);
    CHECK(wasi_fd_close(file) == 0);
    return n;
}

EXPORT("cat_main") void cat_main(void) {
    static char *argv[16];
    static char buf[1024];
    lunatic_u32 argc = 0, size = 0;
    CHECK(wasi_args_sizes_get(&argc, &size) == 0);
    CHECK(argc >= 2 && argc <= 16 && size <= sizeof buf);
    CHECK(wasi_args_get(argv, buf) == 0);
    static char content[4096];
    luna_write(1, content, read_under_cwd(argv[1], content, sizeof content));
}

/* lunatic's cargo-test mode passes the host's variables and preopens "." (luna-trace test). */
EXPORT("#lunatic_test_sees_host_environment") void test_sees_host_environment(void) {
    collect_wasi();
    const char *want = "env LUNA_TEST_VAR=42\n";
    lunatic_u32 n = luna_strlen(want), found = 0;
    for (lunatic_u32 i = 0; i + n <= text_len && !found; i++) {
        lunatic_u32 j = 0;
        while (j < n && text[i + j] == want[j]) j++;
        found = j == n;
    }
    luna_write(1, text, text_len);
    CHECK(found);
}

EXPORT("#lunatic_test_reads_file_in_current_directory") void test_reads_file(void) {
    static char content[64];
    lunatic_u32 n = read_under_cwd("hello.txt", content, sizeof content);
    luna_write(1, content, n);
    CHECK(n == 6 && content[0] == 'h' && content[4] == 'o');
}

EXPORT("wild_fd_write") void wild_fd_write(lunatic_u32 ptr, lunatic_u32 count) {
    lunatic_u32 written = 0;
    print_errno(wasi_fd_write(1, (const lunatic_ciovec *)ptr, count, &written));
}

EXPORT("wild_fd_write_buffer") void wild_fd_write_buffer(lunatic_u32 ptr, lunatic_u32 len) {
    lunatic_ciovec iov[2] = { { "fine", 4 }, { (const void *)ptr, len } };
    lunatic_u32 written = 0;
    print_errno(wasi_fd_write(1, iov, 2, &written));
}

EXPORT("wild_args_get") void wild_args_get(lunatic_u32 ptr) {
    static char buf[1024];
    print_errno(wasi_args_get((char **)ptr, buf));
}

EXPORT("exit_after_output") void exit_after_output(lunatic_u32 code) {
    luna_print("bye");
    wasi_proc_exit(code);
}
