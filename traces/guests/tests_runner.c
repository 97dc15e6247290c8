/*
 * tests_runner.c — a module in lunatic's cargo-test convention, for `luna-trace test`.
 *
 * Exports named `#lunatic_test_…` are tests (what lunatic-rs's #[lunatic::test] generates):
 *   passes                      prints, returns                                → ok
 *   fails                       prints "output of fails", traps                → FAILED
 *   ignored_one (#ignore_)      prints "ignored ran", returns                  → ignored (ok with --ignored)
 *   panics_with_boom            Rust-style panic text with 'boom', traps      → ok (expects "boom")
 *   panics_wrong_message        panics with 'boom', expects "other"           → FAILED
 *   panics_any                  traps without output, expects any panic       → ok
 *   does_not_panic              returns, expects a panic                      → FAILED
 *   panics_with_hash            panics with 'a#b', expects "a\#b" (escaped #) → ok
 *   spawns_and_messages         spawns a child, registers it, message round trip → ok
 *   fresh_registry_a / _b       the registry starts empty in every test       → ok
 * A plain `_start` also exists (prints "main ran") so the module runs with `luna-trace run`.
 */
#include "luna_guest.h"
#include "ns_imports.h"

static void eprint(const char *s) { luna_write(2, s, luna_strlen(s)); }

static void rust_panic(const char *message) {
    eprint("thread 'main' panicked at '");
    eprint(message);
    eprint("', src/lib.rs:10:5\n");
    __builtin_trap();
}

EXPORT("_start") void start(void) { luna_print("main ran\n"); }

EXPORT("#lunatic_test_passes") void passes(void) { luna_print("hello from passes\n"); }

EXPORT("#lunatic_test_fails") void fails(void) {
    luna_print("output of fails\n");
    CHECK(1 + 1 == 3);
}

EXPORT("#lunatic_test_#ignore_ignored_one") void ignored_one(void) { luna_print("ignored ran\n"); }

EXPORT("#lunatic_test_#panic_boom#panics_with_boom") void panics_with_boom(void) { rust_panic("boom here"); }

EXPORT("#lunatic_test_#panic_other#panics_wrong_message") void panics_wrong_message(void) { rust_panic("boom"); }

EXPORT("#lunatic_test_#panic_#panics_any") void panics_any(void) { __builtin_trap(); }

EXPORT("#lunatic_test_#panic_#does_not_panic") void does_not_panic(void) { luna_print("no panic\n"); }

EXPORT("#lunatic_test_#panic_a\\#b#panics_with_hash") void panics_with_hash(void) { rust_panic("a#b"); }

EXPORT("child") void child(void) {
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
    lunatic_u64 sender = luna_read_u64();
    luna_send_u64(sender, 3, 42);
}

EXPORT("#lunatic_test_spawns_and_messages") void spawns_and_messages(void) {
    lunatic_u64 pid = luna_spawn(1, "child", 0, 0);
    lunatic_registry_put("child", 5, 0, pid);
    lunatic_u64 node = 1, found = 0;
    CHECK(lunatic_registry_get("child", 5, &node, &found) == 0 && found == pid && node == 0);
    luna_send_u64(found, 2, lunatic_process_id());
    lunatic_i64 tag = 3;
    CHECK(lunatic_receive(&tag, 1, 5000) == LUNATIC_DATA_MESSAGE);
    CHECK(luna_read_u64() == 42);
    luna_print("round trip done\n");
}

static void fresh_registry(void) {
    lunatic_u64 node = 0, pid = 0;
    CHECK(lunatic_registry_get("shared", 6, &node, &pid) == 1);
    lunatic_registry_put("shared", 6, 0, lunatic_process_id());
}

EXPORT("#lunatic_test_fresh_registry_a") void fresh_registry_a(void) { fresh_registry(); }

EXPORT("#lunatic_test_fresh_registry_b") void fresh_registry_b(void) { fresh_registry(); }
