import Foundation
import LunaRuntime
import TraceFormat

/// Traces recorded from real LunaRuntime processes, for the end-to-end tests.
enum RuntimeTraces {
    /// A guest module with one lost message planted in it: `main` spawns `sink`, sends a
    /// message to pid 999 (which never exists) and a tag-2 message to `sink`, which only waits
    /// 20 ms for tag 1 and returns, leaving the tag-2 message in its mailbox.
    static let plantedLossWAT = """
        (module
          (import "lunatic::message" "create_data" (func $create (param i64 i64)))
          (import "lunatic::message" "write_data" (func $write (param i32 i32) (result i32)))
          (import "lunatic::message" "send" (func $send (param i64) (result i32)))
          (import "lunatic::message" "receive" (func $receive (param i32 i32 i64) (result i32)))
          (import "lunatic::process" "spawn"
            (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "sink")
          (data (i32.const 16) "lost!")
          (data (i32.const 32) "\\01\\00\\00\\00\\00\\00\\00\\00")
          (func (export "sink")
            (drop (call $receive (i32.const 32) (i32.const 1) (i64.const 20))))
          (func (export "main")
            (drop (call $spawn (i64.const 0) (i64.const -1) (i64.const -1)
              (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 64)))
            (call $create (i64.const 7) (i64.const 16))
            (drop (call $write (i32.const 16) (i32.const 5)))
            (drop (call $send (i64.const 999)))
            (call $create (i64.const 2) (i64.const 0))
            (drop (call $write (i32.const 16) (i32.const 5)))
            (drop (call $send (i64.load (i32.const 64))))))
        """

    /// Two native processes: `sender` pushes a module (a real `GuestModule`) into a tag-5
    /// message with 5 bytes and sends it to `receiver`, which receives it, reads the bytes and
    /// takes the module. Returns the trace file and the receiver's pid.
    static func resourceHandover(to url: URL) async throws -> (sender: ProcessID, receiver: ProcessID) {
        let writer = try TraceWriter(path: url.path, header: TraceHeader(producer: "luna-trace tests"))
        let environment = Environment(trace: writer)
        let module = try GuestModule(wat: "(module)", name: "empty")
        let receiver = environment.spawn(entry: "receiver") { ctx in
            _ = try await ctx.receive(tags: [5], timeoutMs: 10_000)
            _ = try ctx.readData(count: 16)
            _ = try ctx.take(.module, index: 0)
        }
        let sender = environment.spawn(entry: "sender") { ctx in
            let id = ctx.insert(module)
            ctx.createData(tag: 5, capacity: 16)
            _ = try ctx.writeData(Array("hello".utf8))
            _ = try ctx.push(.module, id: id)
            _ = try ctx.send(to: receiver)
        }
        _ = await environment.waitForExit(of: receiver)
        _ = await environment.waitForExit(of: sender)
        try writer.close()
        return (sender, receiver)
    }
}
