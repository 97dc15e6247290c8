import TraceFormat
import WasmKit

/// `lunatic::timer`: `send_after(process_id: i64, delay_ms: i64) -> i64` (timer id) and
/// `cancel_timer(timer_id: i64) -> i32` (1 cancelled, 0 not pending). The semantics and the
/// `timer_call` events are `ProcessContext.sendAfter` / `cancelTimer` (Core/Environment+Timers).
extension GuestProcess {
    /// The import module name.
    static let timerModule = "lunatic::timer"

    static let timerFunctions: [HostFunctionDefinition] = {
        let t = timerModule
        return [
            HostFunctionDefinition(t, "send_after", [.i64, .i64], [.i64]) { p, c in
                c.returnI64(try p.context.sendAfter(to: c.u64(0), delayMs: c.u64(1)))
            },
            HostFunctionDefinition(t, "cancel_timer", [.i64], [.i32]) { p, c in
                c.returnI32(try p.context.cancelTimer(c.u64(0)))
            },
        ]
    }()
}
