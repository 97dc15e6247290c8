/*
 * flows.c — realistic message flows built from the rules: request/reply with tagged
 * skip-search, a supervisor with linked workers (a cascade and LinkDied messages), fan-out and
 * fan-in with selective receive, timeouts racing replies, a payload over 1 MiB, and 1,000
 * processes. Every outcome is fixed by tags and ordering, not by speed.
 */
#include "corpus.h"

#define STOP 99999

/* ---- request/reply -------------------------------------------------------------------------- */

/* Serves requests {sender pid, n}: replies with the request's tag and n * 2; stops on STOP. */
EXPORT("doubler") void doubler(void) {
    for (;;) {
        CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
        lunatic_i64 tag = lunatic_get_tag();
        if (tag == STOP) return;
        lunatic_u64 sender = luna_read_u64();
        lunatic_u64 n = luna_read_u64();
        lunatic_u64 reply = n * 2;
        lunatic_create_data(tag, 8);
        lunatic_write_data(&reply, 8);
        lunatic_send(sender);
    }
}

/* A client makes 20 calls with tags 1000+i through send_receive_skip_search. A stale message
   with tag 1000 queued before the first call is not taken by it; it is received at the end. */
EXPORT("request_reply") void request_reply(void) {
    lunatic_u64 server = luna_spawn(0, "doubler", 0, 0);
    luna_send_u64(self(), 1000, 7777);
    for (lunatic_u64 i = 0; i < 20; i++) {
        lunatic_u64 me = self();
        lunatic_create_data(1000 + (lunatic_i64)i, 16);
        lunatic_write_data(&me, 8);
        lunatic_write_data(&i, 8);
        CHECK(lunatic_send_receive_skip_search(server, 5000) == 0);
        CHECK(lunatic_get_tag() == 1000 + (lunatic_i64)i);
        CHECK(luna_read_u64() == 2 * i);
    }
    CHECK(receive_tag_u64(1000) == 7777);
    lunatic_create_data(STOP, 0);
    lunatic_send(server);
}

/* ---- supervisor ----------------------------------------------------------------------------- */

/* Leaf of worker A: waits for "go" (tag 8), then traps. */
EXPORT("faulty_helper") void faulty_helper(lunatic_i64 supervisor) {
    luna_send_u64((lunatic_u64)supervisor, 3, self());
    lunatic_i64 go = 8;
    CHECK(lunatic_receive(&go, 1, LUNATIC_FOREVER) == 0);
    __builtin_trap();
}

/* Worker that starts a linked helper and waits for work; dies when the helper fails. */
EXPORT("worker_with_helper") void worker_with_helper(lunatic_i64 supervisor) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, supervisor);
    luna_spawn(1, "faulty_helper", params, sizeof params);
    lunatic_i64 work = 20;
    lunatic_receive(&work, 1, LUNATIC_FOREVER);
    luna_print("worker A survived its helper\n");
}

/* A worker that answers one job (tag 20: {from, n}) with tag 21 and n + 1, then another. */
EXPORT("steady_worker") void steady_worker(lunatic_i64 supervisor) {
    for (int k = 0; k < 2; k++) {
        lunatic_i64 work = 20;
        CHECK(lunatic_receive(&work, 1, LUNATIC_FOREVER) == 0);
        lunatic_u64 from = luna_read_u64();
        lunatic_u64 n = luna_read_u64();
        luna_send_u64(from, 21, n + 1);
    }
}

static void send_job(lunatic_u64 to, lunatic_u64 n) {
    lunatic_u64 me = self();
    lunatic_create_data(20, 16);
    lunatic_write_data(&me, 8);
    lunatic_write_data(&n, 8);
    lunatic_send(to);
}

/* The supervisor links workers A (tag 1) and B (tag 2) and turns link deaths into messages.
   A's helper traps: A dies of the link (a cascade) and the supervisor gets LinkDied tag 1 while
   B keeps answering; the supervisor restarts A as a steady worker (tag 3), uses it, and stops. */
EXPORT("supervisor") void supervisor(void) {
    lunatic_die_when_link_dies(0);
    lunatic_u64 a = spawn_with_parent(1, "worker_with_helper");
    lunatic_u64 helper = receive_tag_u64(3); /* A's helper exists before B is spawned */
    CHECK(helper == a + 1);
    lunatic_u64 b = spawn_with_parent(2, "steady_worker");
    send_job(b, 10);
    CHECK(receive_tag_u64(21) == 11);
    luna_send_u64(helper, 8, 0);
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == 1);
    send_job(a, 0); /* to the dead worker: dropped */
    lunatic_u64 a2 = spawn_with_parent(3, "steady_worker");
    send_job(a2, 40);
    CHECK(receive_tag_u64(21) == 41);
    send_job(b, 50);
    CHECK(receive_tag_u64(21) == 51);
    send_job(a2, 60);
    CHECK(receive_tag_u64(21) == 61);
    CHECK(lunatic_receive(0, 0, 100) == LUNATIC_TIMEOUT); /* normal ends notify no one */
}

/* ---- fan-out / fan-in ----------------------------------------------------------------------- */

/* Worker i: waits for its job (tag 10+i: {value}), replies with tag 100+i: value squared. */
EXPORT("squarer") void squarer(lunatic_i64 parent, lunatic_i32 i) {
    lunatic_i64 tag = 10 + i;
    lunatic_u64 v = receive_tag_u64(tag);
    luna_send_u64((lunatic_u64)parent, 100 + i, v * v);
}

#define FAN 8

/* Eight workers get tagged jobs; replies are gathered in reverse worker order with selective
   receives, then a tag set gathers a second round one at a time. */
EXPORT("fan_out_in") void fan_out_in(void) {
    lunatic_u64 workers[FAN];
    for (lunatic_i32 i = 0; i < FAN; i++) workers[i] = spawn_with_parent_n(0, "squarer", i);
    for (lunatic_i32 i = 0; i < FAN; i++) luna_send_u64(workers[i], 10 + i, (lunatic_u64)i + 1);
    lunatic_u64 sum = 0;
    for (lunatic_i32 i = FAN - 1; i >= 0; i--) {
        lunatic_u64 v = receive_tag_u64(100 + i);
        CHECK(v == (lunatic_u64)(i + 1) * (lunatic_u64)(i + 1));
        sum += v;
    }
    CHECK(sum == 204);
    /* second round: one worker at a time, gathered with a tag set of all replies */
    lunatic_i64 set[FAN];
    for (lunatic_i32 i = 0; i < FAN; i++) set[i] = 100 + i;
    for (lunatic_i32 i = 0; i < FAN; i++) {
        lunatic_u64 w = spawn_with_parent_n(0, "squarer", i);
        luna_send_u64(w, 10 + i, 3);
        CHECK(lunatic_receive(set, FAN, LUNATIC_FOREVER) == 0);
        CHECK(lunatic_get_tag() == 100 + i && luna_read_u64() == 9);
    }
}

/* ---- timeouts racing replies ---------------------------------------------------------------- */

/* Replies to each request {from, delay_ms} after sleeping delay_ms, with the request's tag. */
EXPORT("slow_server") void slow_server(void) {
    for (;;) {
        CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
        lunatic_i64 tag = lunatic_get_tag();
        if (tag == STOP) return;
        lunatic_u64 from = luna_read_u64();
        lunatic_u64 delay = luna_read_u64();
        if (delay) lunatic_sleep_ms(delay);
        luna_send_u64(from, tag, delay);
    }
}

static void slow_request(lunatic_i64 tag, lunatic_u64 delay) {
    lunatic_u64 me = self();
    lunatic_create_data(tag, 16);
    lunatic_write_data(&me, 8);
    lunatic_write_data(&delay, 8);
}

/* A reply that takes 300 ms loses to a 30 ms timeout (skip-search and receive); a prompt reply
   beats a 5 s timeout; the late replies are then found queued. */
EXPORT("timeout_race") void timeout_race(void) {
    lunatic_u64 server = luna_spawn(0, "slow_server", 0, 0);
    slow_request(1, 300);
    CHECK(lunatic_send_receive_skip_search(server, 30) == LUNATIC_TIMEOUT);
    slow_request(2, 0);
    CHECK(lunatic_send_receive_skip_search(server, 5000) == 0); /* queued behind the slow one */
    CHECK(lunatic_get_tag() == 2);
    CHECK(receive_tag_u64(1) == 300); /* the late reply arrived first */
    slow_request(3, 300);
    lunatic_send(server);
    lunatic_i64 three = 3;
    CHECK(lunatic_receive(&three, 1, 30) == LUNATIC_TIMEOUT);
    CHECK(lunatic_receive(&three, 1, 5000) == 0);
    CHECK(luna_read_u64() == 300);
    lunatic_create_data(STOP, 0);
    lunatic_send(server);
}

/* ---- a large payload ------------------------------------------------------------------------ */

#define LARGE ((1u << 20) + 4099)
static lunatic_u8 large_out[LARGE];
static lunatic_u8 large_in[LARGE];

static lunatic_u8 pattern(lunatic_u32 i) { return (lunatic_u8)((i * 2654435761u) >> 24); }

/* Receives the large message, checks every byte, replies with its size and a checksum. */
EXPORT("large_echo") void large_echo(lunatic_i64 parent) {
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == 0);
    CHECK(lunatic_data_size() == LARGE);
    CHECK(lunatic_read_data(large_in, LARGE) == LARGE);
    lunatic_u64 sum = 0;
    for (lunatic_u32 i = 0; i < LARGE; i++) {
        CHECK(large_in[i] == pattern(i));
        sum += large_in[i];
    }
    luna_send_u64((lunatic_u64)parent, 2, sum);
}

/* A message of 1 MiB + 4099 bytes, written in two pieces, goes to another process and back. */
EXPORT("large_payload") void large_payload(void) {
    lunatic_u64 sum = 0;
    for (lunatic_u32 i = 0; i < LARGE; i++) { large_out[i] = pattern(i); sum += large_out[i]; }
    lunatic_u64 child = spawn_with_parent(0, "large_echo");
    lunatic_create_data(1, 4096);
    CHECK(lunatic_write_data(large_out, 1u << 20) == 1u << 20);
    CHECK(lunatic_write_data(large_out + (1u << 20), 4099) == 4099);
    CHECK(lunatic_data_size() == LARGE);
    lunatic_send(child);
    CHECK(receive_tag_u64(2) == sum);
}

/* ---- many processes ------------------------------------------------------------------------- */

#define MANY 1000

EXPORT("reporter") void reporter(lunatic_i64 parent, lunatic_i32 i) {
    luna_send_u64((lunatic_u64)parent, 1 + i, (lunatic_u64)i);
}

/* 1,000 processes each report once with their own tag; the parent gathers them by tag. */
EXPORT("many_processes") void many_processes(void) {
    for (lunatic_i32 i = 0; i < MANY; i++) spawn_with_parent_n(0, "reporter", i);
    for (lunatic_i32 i = 0; i < MANY; i++) CHECK(receive_tag_u64(1 + i) == (lunatic_u64)i);
    CHECK(lunatic_receive(0, 0, 0) == LUNATIC_TIMEOUT);
}
