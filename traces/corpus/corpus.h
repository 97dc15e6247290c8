/*
 * corpus.h — helpers shared by the conformance corpus guests (the .c files beside it).
 *
 * Every corpus entry is deterministic in its calls and results: processes wait for each other
 * with tags, selective receives and link-death notices, never by racing. A rule whose check
 * ends in a trap runs in a child process, linked with a tag, while the entry's own process
 * turns link deaths into messages (die_when_link_dies(0)) and awaits the child's LinkDied
 * message — so one trace can hold several traps and still end normally.
 */
#ifndef LUNA_CORPUS_H
#define LUNA_CORPUS_H

#include "luna_guest.h"

/* A process id that never exists in a corpus run. */
#define MISSING_PID 1000000

static inline lunatic_u64 self(void) { return lunatic_process_id(); }

/* Receives the first message with `tag` (forever) and returns the u64 it starts with. */
static inline lunatic_u64 receive_tag_u64(lunatic_i64 tag) {
    CHECK(lunatic_receive(&tag, 1, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
    return luna_read_u64();
}

/* Receives the first message of any kind (forever); it must be data; returns its first u64. */
static inline lunatic_u64 receive_any_u64(void) {
    CHECK(lunatic_receive(0, 0, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
    return luna_read_u64();
}

/* Waits for the LinkDied message of the link with `tag` (die_when_link_dies(0) must be on). */
static inline void await_link_death(lunatic_i64 tag) {
    CHECK(lunatic_receive(&tag, 1, LUNATIC_FOREVER) == LUNATIC_LINK_DIED);
    CHECK(lunatic_get_tag() == tag);
}

/* Spawns `func(op)` linked with `tag` and waits for it to die (it is meant to trap). */
static inline void run_trapping_child(const char *func, lunatic_i32 op, lunatic_i64 tag) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i32(params, op);
    luna_spawn(tag, func, params, sizeof params);
    await_link_death(tag);
}

/* Spawns `func(parent)` (unlinked) with the caller's pid as its one i64 parameter. */
static inline lunatic_u64 spawn_with_parent(lunatic_i64 link, const char *func) {
    lunatic_u8 params[LUNATIC_PARAM_SIZE];
    luna_param_i64(params, (lunatic_i64)self());
    return luna_spawn(link, func, params, sizeof params);
}

/* Spawns `func(parent, n)`. */
static inline lunatic_u64 spawn_with_parent_n(lunatic_i64 link, const char *func, lunatic_i32 n) {
    lunatic_u8 params[2 * LUNATIC_PARAM_SIZE];
    luna_param_i32(luna_param_i64(params, (lunatic_i64)self()), n);
    return luna_spawn(link, func, params, sizeof params);
}

static const lunatic_u8 EMPTY_MODULE[8] = { 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00 };

/* Compiles an empty module and returns its id in the modules table. */
static inline lunatic_u64 compile_empty(void) {
    lunatic_u64 id = 0;
    CHECK(lunatic_compile_module(EMPTY_MODULE, sizeof EMPTY_MODULE, &id) == 0);
    return id;
}

#endif /* LUNA_CORPUS_H */
