/*
 * wild.c — guests that pass wild pointers to host functions (R-MEM-1, R-RECV-9) and guests
 * whose own code traps. Every host call with a range outside memory must trap the guest with
 * the host function's name; the host keeps running.
 *
 *   wild_write(ptr, len) / wild_read(ptr, len)   write_data / read_data with that range
 *   wild_receive(ptr, len)                       receive with tag_len = len at ptr
 *   wild_spawn_name(ptr, len)                    spawn with the function name at ptr
 *   wild_compile(ptr, len)                       compile_module with the bytes at ptr
 *   wild_id_ptr(ptr)                             compile_module writing the id to ptr
 *   wild_fd_write(ptr, len)                      WASI fd_write: returns EFAULT, never traps
 *   code_unreachable / code_oob_load / code_divide_by_zero   traps in guest code
 *   hello                                        prints its arguments and "hello from <pid>"
 *   exit_with(code)                              WASI proc_exit(code)
 */
#include "luna_guest.h"

EXPORT("wild_write") void wild_write(lunatic_u32 ptr, lunatic_u32 len) {
    lunatic_create_data(0, 0);
    lunatic_write_data((const void *)ptr, len);
    luna_print("write_data returned\n");
}

EXPORT("wild_read") void wild_read(lunatic_u32 ptr, lunatic_u32 len) {
    lunatic_create_data(0, 0);
    lunatic_write_data("0123456789", 10);
    lunatic_read_data((void *)ptr, len);
    luna_print("read_data returned\n");
}

EXPORT("wild_receive") void wild_receive(lunatic_u32 ptr, lunatic_u32 len) {
    lunatic_receive((const lunatic_i64 *)ptr, len, 0);
    luna_print("receive returned\n");
}

EXPORT("wild_spawn_name") void wild_spawn_name(lunatic_u32 ptr, lunatic_u32 len) {
    lunatic_u64 id;
    lunatic_spawn(0, -1, -1, (const char *)ptr, len, 0, 0, &id);
    luna_print("spawn returned\n");
}

EXPORT("wild_compile") void wild_compile(lunatic_u32 ptr, lunatic_u32 len) {
    lunatic_u64 id;
    lunatic_compile_module((const lunatic_u8 *)ptr, len, &id);
    luna_print("compile_module returned\n");
}

EXPORT("wild_id_ptr") void wild_id_ptr(lunatic_u32 ptr) {
    lunatic_compile_module((const lunatic_u8 *)"nope", 4, (lunatic_u64 *)ptr);
    luna_print("compile_module returned\n");
}

EXPORT("wild_fd_write") void wild_fd_write(lunatic_u32 ptr, lunatic_u32 len) {
    lunatic_ciovec iov = { (const void *)ptr, len };
    lunatic_u32 written = 0;
    lunatic_u32 err = wasi_fd_write(1, &iov, 1, &written);
    luna_print(err == 21 ? "EFAULT\n" : "no error\n");
}

EXPORT("code_unreachable") void code_unreachable(void) { __builtin_trap(); }

EXPORT("code_oob_load") lunatic_i32 code_oob_load(lunatic_u32 ptr) {
    return *(volatile lunatic_i32 *)ptr;
}

EXPORT("code_divide_by_zero") lunatic_i32 code_divide_by_zero(lunatic_i32 d) {
    volatile lunatic_i32 n = 10;
    return n / d;
}

EXPORT("hello") void hello(void) {
    lunatic_u32 argc = 0, size = 0;
    CHECK(wasi_args_sizes_get(&argc, &size) == 0);
    char *argv[16];
    char buf[256];
    if (argc <= 16 && size <= sizeof buf) {
        CHECK(wasi_args_get(argv, buf) == 0);
        for (lunatic_u32 i = 0; i < argc; i++) {
            luna_print("arg ");
            luna_print(argv[i]);
            luna_print("\n");
        }
    }
    luna_print("hello from ");
    luna_print_u64(lunatic_process_id());
    luna_print("\n");
    const char *err = "to stderr\n";
    luna_write(2, err, luna_strlen(err));
}

EXPORT("exit_with") void exit_with(lunatic_i32 code) {
    wasi_proc_exit((lunatic_u32)code);
}
