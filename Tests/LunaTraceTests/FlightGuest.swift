import Foundation

/// The guest of the flight recorder tests (WebAssembly text): `_start` spawns `pong`, then does
/// request/replies with it (10 events a round), prints `ready` on stdout after round `ready`,
/// and after `rounds` rounds (never, for nil) stops pong and returns, or traps.
enum FlightGuest {
    enum Ending { case returns, traps }

    static func wat(rounds: Int?, ready: Int = 0, ending: Ending = .returns) -> String {
        let end =
            ending == .traps
            ? "unreachable"
            : "(call $create_data (i64.const 2) (i64.const 0)) (drop (call $send (i64.load (i32.const 16))))"
        return """
            (module
              (import "lunatic::message" "create_data" (func $create_data (param i64 i64)))
              (import "lunatic::message" "write_data" (func $write_data (param i32 i32) (result i32)))
              (import "lunatic::message" "read_data" (func $read_data (param i32 i32) (result i32)))
              (import "lunatic::message" "get_tag" (func $get_tag (result i64)))
              (import "lunatic::message" "send" (func $send (param i64) (result i32)))
              (import "lunatic::message" "receive" (func $receive (param i32 i32 i64) (result i32)))
              (import "lunatic::process" "process_id" (func $pid (result i64)))
              (import "lunatic::process" "spawn" (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              ;; tag set [1] at 0; pong's pid at 16; own pid at 24; reply at 32; "pong" at 48;
              ;; an iovec for "ready\\n" at 64, its byte count at 72, the text at 80
              (data (i32.const 0) "\\01\\00\\00\\00\\00\\00\\00\\00")
              (data (i32.const 48) "pong")
              (data (i32.const 64) "\\50\\00\\00\\00\\06\\00\\00\\00")
              (data (i32.const 80) "ready\\0a")
              (func (export "pong")
                (loop $next
                  (drop (call $receive (i32.const 0) (i32.const 0) (i64.const -1)))
                  (if (i64.eq (call $get_tag) (i64.const 2)) (then (return)))
                  (drop (call $read_data (i32.const 24) (i32.const 8)))
                  (call $create_data (i64.const 1) (i64.const 8))
                  (drop (call $write_data (i32.const 24) (i32.const 8)))
                  (drop (call $send (i64.load (i32.const 24))))
                  (br $next)))
              (func (export "_start") (local $round i32)
                (drop (call $spawn (i64.const 0) (i64.const -1) (i64.const -1) (i32.const 48) (i32.const 4)
                                   (i32.const 0) (i32.const 0) (i32.const 16)))
                (i64.store (i32.const 24) (call $pid))
                (block $done
                  (loop $next
                    (br_if $done (i32.eq (local.get $round) (i32.const \(rounds ?? -1))))
                    (call $create_data (i64.const 1) (i64.const 8))
                    (drop (call $write_data (i32.const 24) (i32.const 8)))
                    (drop (call $send (i64.load (i32.const 16))))
                    (drop (call $receive (i32.const 0) (i32.const 1) (i64.const -1)))
                    (drop (call $read_data (i32.const 32) (i32.const 8)))
                    (local.set $round (i32.add (local.get $round) (i32.const 1)))
                    (if (i32.eq (local.get $round) (i32.const \(ready)))
                      (then (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 72)))))
                    (br $next)))
                \(end)))
            """
    }

    /// Writes the guest into `dir` and returns its path.
    static func file(in dir: URL, rounds: Int?, ready: Int = 0, ending: Ending = .returns) throws -> String {
        let url = dir.appendingPathComponent("flight-\(rounds ?? -1)-\(ending).wat")
        try wat(rounds: rounds, ready: ready, ending: ending).write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}
