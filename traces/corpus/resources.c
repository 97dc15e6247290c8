/*
 * resources.c — SEMANTICS.md §3 (R-RES-1…7): resource tables, slot indexes, moves and copies,
 * takes, traps and drops. Modules come from compile_module, UDP sockets from udp_bind on
 * loopback (the cheapest movable resource).
 */
#include "corpus.h"
#include "lunatic_networking.h"

static const lunatic_u8 LOOPBACK[4] = {127, 0, 0, 1};

static lunatic_u64 udp_socket(void) {
    lunatic_u64 id = 0;
    CHECK(lunatic_udp_bind(4, LOOPBACK, 0, 0, 0, &id) == 0);
    return id;
}

/* R-RES-1: ids start at 0, grow by one, are never reused; one table per kind. */
EXPORT("res_ids") void res_ids(void) {
    CHECK(compile_empty() == 0);
    CHECK(compile_empty() == 1);
    lunatic_drop_module(0);
    CHECK(compile_empty() == 2);
    CHECK(udp_socket() == 0);
    CHECK(udp_socket() == 1);
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_udp_socket(0) == 0);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_take_udp_socket(0) == 2); /* a new id, 0 is not reused */
}

/* R-RES-2: slot indexes 0, 1, 2… across kinds in one list. */
EXPORT("res_slots") void res_slots(void) {
    lunatic_u64 m = compile_empty();
    lunatic_u64 a = udp_socket(), b = udp_socket();
    lunatic_create_data(5, 0);
    CHECK(lunatic_push_module(m) == 0);
    CHECK(lunatic_push_udp_socket(a) == 1);
    CHECK(lunatic_push_module(m) == 2);
    CHECK(lunatic_push_udp_socket(b) == 3);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_take_udp_socket(3) == 2);
    CHECK(lunatic_take_module(2) == 1);
    CHECK(lunatic_take_udp_socket(1) == 3);
    CHECK(lunatic_take_module(0) == 2);
}

EXPORT("res_move_child") void res_move_child(lunatic_i32 op) {
    lunatic_u64 s = udp_socket();
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_udp_socket(s) == 0);
    lunatic_push_udp_socket(s); /* the socket moved into slot 0: its id is gone, this traps */
    luna_print("second push of a moved socket returned\n");
}

/* R-RES-3: sockets move (a second push of the same id traps); modules are shared (they can be
   pushed again and stay usable after the send). */
EXPORT("res_move_vs_copy") void res_move_vs_copy(void) {
    lunatic_die_when_link_dies(0);
    lunatic_u64 m = compile_empty();
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_module(m) == 0);
    CHECK(lunatic_push_module(m) == 1);
    lunatic_send(self());
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_module(m) == 0); /* still in the table after the send */
    run_trapping_child("res_move_child", 0, 31);
}

EXPORT("res_bad_push_child") void res_bad_push_child(lunatic_i32 op) {
    if (op == 0) { lunatic_create_data(0, 0); lunatic_push_module(12345); }
    if (op == 1) { lunatic_create_data(0, 0); lunatic_push_udp_socket(12345); }
    if (op == 2) { lunatic_u64 s = udp_socket(); lunatic_push_udp_socket(s); } /* empty scratch */
    luna_print("push returned\n");
}

/* R-RES-4: pushing an id not in the table traps; a socket push with an empty scratch area traps. */
EXPORT("res_bad_push_traps") void res_bad_push_traps(void) {
    lunatic_die_when_link_dies(0);
    for (lunatic_i32 op = 0; op < 3; op++) run_trapping_child("res_bad_push_child", op, 40 + op);
}

/* R-RES-5: take moves the resource out; other slot indexes stay. */
EXPORT("res_take") void res_take(void) {
    lunatic_u64 a = compile_empty(), b = compile_empty();
    lunatic_u64 s = udp_socket();
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_module(a) == 0);
    CHECK(lunatic_push_udp_socket(s) == 1);
    CHECK(lunatic_push_module(b) == 2);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_take_module(2) == 2);
    CHECK(lunatic_take_udp_socket(1) == 1);
    CHECK(lunatic_take_module(0) == 3);
}

/* R-RES-1, R-RES-5: take(0) then take(1) of two distinct sockets: each yields the resource of
   its slot, under new ids that continue the table (the moved ids 0 and 1 are not reused). */
EXPORT("res_take_in_order") void res_take_in_order(void) {
    lunatic_u64 a = udp_socket(), b = udp_socket();
    CHECK(a == 0 && b == 1);
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_udp_socket(a) == 0);
    CHECK(lunatic_push_udp_socket(b) == 1);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_take_udp_socket(0) == 2);
    CHECK(lunatic_take_udp_socket(1) == 3);
}

EXPORT("res_bad_take_child") void res_bad_take_child(lunatic_i32 op) {
    lunatic_create_data(0, 0);
    lunatic_push_module(compile_empty());
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    if (op == 0) lunatic_take_module(5);
    if (op == 1) { lunatic_take_module(0); lunatic_take_module(0); }
    if (op == 2) lunatic_take_tcp_stream(0);
    luna_print("take returned\n");
}

/* R-RES-6: out of range, taken twice and wrong kind all trap (one child each). */
EXPORT("res_bad_take_traps") void res_bad_take_traps(void) {
    lunatic_die_when_link_dies(0);
    for (lunatic_i32 op = 0; op < 3; op++) run_trapping_child("res_bad_take_child", op, 50 + op);
}

/* R-RES-6: after a wrong-kind take traps, the resource is still in its slot: the trap
   response's scratch message shows it. */
EXPORT("res_wrong_kind_stays_traps") void res_wrong_kind_stays_traps(void) {
    lunatic_u64 s = udp_socket();
    lunatic_create_data(0, 0);
    CHECK(lunatic_push_udp_socket(s) == 0);
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    lunatic_take_module(0);
    luna_print("wrong-kind take returned\n");
}

/* R-RES-7: untaken resources are dropped with their message. */
EXPORT("res_dropped_with_message") void res_dropped_with_message(void) {
    lunatic_create_data(0, 0);
    lunatic_push_module(compile_empty());
    lunatic_push_udp_socket(udp_socket());
    lunatic_send(self());
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_DATA_MESSAGE);
    CHECK(lunatic_take_module(0) == 1);
    lunatic_create_data(0, 0); /* the received message and its untaken socket are dropped */
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_TIMEOUT);
}
