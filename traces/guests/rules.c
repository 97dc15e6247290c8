/*
 * rules.c — one exported entry per rule of SEMANTICS.md §2–§6 (names follow the rule ids:
 * msg_3 is R-MSG-3). An entry returns normally when the rule held; a CHECK that fails traps
 * (unreachable) after printing "check failed: …" to stderr. Entries named *_traps are meant to
 * trap in a host call: the test checks the trap reason.
 */
#include "luna_guest.h"
#include "embedded/child_wasm.h"

#define MISSING_PID 1000000
#define LINK_TAG 21

static const lunatic_u8 empty_module[8] = { 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00 };

static lunatic_u64 compile_empty(void) {
    lunatic_u64 id = 0;
    CHECK(lunatic_compile_module(empty_module, sizeof empty_module, &id) == 0);
    return id;
}

static lunatic_u64 self(void) { return lunatic_process_id(); }

/* Receives any message (forever) and returns the u64 it starts with. */
static lunatic_u64 receive_u64(void) {
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
    return luna_read_u64();
}

static lunatic_u64 receive_tag_u64(lunatic_i64 tag) {
    CHECK(lunatic_receive(&tag, 1, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
    return luna_read_u64();
}

/* ---- helpers spawned by the entries below ------------------------------------------------ */

EXPORT("idle") void idle(void) {}

EXPORT("trapper") void trapper(void) {
    lunatic_sleep_ms(20);
    __builtin_trap();
}

EXPORT("block_forever") void block_forever(void) {
    lunatic_receive(0, 0, LUNATIC_FOREVER);
    luna_print("returned from receive\n");
}

/* ---- §2 messages -------------------------------------------------------------------------- */

EXPORT("msg_1") void msg_1(void) {
    luna_send_u64(self(), 0, 5);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    lunatic_die_when_link_dies(0);
    lunatic_link(9, MISSING_PID);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == 9);
}

EXPORT("msg_2") void msg_2(void) {
    lunatic_create_data(0, 0);
    CHECK(lunatic_get_tag() == 0);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 0);
    lunatic_create_data(7, 0);
    CHECK(lunatic_get_tag() == 7);
}

EXPORT("msg_3") void msg_3(void) {
    lunatic_create_data(1, 0);
    CHECK(lunatic_write_data("abc", 3) == 3);
    CHECK(lunatic_push_module(compile_empty()) == 0);
    lunatic_create_data(2, 0);
    CHECK(lunatic_data_size() == 0);
    CHECK(lunatic_get_tag() == 2);
    CHECK(lunatic_push_module(compile_empty()) == 0); /* the old slot list went with the message */
}

EXPORT("msg_4") void msg_4(void) {
    char buf[100];
    memset(buf, 'x', sizeof buf);
    lunatic_create_data(0, 1);
    CHECK(lunatic_write_data(buf, 100) == 100);
    CHECK(lunatic_data_size() == 100);
}

EXPORT("msg_5") void msg_5(void) {
    char out[5];
    lunatic_create_data(0, 0);
    CHECK(lunatic_write_data("abc", 3) == 3);
    lunatic_seek_data(1);
    CHECK(lunatic_write_data("de", 2) == 2);
    CHECK(lunatic_data_size() == 5);
    lunatic_seek_data(0);
    CHECK(lunatic_read_data(out, 5) == 5);
    CHECK(out[0] == 'a' && out[1] == 'b' && out[2] == 'c' && out[3] == 'd' && out[4] == 'e');
}

EXPORT("msg_6") void msg_6(void) {
    char out[10];
    lunatic_create_data(0, 0);
    lunatic_write_data("hello", 5);
    CHECK(lunatic_read_data(out, 3) == 3);
    CHECK(out[0] == 'h' && out[2] == 'l');
    CHECK(lunatic_read_data(out, 10) == 2);
    CHECK(out[0] == 'l' && out[1] == 'o');
    CHECK(lunatic_read_data(out, 4) == 0);
}

EXPORT("msg_7") void msg_7(void) {
    char out[4];
    lunatic_create_data(0, 0);
    lunatic_write_data("abcd", 4);
    lunatic_seek_data(100); /* no trap by itself */
    CHECK(lunatic_data_size() == 4);
    lunatic_seek_data(4);
    CHECK(lunatic_read_data(out, 4) == 0); /* position == size */
}

EXPORT("msg_7_read_past_end_traps") void msg_7_read_past_end_traps(void) {
    char out[4];
    lunatic_create_data(0, 0);
    lunatic_write_data("abcd", 4);
    lunatic_seek_data(5);
    lunatic_read_data(out, 4);
    luna_print("read past the end returned\n");
}

EXPORT("msg_8") void msg_8(void) {
    char out[4];
    lunatic_create_data(0, 1000);
    CHECK(lunatic_data_size() == 0);
    lunatic_write_data("0123456789", 10);
    lunatic_read_data(out, 4);
    CHECK(lunatic_data_size() == 10);
}

/* Runs message operation `op` on whatever is in the scratch area (R-MSG-9/10). */
static void message_op(lunatic_i32 op) {
    char buf[4] = { 0 };
    switch (op) {
    case 0: lunatic_write_data(buf, 4); break;
    case 1: lunatic_read_data(buf, 4); break;
    case 2: lunatic_seek_data(0); break;
    case 3: lunatic_get_tag(); break;
    case 4: lunatic_data_size(); break;
    case 5: lunatic_push_module(compile_empty()); break;
    case 6: lunatic_take_module(0); break;
    case 7: lunatic_push_tcp_stream(0); break;
    case 8: lunatic_take_tcp_stream(0); break;
    case 9: lunatic_push_tls_stream(0); break;
    case 10: lunatic_take_tls_stream(0); break;
    case 11: lunatic_push_udp_socket(0); break;
    case 12: lunatic_take_udp_socket(0); break;
    default: break;
    }
}

/* R-MSG-9: operation `op` with an empty scratch area traps. */
EXPORT("msg_9_traps") void msg_9_traps(lunatic_i32 op) {
    message_op(op);
    luna_print("operation returned\n");
}

/* R-MSG-10: with a LinkDied message in the scratch area, get_tag (op 3) returns the link tag;
   every other operation traps. */
EXPORT("msg_10") void msg_10(lunatic_i32 op) {
    lunatic_die_when_link_dies(0);
    lunatic_link(77, MISSING_PID);
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    if (op == 3) {
        CHECK(lunatic_get_tag() == 77);
        return;
    }
    message_op(op);
    luna_print("operation returned\n");
}

/* ---- §3 resources ------------------------------------------------------------------------- */

EXPORT("res_1") void res_1(void) {
    CHECK(compile_empty() == 0);
    CHECK(compile_empty() == 1);
    lunatic_drop_module(0);
    CHECK(compile_empty() == 2); /* never reused */
    CHECK(lunatic_create_config() == 0); /* a table per kind */
    CHECK(lunatic_create_config() == 1);
}

EXPORT("res_2") void res_2(void) {
    lunatic_u64 m = compile_empty();
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_module(m) == 0);
    CHECK(lunatic_push_module(m) == 1);
    CHECK(lunatic_push_module(m) == 2);
}

EXPORT("res_3") void res_3(void) {
    lunatic_u64 m = compile_empty();
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_module(m) == 0);
    CHECK(lunatic_push_module(m) == 1); /* still in the table: modules are shared */
    lunatic_send(self());
    lunatic_drop_module(m); /* still there after the send */
}

EXPORT("res_4_traps") void res_4_traps(void) {
    lunatic_create_data(0, 0);
    lunatic_push_module(12345);
    luna_print("push returned\n");
}

EXPORT("res_5") void res_5(void) {
    lunatic_u64 a = compile_empty(), b = compile_empty();
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_module(a) == 0);
    CHECK(lunatic_push_module(b) == 1);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_take_module(1) == 2); /* slot 1 first: the other index stays valid */
    CHECK(lunatic_take_module(0) == 3);
    lunatic_drop_module(2);
    lunatic_drop_module(3);
}

/* op 0: index out of range; 1: taken twice; 2: wrong kind (a module slot taken as TCP). */
EXPORT("res_6_traps") void res_6_traps(lunatic_i32 op) {
    lunatic_create_data(0, 0);
    lunatic_push_module(compile_empty());
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    if (op == 0) lunatic_take_module(5);
    if (op == 1) { lunatic_take_module(0); lunatic_take_module(0); }
    if (op == 2) lunatic_take_tcp_stream(0);
    luna_print("take returned\n");
}

EXPORT("res_7") void res_7(void) {
    lunatic_create_data(0, 0);
    lunatic_push_module(compile_empty());
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    lunatic_create_data(0, 0); /* the received message and its untaken module are dropped */
}

/* ---- §4 sending --------------------------------------------------------------------------- */

EXPORT("send_1") void send_1(void) {
    luna_send_u64(self(), 3, 1234);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 3);
    CHECK(luna_read_u64() == 1234);
}

EXPORT("send_1_empties_scratch_traps") void send_1_empties_scratch_traps(void) {
    lunatic_create_data(3, 0);
    CHECK(lunatic_send(self()) == 0);
    lunatic_get_tag(); /* the scratch area is empty now */
    luna_print("get_tag returned\n");
}

EXPORT("send_2") void send_2(void) {
    lunatic_create_data(0, 0);
    CHECK(lunatic_send(MISSING_PID) == 0);
    CHECK(lunatic_exists(MISSING_PID) == 0);
}

EXPORT("send_3_traps") void send_3_traps(void) {
    lunatic_send(self());
    luna_print("send returned\n");
}

EXPORT("send_4_sender") void send_4_sender(lunatic_i64 to, lunatic_i32 count) {
    for (lunatic_i32 i = 0; i < count; i++) luna_send_u64((lunatic_u64)to, 0, (lunatic_u64)i);
}

EXPORT("send_4") void send_4(lunatic_i32 count) {
    lunatic_u8 params[2 * LUNATIC_PARAM_SIZE];
    luna_param_i32(luna_param_i64(params, (lunatic_i64)self()), count);
    luna_spawn(0, "send_4_sender", params, sizeof params);
    for (lunatic_i32 i = 0; i < count; i++) CHECK(receive_u64() == (lunatic_u64)i);
}

EXPORT("send_5") void send_5(void) {
    luna_send_u64(self(), 0, 55);
    CHECK(receive_u64() == 55);
}

/* ---- §5 receiving ------------------------------------------------------------------------- */

EXPORT("recv_1") void recv_1(void) {
    for (lunatic_u64 i = 1; i <= 3; i++) luna_send_u64(self(), 0, i);
    for (lunatic_u64 i = 1; i <= 3; i++) CHECK(receive_u64() == i);
}

EXPORT("recv_2") void recv_2(void) {
    lunatic_i64 set[2] = { 3, 2 };
    luna_send_u64(self(), 1, 10);
    luna_send_u64(self(), 2, 20);
    luna_send_u64(self(), 3, 30);
    CHECK(lunatic_receive(set, 2, 0) == 0);
    CHECK(luna_read_u64() == 20); /* first in queue order, not in set order */
    CHECK(lunatic_receive(set, 2, 0) == 0);
    CHECK(luna_read_u64() == 30);
    CHECK(lunatic_receive(set, 2, 0) == LUNATIC_TIMEOUT);
    CHECK(receive_u64() == 10); /* the skipped message stayed */
}

EXPORT("recv_3") void recv_3(void) {
    lunatic_i64 zero = 0;
    luna_send_u64(self(), 0, 1);
    CHECK(lunatic_receive(&zero, 1, 0) == LUNATIC_TIMEOUT);
    CHECK(receive_u64() == 1);
}

EXPORT("recv_4_child") void recv_4_child(lunatic_i64 parent) {
    lunatic_sleep_ms(20);
    luna_send_u64((lunatic_u64)parent, 1, 1);
    lunatic_sleep_ms(20);
    luna_send_u64((lunatic_u64)parent, 2, 2);
}

EXPORT("recv_4") void recv_4(void) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, (lunatic_i64)self());
    luna_spawn(0, "recv_4_child", params, sizeof params);
    CHECK(receive_tag_u64(2) == 2); /* waits past the non-matching tag-1 message */
    lunatic_i64 one = 1;
    CHECK(lunatic_receive(&one, 1, 0) == 0); /* which was queued meanwhile */
    CHECK(luna_read_u64() == 1);
}

static lunatic_u64 monotonic_ms(void) {
    lunatic_u64 t = 0;
    CHECK(wasi_clock_time_get(1, 1, &t) == 0);
    return t / 1000000;
}

EXPORT("recv_5") void recv_5(void) {
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_TIMEOUT); /* try-receive on an empty mailbox */
    luna_send_u64(self(), 0, 8);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE); /* already queued */
    lunatic_u64 start = monotonic_ms();
    CHECK(lunatic_receive(0, 0, 50) == LUNATIC_TIMEOUT);
    lunatic_u64 waited = monotonic_ms() - start;
    CHECK(waited >= 50 && waited < 2000);
}

EXPORT("recv_6") void recv_6(void) {
    lunatic_create_data(42, 0);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_TIMEOUT);
    CHECK(lunatic_get_tag() == 42); /* left as it was */
    luna_send_u64(self(), 5, 0);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 5); /* replaced */
}

/* Replies to each message with the same tag and the value 2; stops on tag 99. */
EXPORT("echo") void echo(void) {
    for (;;) {
        CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
        lunatic_i64 tag = lunatic_get_tag();
        if (tag == 99) return;
        lunatic_u64 sender = luna_read_u64();
        luna_send_u64(sender, tag, 2);
    }
}

EXPORT("recv_7") void recv_7(void) {
    lunatic_u64 echo_pid = luna_spawn(0, "echo", 0, 0);
    luna_send_u64(self(), 5, 1); /* an older tag-5 message already queued */
    lunatic_u64 me = self();
    lunatic_create_data(5, 8);
    lunatic_write_data(&me, 8);
    CHECK(lunatic_send_receive_skip_search(echo_pid, LUNATIC_FOREVER) == 0);
    CHECK(luna_read_u64() == 2); /* the reply, not the queued message */
    lunatic_i64 five = 5;
    CHECK(lunatic_receive(&five, 1, 0) == 0);
    CHECK(luna_read_u64() == 1); /* still queued */
    lunatic_create_data(99, 0);
    lunatic_send(echo_pid);
}

EXPORT("recv_8") void recv_8(void) {
    lunatic_die_when_link_dies(0);
    luna_spawn(33, "trapper", 0, 0);
    lunatic_create_data(0, 0); /* untagged: the next message of any kind is the reply */
    CHECK(lunatic_send_receive_skip_search(MISSING_PID, LUNATIC_FOREVER) == 0); /* not 1 */
    CHECK(lunatic_get_tag() == 33); /* the LinkDied message */
}

EXPORT("recv_8_timeout_traps") void recv_8_timeout_traps(void) {
    lunatic_create_data(4, 0);
    CHECK(lunatic_send_receive_skip_search(MISSING_PID, 10) == LUNATIC_TIMEOUT);
    lunatic_get_tag(); /* the request was sent: the scratch area is empty */
    luna_print("get_tag returned\n");
}

/* ---- §6 processes, links and deaths ------------------------------------------------------- */

EXPORT("proc_1") void proc_1(void) {
    lunatic_u64 me = self();
    CHECK(me >= 1);
    lunatic_u64 a = luna_spawn(0, "idle", 0, 0);
    lunatic_u64 b = luna_spawn(0, "idle", 0, 0);
    CHECK(a > me && b == a + 1);
}

EXPORT("proc_2_kill_missing") void proc_2_kill_missing(void) {
    lunatic_kill(MISSING_PID);
}

EXPORT("proc_2_kill_child") void proc_2_kill_child(void) {
    lunatic_u64 child = luna_spawn(0, "block_forever", 0, 0);
    lunatic_sleep_ms(10);
    lunatic_kill(child);
}

EXPORT("proc_3_message") void proc_3_message(void) {
    lunatic_die_when_link_dies(0);
    lunatic_link(55, MISSING_PID);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == 55);
}

/* link itself returns; the "no process" notice ends the caller at its next waiting call. */
EXPORT("proc_3_dies") void proc_3_dies(void) {
    lunatic_link(55, MISSING_PID);
    luna_print("link returned\n");
    lunatic_sleep_ms(1);
    luna_print("survived link to a missing process\n");
}

EXPORT("proc_4_child_fails") void proc_4_child_fails(void) {
    lunatic_die_when_link_dies(0);
    luna_spawn(LINK_TAG, "trapper", 0, 0);
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == LINK_TAG); /* the child remembers the parent with the link tag */
}

EXPORT("proc_4_child_waits") void proc_4_child_waits(lunatic_i64 parent) {
    lunatic_die_when_link_dies(0);
    luna_send_u64((lunatic_u64)parent, 0, 0); /* ready */
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    luna_print("child got link tag ");
    luna_print_u64((lunatic_u64)lunatic_get_tag());
    luna_print("\n");
}

EXPORT("proc_4_parent_fails") void proc_4_parent_fails(void) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, (lunatic_i64)self());
    luna_spawn(LINK_TAG, "proc_4_child_waits", params, sizeof params);
    receive_u64(); /* the child is ready */
    __builtin_trap();
}

EXPORT("proc_5_middle") void proc_5_middle(void) {
    luna_spawn(1, "trapper", 0, 0);
    block_forever();
}

EXPORT("proc_5_cascade") void proc_5_cascade(void) {
    luna_spawn(1, "proc_5_middle", 0, 0);
    block_forever();
}

EXPORT("proc_5_normal_end") void proc_5_normal_end(void) {
    lunatic_die_when_link_dies(0);
    luna_spawn(1, "idle", 0, 0);
    CHECK(lunatic_receive(0, 0, 100) == LUNATIC_TIMEOUT); /* a normal end notifies no one */
}

EXPORT("proc_6") void proc_6(void) {
    lunatic_u64 child = luna_spawn(1, "trapper", 0, 0);
    lunatic_unlink(child);
    CHECK(lunatic_receive(0, 0, 100) == LUNATIC_TIMEOUT); /* alive, no notice */
}

EXPORT("proc_7") void proc_7(void) {
    luna_send_u64(self(), 1, 1);
    luna_send_u64(self(), 2, 2);
    lunatic_create_data(3, 0); /* all three are dropped when the process ends */
}

EXPORT("proc_8_receive") void proc_8_receive(void) { block_forever(); }

EXPORT("proc_8_sleep") void proc_8_sleep(void) {
    lunatic_sleep_ms(1000000);
    luna_print("returned from sleep\n");
}

EXPORT("proc_8_skip_search") void proc_8_skip_search(void) {
    lunatic_create_data(1, 0);
    lunatic_send_receive_skip_search(MISSING_PID, LUNATIC_FOREVER);
    luna_print("returned from send_receive_skip_search\n");
}

EXPORT("proc_9") void proc_9(void) {
    lunatic_die_when_link_dies(0);
    luna_spawn(1, "trapper", 0, 0);
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    luna_print("first link death queued\n");
    lunatic_die_when_link_dies(1);
    luna_spawn(1, "trapper", 0, 0);
    block_forever(); /* dies here */
}

/* ---- spawning and modules ------------------------------------------------------------------ */

EXPORT("params_child") void params_child(lunatic_i64 parent, lunatic_i32 a, lunatic_i64 b) {
    lunatic_create_data(0, 16);
    lunatic_write_data(&a, 4);
    lunatic_write_data(&b, 8);
    lunatic_send((lunatic_u64)parent);
}

EXPORT("spawn_params") void spawn_params(void) {
    lunatic_u8 params[3 * LUNATIC_PARAM_SIZE];
    lunatic_u8 *p = luna_param_i64(params, (lunatic_i64)self());
    p = luna_param_i32(p, -7);
    luna_param_i64(p, 0x1122334455667788LL);
    luna_spawn(0, "params_child", params, sizeof params);
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == 0);
    lunatic_i32 a = 0;
    lunatic_i64 b = 0;
    CHECK(lunatic_read_data(&a, 4) == 4);
    CHECK(lunatic_read_data(&b, 8) == 8);
    CHECK(a == -7 && b == 0x1122334455667788LL);
}

/* Spawn reports bad params with a trap (lunatic's texts). op 0: unknown type byte;
   op 1: a length that is not a multiple of 17. */
EXPORT("spawn_bad_params_traps") void spawn_bad_params_traps(lunatic_i32 op) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE + 3] = { 0 };
    luna_param_i64(params, 1);
    if (op == 0) params[0] = 0x11;
    lunatic_u64 id;
    lunatic_spawn(0, -1, -1, "idle", 4, params, op == 0 ? LUNATIC_PARAM_SIZE : LUNATIC_PARAM_SIZE + 3, &id);
    luna_print("spawn returned\n");
}

/* Receives a module in slot 0, takes it and spawns its child_entry(grandparent). */
EXPORT("modules_b") void modules_b(lunatic_i64 grandparent) {
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == 0);
    lunatic_u64 module = lunatic_take_module(0);
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, grandparent);
    lunatic_u64 id = 0;
    CHECK(lunatic_spawn(0, -1, (lunatic_i64)module, "child_entry", 11, params, sizeof params, &id) == 0);
}

/* Compiles the embedded child module, sends it to a second process, which spawns it; the
   grandchild reports back with tag 77. */
EXPORT("modules_a") void modules_a(void) {
    lunatic_u64 module = 0;
    CHECK(lunatic_compile_module(child_wasm, sizeof child_wasm, &module) == 0);
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, (lunatic_i64)self());
    lunatic_u64 b = luna_spawn(0, "modules_b", params, sizeof params);
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_module(module) == 0);
    lunatic_send(b);
    lunatic_u64 grandchild = receive_tag_u64(77);
    CHECK(grandchild > b);
    luna_print("grandchild ");
    luna_print_u64(grandchild);
    luna_print(" ran the module\n");
}

/* compile_module of bytes that are not a module gives 1 and an error id. */
EXPORT("compile_error") void compile_error(void) {
    lunatic_u64 id = 0;
    CHECK(lunatic_compile_module((const lunatic_u8 *)"nope", 4, &id) == 1);
    lunatic_u32 size = lunatic_error_string_size(id);
    CHECK(size > 0 && size < 1000);
    char text[1000];
    lunatic_error_to_string(id, text);
    luna_write(1, text, size);
    luna_print("\n");
    lunatic_error_drop(id);
}

EXPORT("versions") void versions(void) {
    luna_print_u64(lunatic_version_major());
    luna_print(".");
    luna_print_u64(lunatic_version_minor());
    luna_print(".");
    luna_print_u64(lunatic_version_patch());
    luna_print(" env ");
    luna_print_u64(lunatic_environment_id());
    luna_print("\n");
}
