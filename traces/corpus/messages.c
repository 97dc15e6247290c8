/*
 * messages.c — SEMANTICS.md §2 (R-MSG-1…10): data and LinkDied messages, the scratch area,
 * writing, reading, seeking and sizes. One exported entry per trace; *_traps entries hold
 * trapping calls, each in its own linked child.
 */
#include "corpus.h"

/* R-MSG-1: a data message and a LinkDied message (which carries only the link's tag). */
EXPORT("msg_kinds") void msg_kinds(void) {
    luna_send_u64(self(), 4, 5);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 4 && lunatic_data_size() == 8);
    lunatic_die_when_link_dies(0);
    lunatic_link(9, MISSING_PID);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == 9);
}

/* R-MSG-2: tag 0 is "no tag". */
EXPORT("msg_untagged") void msg_untagged(void) {
    lunatic_create_data(0, 0);
    CHECK(lunatic_get_tag() == 0);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 0);
    lunatic_create_data(7, 0);
    CHECK(lunatic_get_tag() == 7);
}

/* R-MSG-3: create_data replaces the unsent scratch message, with its resources. */
EXPORT("msg_scratch_replaced") void msg_scratch_replaced(void) {
    lunatic_create_data(1, 0);
    CHECK(lunatic_write_data("abc", 3) == 3);
    CHECK(lunatic_push_module(compile_empty()) == 0);
    lunatic_create_data(2, 0);
    CHECK(lunatic_data_size() == 0);
    CHECK(lunatic_get_tag() == 2);
    CHECK(lunatic_push_module(compile_empty()) == 0); /* a fresh slot list */
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_get_tag() == 2); /* only the second message was ever sent */
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_TIMEOUT);
}

/* R-MSG-4: capacity is a hint. */
EXPORT("msg_capacity_hint") void msg_capacity_hint(void) {
    char buf[300];
    memset(buf, 'x', sizeof buf);
    lunatic_create_data(0, 1);
    CHECK(lunatic_write_data(buf, 100) == 100);
    CHECK(lunatic_write_data(buf, 200) == 200);
    CHECK(lunatic_data_size() == 300);
    lunatic_create_data(0, 0);
    CHECK(lunatic_write_data(buf, 5) == 5);
    CHECK(lunatic_data_size() == 5);
}

/* R-MSG-5: writes append at the end, never at the read position. */
EXPORT("msg_write_appends") void msg_write_appends(void) {
    char out[8];
    lunatic_create_data(0, 0);
    CHECK(lunatic_write_data("abc", 3) == 3);
    lunatic_seek_data(1);
    CHECK(lunatic_write_data("de", 2) == 2);
    CHECK(lunatic_read_data(out, 1) == 1 && out[0] == 'b');
    CHECK(lunatic_write_data("f", 1) == 1);
    CHECK(lunatic_data_size() == 6);
    lunatic_seek_data(0);
    CHECK(lunatic_read_data(out, 8) == 6);
    CHECK(out[0] == 'a' && out[3] == 'd' && out[4] == 'e' && out[5] == 'f');
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    lunatic_seek_data(0); /* (where the read position starts after a send is not a rule) */
    CHECK(lunatic_read_data(out, 8) == 6);
}

/* R-MSG-6: read_data copies min(len, size - position) and advances. */
EXPORT("msg_read_advances") void msg_read_advances(void) {
    char out[10];
    lunatic_create_data(0, 0);
    lunatic_write_data("hello", 5);
    CHECK(lunatic_read_data(out, 3) == 3);
    CHECK(out[0] == 'h' && out[2] == 'l');
    CHECK(lunatic_read_data(out, 10) == 2);
    CHECK(out[0] == 'l' && out[1] == 'o');
    CHECK(lunatic_read_data(out, 4) == 0);
    CHECK(lunatic_read_data(out, 0) == 0);
}

/* R-MSG-7: seeking never traps; reading at position == size returns 0. */
EXPORT("msg_seek") void msg_seek(void) {
    char out[4];
    lunatic_create_data(0, 0);
    lunatic_write_data("abcd", 4);
    lunatic_seek_data(100);
    CHECK(lunatic_data_size() == 4);
    lunatic_seek_data(2);
    CHECK(lunatic_read_data(out, 4) == 2 && out[0] == 'c');
    lunatic_seek_data(4);
    CHECK(lunatic_read_data(out, 4) == 0);
}

/* R-MSG-7: read_data with the position past the end traps. */
EXPORT("msg_read_past_end_traps") void msg_read_past_end_traps(void) {
    char out[4];
    lunatic_create_data(0, 0);
    lunatic_write_data("abcd", 4);
    lunatic_seek_data(5);
    lunatic_read_data(out, 4);
    luna_print("read past the end returned\n");
}

/* R-MSG-8: data_size is the bytes written, not capacity, not what is left. */
EXPORT("msg_data_size") void msg_data_size(void) {
    char out[4];
    lunatic_create_data(0, 1000);
    CHECK(lunatic_data_size() == 0);
    lunatic_write_data("0123456789", 10);
    lunatic_read_data(out, 4);
    CHECK(lunatic_data_size() == 10);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
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
#define MESSAGE_OPS 13

EXPORT("msg_empty_op") void msg_empty_op(lunatic_i32 op) {
    message_op(op);
    luna_print("operation on an empty scratch area returned\n");
}

/* R-MSG-9: each of the 13 operations traps with an empty scratch area (one child each). */
EXPORT("msg_empty_scratch_traps") void msg_empty_scratch_traps(void) {
    lunatic_die_when_link_dies(0);
    for (lunatic_i32 op = 0; op < MESSAGE_OPS; op++) run_trapping_child("msg_empty_op", op, 100 + op);
}

EXPORT("msg_link_died_op") void msg_link_died_op(lunatic_i32 op) {
    lunatic_die_when_link_dies(0);
    lunatic_link(77, MISSING_PID);
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    message_op(op);
    luna_print("operation on a LinkDied message returned\n");
}

/* R-MSG-10: with a LinkDied message in the scratch area get_tag returns the link tag; the
   other 12 operations trap (one child each). */
EXPORT("msg_link_died_traps") void msg_link_died_traps(void) {
    lunatic_die_when_link_dies(0);
    for (lunatic_i32 op = 0; op < MESSAGE_OPS; op++) {
        if (op == 3) continue;
        run_trapping_child("msg_link_died_op", op, 200 + op);
    }
    lunatic_link(77, MISSING_PID);
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == 77);
    CHECK(lunatic_get_tag() == 77);
}
