import Testing

@testable import LunaRuntime

/// Loading modules: validation up front, clear errors naming the place.
@Suite("Guest module loading")
struct GuestModuleLoadingTests {
    @Test("a module importing a function the runtime does not provide fails, naming the import")
    func missingImport() {
        #expect(
            throws: GuestModuleError.missingImports(
                name: "m", imports: ["lunatic::message::no_such_call", "env::puts"])
        ) {
            try GuestModule(
                wat: """
                    (module
                      (import "lunatic::message" "no_such_call" (func (param i64)))
                      (import "env" "puts" (func (param i32))))
                    """, name: "m")
        }
    }

    @Test("an import declared with another type fails, naming both types")
    func wrongType() {
        #expect(
            throws: GuestModuleError.importTypeMismatch(
                name: "m", import: "lunatic::message::send", declared: "(i32) -> (i32)", provided: "(i64) -> (i32)")
        ) {
            try GuestModule(
                wat: #"(module (import "lunatic::message" "send" (func (param i32) (result i32))))"#,
                name: "m")
        }
    }

    @Test("memory, table and global imports are rejected")
    func nonFunctionImport() {
        #expect(throws: GuestModuleError.unsupportedImport(name: "m", import: "env::memory", kind: "a memory")) {
            try GuestModule(wat: #"(module (import "env" "memory" (memory 1)))"#, name: "m")
        }
    }

    @Test("bytes that are not WebAssembly, and invalid function bodies, fail at load")
    func invalid() {
        #expect(throws: GuestModuleError.self) { try GuestModule(bytes: [1, 2, 3, 4], name: "junk") }
        #expect(throws: GuestModuleError.self) {
            // type error in a body: validated at load, not when first called
            try GuestModule(wat: "(module (func (export \"f\") (result i32) (i64.const 1)))", name: "bad")
        }
        #expect(throws: GuestModuleError.self) { try GuestModule(wat: "(module (func", name: "text") }
    }

    @Test("a missing file fails with the path")
    func missingFile() {
        do {
            _ = try GuestModule(path: "/nonexistent/x.wasm")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("/nonexistent/x.wasm"))
        }
    }

    @Test("WASI functions Luna does not implement link as ENOSYS stubs")
    func wasiStubs() throws {
        let module = try GuestModule(
            wat: """
                (module
                  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
                  (memory (export "memory") 1)
                  (func (export "main") (result i32) (call $close (i32.const 1))))
                """)
        #expect(module.exportedFunctions == ["main"])
    }

    @Test("every committed guest loads and exports its entries")
    func committedGuests() throws {
        #expect(try TestGuests.rules.exportedFunctions.contains("msg_1"))
        #expect(try TestGuests.pingpong.exportedFunctions.contains("pingpong_main"))
        #expect(try TestGuests.wild.exportedFunctions.contains("wild_write"))
    }
}
