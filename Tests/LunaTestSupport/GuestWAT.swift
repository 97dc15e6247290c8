/// WebAssembly text shared by the tests' small guests, spliced into their modules' text.
public enum GuestWAT {
    /// The `lunatic::message` imports most test guests use, as `$create_data`, `$send` and
    /// `$receive`.
    public static let messageImports = """
        (import "lunatic::message" "create_data" (func $create_data (param i64 i64)))
        (import "lunatic::message" "send" (func $send (param i64) (result i32)))
        (import "lunatic::message" "receive" (func $receive (param i32 i32 i64) (result i32)))
        """

    /// `$ready (param $to i64)`: sends `to` an empty data message with tag 1 (a guest telling
    /// its test that it has got this far). Needs `messageImports`.
    public static let readyFunction = """
        (func $ready (param $to i64)
          (call $create_data (i64.const 1) (i64.const 0))
          (drop (call $send (local.get $to))))
        """
}
