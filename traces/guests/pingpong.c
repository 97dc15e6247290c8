/*
 * pingpong.c — two guests bouncing a tagged message; the guest ping-pong benchmark and test.
 *
 *   pong()                     answers every data message: reads the sender pid (u64) and sends
 *                              the same 8 bytes back with the same tag; returns on tag 2 ("stop").
 *   ping(pong_pid, rounds)     sends `rounds` requests with send_receive_skip_search (tag 1)
 *                              and checks each reply; then tells pong to stop.
 *   ping_receive(pong, rounds) the same with send + receive(tag 1) instead of skip-search.
 *   pingpong_main(rounds)      spawns pong (linked), runs ping, prints "pingpong <rounds> done".
 */
#include "luna_guest.h"

#define TAG_PING 1
#define TAG_STOP 2

EXPORT("pong") void pong(void) {
    lunatic_i64 tags[2] = { TAG_PING, TAG_STOP };
    for (;;) {
        CHECK(lunatic_receive(tags, 2, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
        if (lunatic_get_tag() == TAG_STOP) return;
        lunatic_u64 sender = luna_read_u64();
        luna_send_u64(sender, TAG_PING, sender);
    }
}

EXPORT("ping") void ping(lunatic_i64 pong_pid, lunatic_i32 rounds) {
    lunatic_u64 self = lunatic_process_id();
    for (lunatic_i32 i = 0; i < rounds; i++) {
        lunatic_create_data(TAG_PING, 8);
        lunatic_write_data(&self, 8);
        CHECK(lunatic_send_receive_skip_search((lunatic_u64)pong_pid, LUNATIC_FOREVER) == 0);
        CHECK(luna_read_u64() == self);
    }
    lunatic_create_data(TAG_STOP, 0);
    lunatic_send((lunatic_u64)pong_pid);
}

EXPORT("ping_receive") void ping_receive(lunatic_i64 pong_pid, lunatic_i32 rounds) {
    lunatic_u64 self = lunatic_process_id();
    lunatic_i64 tag = TAG_PING;
    for (lunatic_i32 i = 0; i < rounds; i++) {
        luna_send_u64((lunatic_u64)pong_pid, TAG_PING, self);
        CHECK(lunatic_receive(&tag, 1, LUNATIC_FOREVER) == LUNATIC_DATA_MESSAGE);
        CHECK(luna_read_u64() == self);
    }
    lunatic_create_data(TAG_STOP, 0);
    lunatic_send((lunatic_u64)pong_pid);
}

EXPORT("pingpong_main") void pingpong_main(lunatic_i32 rounds) {
    lunatic_u64 pong_pid = luna_spawn(1, "pong", 0, 0);
    ping((lunatic_i64)pong_pid, rounds);
    luna_print("pingpong ");
    luna_print_u64((lunatic_u64)rounds);
    luna_print(" done\n");
}
