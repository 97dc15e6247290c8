/*
 * ns_registry.c — lunatic::registry::get_or_put_later, the atomic lookup-or-register that
 * lunatic-rs 0.12's `ProcessRef::lookup_or_spawn`-style helpers use.
 *
 *   later_main()           get_or_put_later of a missing name (1: the registry is held), spawns
 *                          contender(self), which blocks in `get` until this process `put`s the
 *                          name; the contender sends back what it found; a second
 *                          get_or_put_later finds the name (0). Prints "later ok".
 *   contender(parent)      get of "svc" (waits while the registry is held), sends the pid found
 *                          to `parent` with tag 5
 *   later_then_get()       get after a get_or_put_later that found nothing (traps: deadlock)
 *   later_then_remove()    remove in the same situation (traps)
 *   hold_and_end()         get_or_put_later of a missing name, then ends without put
 *   lookup_missing()       get of a missing name; prints "free"
 */
#include "luna_guest.h"
#include "ns_imports.h"

LUNATIC_IMPORT("lunatic::registry", "get_or_put_later")
lunatic_u32 lunatic_registry_get_or_put_later(const char *name, lunatic_u32 name_len, lunatic_u64 *node_id,
                                              lunatic_u64 *process_id);

#define TAG_FOUND 5

EXPORT("contender") void contender(lunatic_i64 parent) {
    lunatic_u64 node = 9, pid = 0;
    CHECK(lunatic_registry_get("svc", 3, &node, &pid) == 0);
    CHECK(node == 0);
    luna_send_u64((lunatic_u64)parent, TAG_FOUND, pid);
}

EXPORT("later_main") void later_main(void) {
    lunatic_u64 node = 9, pid = 9;
    CHECK(lunatic_registry_get_or_put_later("svc", 3, &node, &pid) == 1);
    CHECK(node == 9 && pid == 9); /* nothing written when not found */
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, (lunatic_i64)lunatic_process_id());
    luna_spawn(0, "contender", params, sizeof params);
    lunatic_sleep_ms(150); /* the contender is now waiting in get */
    lunatic_i64 tag = TAG_FOUND;
    CHECK(lunatic_receive(&tag, 1, 0) == LUNATIC_TIMEOUT);
    lunatic_registry_put("svc", 3, 0, lunatic_process_id());
    CHECK(lunatic_receive(&tag, 1, 10000) == LUNATIC_DATA_MESSAGE);
    CHECK(luna_read_u64() == lunatic_process_id());
    CHECK(lunatic_registry_get_or_put_later("svc", 3, &node, &pid) == 0);
    CHECK(node == 0 && pid == lunatic_process_id());
    luna_print("later ok\n");
}

EXPORT("later_then_get") void later_then_get(void) {
    lunatic_u64 node = 0, pid = 0;
    CHECK(lunatic_registry_get_or_put_later("x", 1, &node, &pid) == 1);
    lunatic_registry_get("x", 1, &node, &pid);
    luna_print("unreachable\n");
}

EXPORT("later_then_remove") void later_then_remove(void) {
    lunatic_u64 node = 0, pid = 0;
    CHECK(lunatic_registry_get_or_put_later("x", 1, &node, &pid) == 1);
    lunatic_registry_remove("x", 1);
    luna_print("unreachable\n");
}

EXPORT("hold_and_end") void hold_and_end(void) {
    lunatic_u64 node = 0, pid = 0;
    CHECK(lunatic_registry_get_or_put_later("held", 4, &node, &pid) == 1);
}

EXPORT("lookup_missing") void lookup_missing(void) {
    lunatic_u64 node = 0, pid = 0;
    CHECK(lunatic_registry_get("held", 4, &node, &pid) == 1);
    luna_print("free\n");
}
