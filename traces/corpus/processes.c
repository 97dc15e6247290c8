/*
 * processes.c — SEMANTICS.md §6 (R-PROC-1…9): pids, ends, links, cascades, unlink, drops on
 * end, calls that never return, die_when_link_dies. Children that must be blocked before
 * something happens to them say "ready" first; a 50 ms margin then covers the step from that
 * send into the blocking call.
 */
#include "corpus.h"

EXPORT("idle") void idle(void) {}

EXPORT("trapper") void trapper(void) {
    lunatic_sleep_ms(20);
    __builtin_trap();
}

/* Tells the parent it is ready (tag 1, with its pid), then blocks in receive forever. */
EXPORT("ready_then_block") void ready_then_block(lunatic_i64 parent) {
    luna_send_u64((lunatic_u64)parent, 1, self());
    lunatic_i64 never = 424242;
    lunatic_receive(&never, 1, LUNATIC_FOREVER);
    luna_print("returned from receive\n");
}

/* R-PROC-1: pids start at 1 and grow by one per spawn. */
EXPORT("proc_pids") void proc_pids(void) {
    CHECK(self() == 1);
    CHECK(luna_spawn(0, "idle", 0, 0) == 2);
    CHECK(luna_spawn(0, "idle", 0, 0) == 3);
    CHECK(luna_spawn(0, "idle", 0, 0) == 4);
}

EXPORT("ends_child") void ends_child(lunatic_i32 op) {
    if (op == 1) __builtin_trap();
    if (op == 2) { lunatic_i64 never = 424242; lunatic_receive(&never, 1, LUNATIC_FOREVER); }
}

/* R-PROC-2: a normal end, a failure, a kill; kill of a missing pid does nothing. */
EXPORT("proc_ends") void proc_ends(void) {
    lunatic_die_when_link_dies(0);
    lunatic_kill(MISSING_PID);
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i32(params, 1);
    luna_spawn(11, "ends_child", params, sizeof params); /* fails */
    await_link_death(11);
    lunatic_u64 blocked = spawn_with_parent(12, "ready_then_block");
    CHECK(receive_tag_u64(1) == blocked);
    lunatic_sleep_ms(50);
    lunatic_kill(blocked); /* killed */
    await_link_death(12);
    luna_param_i32(params, 0);
    luna_spawn(13, "ends_child", params, sizeof params); /* ends normally: no notice */
    CHECK(lunatic_receive(0, 0, 100) == LUNATIC_TIMEOUT);
}

/* R-PROC-3: link to a missing pid gives an immediate LinkDied with the tag. */
EXPORT("proc_link_missing") void proc_link_missing(void) {
    lunatic_die_when_link_dies(0);
    lunatic_link(55, MISSING_PID);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == 55);
}

/* R-PROC-3: links are both ways, each side with its tag: killing the linked process notifies
   the caller with the tag it gave. */
EXPORT("proc_link_both_ways") void proc_link_both_ways(void) {
    lunatic_die_when_link_dies(0);
    lunatic_u64 child = spawn_with_parent(0, "ready_then_block");
    CHECK(receive_tag_u64(1) == child);
    lunatic_link(61, child);
    lunatic_sleep_ms(50);
    lunatic_kill(child);
    await_link_death(61);
}

EXPORT("parent_fails_child") void parent_fails_child(lunatic_i64 parent, lunatic_i64 observer) {
    lunatic_die_when_link_dies(0);
    luna_send_u64((lunatic_u64)parent, 1, self()); /* ready: links to parent turned into messages */
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    lunatic_u64 tag = (lunatic_u64)lunatic_get_tag();
    luna_send_u64((lunatic_u64)parent, 0, tag); /* to the dead parent: dropped */
    luna_send_u64((lunatic_u64)observer, 71, tag); /* report the tag to the observer */
}

EXPORT("parent_fails") void parent_fails(lunatic_i64 observer) {
    lunatic_u8 params[2 * LUNATIC_PARAM_SIZE];
    luna_param_i64(luna_param_i64(params, (lunatic_i64)self()), observer);
    luna_spawn(21, "parent_fails_child", params, sizeof params);
    receive_tag_u64(1);
    __builtin_trap();
}

/* R-PROC-4: a failing child notifies its parent with the spawn's link tag; a failing parent
   notifies the child with tag 0. */
EXPORT("proc_spawn_link") void proc_spawn_link(void) {
    lunatic_die_when_link_dies(0);
    luna_spawn(21, "trapper", 0, 0);
    await_link_death(21);
    spawn_with_parent(0, "parent_fails");
    CHECK(receive_tag_u64(71) == 0); /* the child saw tag 0 */
}

EXPORT("cascade_leaf") void cascade_leaf(lunatic_i64 top) {
    luna_send_u64((lunatic_u64)top, 3, self());
    lunatic_i64 go = 8;
    CHECK(lunatic_receive(&go, 1, LUNATIC_FOREVER) == 0);
    __builtin_trap();
}

EXPORT("cascade_middle") void cascade_middle(lunatic_i64 top) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, top);
    luna_spawn(1, "cascade_leaf", params, sizeof params);
    lunatic_i64 never = 424242;
    lunatic_receive(&never, 1, LUNATIC_FOREVER);
    luna_print("middle survived\n");
}

/* R-PROC-5: a failure cascades through default links; a process with die_when_link_dies(0)
   gets a LinkDied message instead; a normal end notifies no one. */
EXPORT("proc_cascade") void proc_cascade(void) {
    lunatic_die_when_link_dies(0);
    spawn_with_parent(5, "cascade_middle");
    lunatic_u64 leaf = receive_tag_u64(3);
    luna_send_u64(leaf, 8, 0);
    await_link_death(5); /* the middle died of the leaf's failure */
    luna_spawn(6, "idle", 0, 0);
    CHECK(lunatic_receive(0, 0, 100) == LUNATIC_TIMEOUT);
}

/* R-PROC-6: unlink removes the link on both sides. */
EXPORT("proc_unlink") void proc_unlink(void) {
    lunatic_u64 child = luna_spawn(1, "trapper", 0, 0);
    lunatic_unlink(child);
    lunatic_u64 other = spawn_with_parent(0, "ready_then_block");
    CHECK(receive_tag_u64(1) == other);
    lunatic_link(2, other);
    lunatic_unlink(other);
    lunatic_sleep_ms(50);
    lunatic_kill(other);
    CHECK(lunatic_receive(0, 0, 100) == LUNATIC_TIMEOUT); /* alive, no notice */
}

EXPORT("hoarder") void hoarder(lunatic_i64 parent) {
    luna_send_u64(self(), 1, 1);
    lunatic_create_data(2, 0);
    lunatic_push_module(compile_empty());
    lunatic_send(self());
    lunatic_create_data(3, 0);
    lunatic_write_data("unsent", 6);
    luna_send_u64((lunatic_u64)parent, 9, 0);
    lunatic_create_data(4, 0); /* left in the scratch area */
}

/* R-PROC-7: messages (and their resources) in a mailbox and scratch area go with the process. */
EXPORT("proc_end_drops") void proc_end_drops(void) {
    spawn_with_parent(0, "hoarder");
    CHECK(receive_tag_u64(9) == 0);
    luna_send_u64(self(), 1, 1);
    lunatic_create_data(5, 0);
}

EXPORT("block_receive") void block_receive(lunatic_i64 parent) {
    luna_send_u64((lunatic_u64)parent, 1, self());
    lunatic_i64 never = 424242;
    lunatic_receive(&never, 1, LUNATIC_FOREVER);
    luna_print("returned from receive\n");
}

EXPORT("block_sleep") void block_sleep(lunatic_i64 parent) {
    luna_send_u64((lunatic_u64)parent, 1, self());
    lunatic_sleep_ms(1000000);
    luna_print("returned from sleep\n");
}

EXPORT("block_skip_search") void block_skip_search(lunatic_i64 parent) {
    luna_send_u64((lunatic_u64)parent, 1, self());
    lunatic_create_data(1, 0);
    lunatic_send_receive_skip_search(MISSING_PID, LUNATIC_FOREVER);
    luna_print("returned from send_receive_skip_search\n");
}

EXPORT("linked_skip_search") void linked_skip_search(lunatic_i64 parent) {
    luna_send_u64((lunatic_u64)parent, 2, self());
    lunatic_create_data(1, 0);
    lunatic_send_receive_skip_search(MISSING_PID, LUNATIC_FOREVER);
    luna_print("returned from send_receive_skip_search\n");
}

/* Spawns a grandchild blocked in skip-search (ready with tag 2), linked; blocks in sleep
   (ready with tag 1). */
EXPORT("block_linked") void block_linked(lunatic_i64 parent) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, parent);
    luna_spawn(1, "linked_skip_search", params, sizeof params);
    block_sleep(parent);
}

static lunatic_u64 spawn_blocked(const char *func) {
    lunatic_u64 pid = spawn_with_parent(0, func);
    CHECK(receive_tag_u64(1) == pid);
    return pid;
}

/* R-PROC-8: killed while blocked in receive, sleep_ms or skip-search, or dying of a link while
   blocked: the call never returns. */
EXPORT("proc_blocked_never_return") void proc_blocked_never_return(void) {
    lunatic_die_when_link_dies(0);
    lunatic_u64 a = spawn_blocked("block_receive");
    lunatic_u64 b = spawn_blocked("block_sleep");
    lunatic_u64 c = spawn_blocked("block_skip_search");
    lunatic_sleep_ms(50);
    lunatic_link(81, a);
    lunatic_link(82, b);
    lunatic_link(83, c);
    lunatic_kill(a);
    await_link_death(81);
    lunatic_kill(b);
    await_link_death(82);
    lunatic_kill(c);
    await_link_death(83);
    /* a middle process blocked in sleep with a linked grandchild blocked in skip-search */
    lunatic_u64 middle = spawn_with_parent(0, "block_linked");
    CHECK(receive_tag_u64(1) == middle);
    CHECK(receive_tag_u64(2) == middle + 1);
    lunatic_sleep_ms(50);
    lunatic_link(84, middle + 1);
    lunatic_kill(middle);
    await_link_death(84); /* the grandchild died of the link, inside skip-search */
}

EXPORT("toggler") void toggler(lunatic_i64 parent) {
    lunatic_die_when_link_dies(0);
    luna_spawn(1, "trapper", 0, 0);
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == 1);
    lunatic_die_when_link_dies(1);
    luna_spawn(2, "trapper", 0, 0);
    lunatic_i64 never = 424242;
    lunatic_receive(&never, 1, LUNATIC_FOREVER); /* dies here */
    luna_print("toggler survived\n");
}

/* R-PROC-9: die_when_link_dies applies to deaths after the call. */
EXPORT("proc_die_when_link_dies") void proc_die_when_link_dies(void) {
    lunatic_die_when_link_dies(0);
    spawn_with_parent(90, "toggler");
    await_link_death(90);
}
