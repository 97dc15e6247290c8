/*
 * send_receive.c — SEMANTICS.md §4 (R-SEND-1…5) and §5 (R-RECV-1…9): sending, FIFO mailboxes,
 * selective receive, timeouts, results and send_receive_skip_search.
 */
#include "corpus.h"

/* R-SEND-1: send moves the scratch message to the mailbox and empties the scratch area. */
EXPORT("send_delivers") void send_delivers(void) {
    luna_send_u64(self(), 3, 1234);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 3);
    CHECK(luna_read_u64() == 1234);
}

/* R-SEND-1: after a send the scratch area is empty, so get_tag traps. */
EXPORT("send_empties_scratch_traps") void send_empties_scratch_traps(void) {
    lunatic_create_data(3, 0);
    CHECK(lunatic_send(self()) == 0);
    lunatic_get_tag();
    luna_print("get_tag returned\n");
}

/* Tells the parent it is ready (tag 1), then blocks in receive until killed. */
EXPORT("ready_then_block") void ready_then_block(lunatic_i64 parent) {
    luna_send_u64((lunatic_u64)parent, 1, self());
    lunatic_i64 never = 424242;
    lunatic_receive(&never, 1, LUNATIC_FOREVER);
    luna_print("returned from receive\n");
}

/* R-SEND-2: sending to a pid that never existed, or to a process already ended, returns 0. */
EXPORT("send_missing") void send_missing(void) {
    lunatic_create_data(1, 0);
    CHECK(lunatic_send(MISSING_PID) == 0);
    lunatic_u64 child = spawn_with_parent(0, "ready_then_block");
    CHECK(receive_tag_u64(1) == child);
    lunatic_sleep_ms(50); /* margin: the child is blocked in its receive */
    lunatic_kill(child);
    lunatic_create_data(2, 0);
    lunatic_write_data("late", 4);
    CHECK(lunatic_send(child) == 0);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_TIMEOUT);
}

/* R-SEND-3: send with an empty scratch area traps. */
EXPORT("send_empty_traps") void send_empty_traps(void) {
    lunatic_send(self());
    luna_print("send returned\n");
}

EXPORT("ordered_sender") void ordered_sender(lunatic_i64 to, lunatic_i32 count) {
    for (lunatic_i32 i = 0; i < count; i++) luna_send_u64((lunatic_u64)to, i % 3, (lunatic_u64)i);
}

/* R-SEND-4, R-RECV-1: one sender's 30 messages arrive in order; receive takes them FIFO. */
EXPORT("send_ordered") void send_ordered(void) {
    spawn_with_parent_n(0, "ordered_sender", 30);
    for (lunatic_i32 i = 0; i < 30; i++) CHECK(receive_any_u64() == (lunatic_u64)i);
}

/* R-SEND-5: a process sends to itself. */
EXPORT("send_self") void send_self(void) {
    luna_send_u64(self(), 0, 55);
    luna_send_u64(self(), 8, 56);
    CHECK(receive_any_u64() == 55);
    CHECK(receive_any_u64() == 56);
}

/* R-RECV-1: one FIFO mailbox, mixed tags. */
EXPORT("recv_fifo") void recv_fifo(void) {
    for (lunatic_u64 i = 1; i <= 5; i++) luna_send_u64(self(), (lunatic_i64)(i % 2), i);
    for (lunatic_u64 i = 1; i <= 5; i++) CHECK(receive_any_u64() == i);
}

/* R-RECV-2: first match in queue order, not set order; skipped messages keep their order;
   untagged messages never match a tag set. */
EXPORT("recv_selective") void recv_selective(void) {
    lunatic_i64 set[2] = { 3, 2 };
    luna_send_u64(self(), 0, 0);
    luna_send_u64(self(), 1, 10);
    luna_send_u64(self(), 2, 20);
    luna_send_u64(self(), 1, 11);
    luna_send_u64(self(), 3, 30);
    CHECK(lunatic_receive(set, 2, 0) == 0);
    CHECK(luna_read_u64() == 20);
    CHECK(lunatic_receive(set, 2, 0) == 0);
    CHECK(luna_read_u64() == 30);
    CHECK(lunatic_receive(set, 2, 0) == LUNATIC_TIMEOUT);
    CHECK(receive_any_u64() == 0);
    CHECK(receive_any_u64() == 10);
    CHECK(receive_any_u64() == 11);
}

/* R-RECV-3: a tag set containing 0 does not match untagged messages. */
EXPORT("recv_zero_tag") void recv_zero_tag(void) {
    lunatic_i64 set[2] = { 0, 6 };
    luna_send_u64(self(), 0, 1);
    CHECK(lunatic_receive(set, 1, 0) == LUNATIC_TIMEOUT);
    luna_send_u64(self(), 6, 2);
    CHECK(lunatic_receive(set, 2, 0) == 0);
    CHECK(luna_read_u64() == 2);
    CHECK(receive_any_u64() == 1);
}

EXPORT("recv_wait_child") void recv_wait_child(lunatic_i64 parent) {
    lunatic_i64 go = 9;
    CHECK(lunatic_receive(&go, 1, LUNATIC_FOREVER) == 0);
    luna_send_u64((lunatic_u64)parent, 1, 1);
    luna_send_u64((lunatic_u64)parent, 0, 0);
    luna_send_u64((lunatic_u64)parent, 2, 2);
}

/* R-RECV-4: a selective receive waits; non-matching arrivals are queued meanwhile. */
EXPORT("recv_waits") void recv_waits(void) {
    lunatic_u64 child = spawn_with_parent(0, "recv_wait_child");
    luna_send_u64(child, 9, 0);
    CHECK(receive_tag_u64(2) == 2);
    lunatic_i64 one = 1;
    CHECK(lunatic_receive(&one, 1, 0) == 0);
    CHECK(luna_read_u64() == 1);
    CHECK(receive_any_u64() == 0);
}

/* R-RECV-5: timeout 0 is a poll; a finite timeout returns 9027 after it; -1 waits forever. */
EXPORT("recv_timeouts") void recv_timeouts(void) {
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_TIMEOUT);
    luna_send_u64(self(), 0, 8);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_receive(0, 0, 30) == LUNATIC_TIMEOUT);
    lunatic_i64 tag = 4;
    luna_send_u64(self(), 3, 9);
    CHECK(lunatic_receive(&tag, 1, 30) == LUNATIC_TIMEOUT);
    luna_send_u64(self(), 4, 10);
    CHECK(lunatic_receive(&tag, 1, LUNATIC_FOREVER) == 0);
    CHECK(luna_read_u64() == 10);
}

/* R-RECV-6: 0 data, 1 LinkDied, 9027 timeout; a timeout leaves the scratch area as it was. */
EXPORT("recv_results") void recv_results(void) {
    lunatic_create_data(42, 0);
    lunatic_write_data("kept", 4);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_TIMEOUT);
    CHECK(lunatic_get_tag() == 42 && lunatic_data_size() == 4);
    luna_send_u64(self(), 5, 0);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 5);
    lunatic_die_when_link_dies(0);
    lunatic_link(12, MISSING_PID);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == 12);
}

/* Replies to each message with the same tag and the value 2 (to the pid it carries); stops on
   tag 99. */
EXPORT("echo") void echo(void) {
    for (;;) {
        CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
        lunatic_i64 tag = lunatic_get_tag();
        if (tag == 99) return;
        lunatic_u64 sender = luna_read_u64();
        luna_send_u64(sender, tag, 2);
    }
}

static void request(lunatic_i64 tag) {
    lunatic_u64 me = self();
    lunatic_create_data(tag, 8);
    lunatic_write_data(&me, 8);
}

/* R-RECV-7: skip-search ignores messages queued before the call, even with the same tag; an
   untagged request takes the next message of any tag. */
EXPORT("recv_skip_search") void recv_skip_search(void) {
    lunatic_u64 echo_pid = luna_spawn(0, "echo", 0, 0);
    luna_send_u64(self(), 5, 1);
    luna_send_u64(self(), 0, 7);
    request(5);
    CHECK(lunatic_send_receive_skip_search(echo_pid, LUNATIC_FOREVER) == 0);
    CHECK(lunatic_get_tag() == 5 && luna_read_u64() == 2);
    request(0);
    CHECK(lunatic_send_receive_skip_search(echo_pid, LUNATIC_FOREVER) == 0);
    CHECK(lunatic_get_tag() == 0 && luna_read_u64() == 2);
    lunatic_i64 five = 5;
    CHECK(lunatic_receive(&five, 1, 0) == 0);
    CHECK(luna_read_u64() == 1);
    CHECK(receive_any_u64() == 7);
    lunatic_create_data(99, 0);
    lunatic_send(echo_pid);
}

EXPORT("tagged_echo") void tagged_echo(void) {
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
    lunatic_u64 sender = luna_read_u64();
    luna_send_u64(sender, 8, 3);
}

/* R-RECV-7: an untagged skip-search request takes the next arrival whatever its tag: here a
   tagged reply. */
EXPORT("recv_skip_search_tagged_reply") void recv_skip_search_tagged_reply(void) {
    lunatic_u64 pid = luna_spawn(0, "tagged_echo", 0, 0);
    request(0);
    CHECK(lunatic_send_receive_skip_search(pid, LUNATIC_FOREVER) == 0);
    CHECK(lunatic_get_tag() == 8 && luna_read_u64() == 3);
}

EXPORT("trapper") void trapper(void) {
    lunatic_sleep_ms(20);
    __builtin_trap();
}

/* R-RECV-8: skip-search returns 0 even for a LinkDied message. */
EXPORT("recv_skip_search_link_died") void recv_skip_search_link_died(void) {
    lunatic_die_when_link_dies(0);
    luna_spawn(33, "trapper", 0, 0);
    lunatic_create_data(0, 0);
    CHECK(lunatic_send_receive_skip_search(MISSING_PID, LUNATIC_FOREVER) == 0);
    CHECK(lunatic_get_tag() == 33);
}

/* R-RECV-8: after a skip-search timeout the scratch area is empty (get_tag traps). */
EXPORT("recv_skip_search_timeout_traps") void recv_skip_search_timeout_traps(void) {
    lunatic_create_data(4, 0);
    CHECK(lunatic_send_receive_skip_search(MISSING_PID, 20) == LUNATIC_TIMEOUT);
    lunatic_get_tag();
    luna_print("get_tag returned\n");
}

/* R-RECV-9: a tag array outside guest memory traps. */
EXPORT("recv_wild_tags_traps") void recv_wild_tags_traps(void) {
    luna_send_u64(self(), 1, 1);
    lunatic_receive((const lunatic_i64 *)0xFFFFFFF0u, 4, 0);
    luna_print("receive returned\n");
}
