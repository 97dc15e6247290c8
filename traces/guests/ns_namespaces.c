/*
 * ns_namespaces.c — a guest using lunatic::distributed, lunatic::registry, lunatic::timer and the
 * lunatic::wasi config calls the way lunatic-rs 0.12 programs do. Each *_main entry prints
 * "<namespace> ok" when every check held; a failed CHECK traps (the process fails).
 *
 *   echo(count)                 answers `count` messages: reads the sender pid (u64) and sends the
 *                               same 8 bytes back with the same tag through distributed::send(0, …)
 *   distributed_main()          node 0, no other nodes, module id, distributed spawn/send/skip-search
 *   distributed_remote_send()   a send addressed to node 7 (traps: distribution is off)
 *   distributed_spawn_denied()  spawns `try_distributed_spawn` with a config that may not spawn
 *   try_distributed_spawn()     distributed::spawn of echo (traps without the permission)
 *   registry_main()             put/get/remove of a named echo process, messaging it by name
 *   timer_main()                send_after to self, cancel_timer of a second timer
 *   timer_without_message()     send_after with an empty scratch area (traps)
 *   wasi_config_main()          the three config calls on a new config
 *   wasi_config_bad_id()        a config call on a config id the process does not hold (traps)
 */
#include "luna_guest.h"
#include "ns_imports.h"

#define TAG_ECHO 7

static void send_self_u64(lunatic_u64 to, lunatic_i64 tag) {
    lunatic_u64 self = lunatic_process_id();
    lunatic_create_data(tag, 8);
    lunatic_write_data(&self, 8);
    CHECK(lunatic_distributed_send(0, to) == 0);
}

EXPORT("echo") void echo(lunatic_i32 count) {
    for (lunatic_i32 i = 0; i < count; i++) {
        CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
        lunatic_i64 tag = lunatic_get_tag();
        lunatic_u64 sender = luna_read_u64();
        lunatic_create_data(tag, 8);
        lunatic_write_data(&sender, 8);
        CHECK(lunatic_distributed_send(0, sender) == 0);
    }
}

/* Spawns echo(count) on node 0 through lunatic::distributed::spawn. */
static lunatic_u64 distributed_spawn_echo(lunatic_i32 count) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i32(params, count);
    lunatic_u64 id = 0;
    const char *name = "echo";
    CHECK(lunatic_distributed_spawn(0, -1, lunatic_distributed_module_id(), name, luna_strlen(name), params,
                                    sizeof params, &id) == 0);
    return id;
}

EXPORT("distributed_main") void distributed_main(void) {
    CHECK(lunatic_distributed_node_id() == 0);
    CHECK(lunatic_distributed_nodes_count() == 0);
    lunatic_u64 nodes[4] = { 9, 9, 9, 9 };
    CHECK(lunatic_distributed_get_nodes(nodes, 4) == 0);
    CHECK(nodes[0] == 9);
    lunatic_u64 module = lunatic_distributed_module_id();
    CHECK(module != 0);
    CHECK(lunatic_distributed_module_id() == module);

    lunatic_u64 child = distributed_spawn_echo(2);
    CHECK(lunatic_exists(child) == 1);

    /* send + receive through the distributed namespace on node 0 */
    send_self_u64(child, TAG_ECHO);
    lunatic_i64 tag = TAG_ECHO;
    CHECK(lunatic_receive(&tag, 1, 5000) == LUNATIC_DATA_MESSAGE);
    CHECK(luna_read_u64() == lunatic_process_id());

    /* request/reply with skip-search */
    lunatic_u64 self = lunatic_process_id();
    lunatic_create_data(TAG_ECHO + 1, 8);
    lunatic_write_data(&self, 8);
    CHECK(lunatic_distributed_send_receive_skip_search(0, child, 5000) == 0);
    CHECK(lunatic_get_tag() == TAG_ECHO + 1);
    CHECK(luna_read_u64() == self);

    /* an unknown module id: result 1, id 0 */
    lunatic_u64 id = 77;
    CHECK(lunatic_distributed_spawn(0, -1, 999999, "echo", 4, 0, 0, &id) == 1);
    CHECK(id == 0);
    luna_print("distributed ok\n");
}

EXPORT("distributed_remote_send") void distributed_remote_send(void) {
    lunatic_create_data(1, 0);
    lunatic_distributed_send(7, lunatic_process_id());
    luna_print("unreachable\n");
}

EXPORT("try_distributed_spawn") void try_distributed_spawn(void) {
    distributed_spawn_echo(0);
    luna_print("spawned\n");
}

EXPORT("distributed_spawn_denied") void distributed_spawn_denied(void) {
    lunatic_i64 config = lunatic_create_config();
    lunatic_config_set_can_spawn_processes((lunatic_u64)config, 0);
    CHECK(lunatic_config_can_spawn_processes((lunatic_u64)config) == 0);
    lunatic_u64 child = 0;
    const char *name = "try_distributed_spawn";
    CHECK(lunatic_spawn(0, config, -1, name, luna_strlen(name), 0, 0, &child) == 0);
    luna_print_u64(child);
    luna_print("\n");
}

EXPORT("registry_main") void registry_main(void) {
    const char *name = "echo-service";
    lunatic_u64 node = 5, pid = 0;
    CHECK(lunatic_registry_get(name, luna_strlen(name), &node, &pid) == 1);
    CHECK(node == 5 && pid == 0);

    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i32(params, 1);
    lunatic_u64 child = luna_spawn(0, "echo", params, sizeof params);
    lunatic_registry_put(name, luna_strlen(name), 0, child);

    CHECK(lunatic_registry_get(name, luna_strlen(name), &node, &pid) == 0);
    CHECK(node == 0 && pid == child);
    send_self_u64(pid, TAG_ECHO);
    lunatic_i64 tag = TAG_ECHO;
    CHECK(lunatic_receive(&tag, 1, 5000) == LUNATIC_DATA_MESSAGE);

    lunatic_registry_remove(name, luna_strlen(name));
    CHECK(lunatic_registry_get(name, luna_strlen(name), &node, &pid) == 1);
    lunatic_registry_remove(name, luna_strlen(name)); /* removing a missing name is fine */
    luna_print("registry ok\n");
}

EXPORT("timer_main") void timer_main(void) {
    lunatic_u64 self = lunatic_process_id();
    lunatic_create_data(5, 0);
    lunatic_u64 first = lunatic_timer_send_after(self, 30);
    lunatic_create_data(6, 0);
    lunatic_u64 second = lunatic_timer_send_after(self, 60000);
    CHECK(second != first);
    CHECK(lunatic_timer_cancel_timer(second) == 1);
    CHECK(lunatic_timer_cancel_timer(second) == 0);
    CHECK(lunatic_timer_cancel_timer(12345) == 0);

    lunatic_i64 tag = 5;
    CHECK(lunatic_receive(&tag, 1, 0) == LUNATIC_TIMEOUT); /* not yet delivered */
    CHECK(lunatic_receive(&tag, 1, 5000) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_timer_cancel_timer(first) == 0); /* already fired */
    tag = 6;
    CHECK(lunatic_receive(&tag, 1, 100) == LUNATIC_TIMEOUT); /* cancelled: never arrives */
    luna_print("timer ok\n");
}

EXPORT("timer_without_message") void timer_without_message(void) {
    lunatic_timer_send_after(lunatic_process_id(), 1);
}

EXPORT("wasi_config_main") void wasi_config_main(void) {
    lunatic_i64 config = lunatic_create_config();
    lunatic_wasi_config_add_environment_variable((lunatic_u64)config, "GREETING", 8, "hello", 5);
    lunatic_wasi_config_add_command_line_argument((lunatic_u64)config, "--verbose", 9);
    lunatic_wasi_config_preopen_dir((lunatic_u64)config, "/tmp", 4);
    luna_print("wasi config ok\n");
}

EXPORT("wasi_config_bad_id") void wasi_config_bad_id(void) {
    lunatic_wasi_config_add_command_line_argument(4242, "x", 1);
}
