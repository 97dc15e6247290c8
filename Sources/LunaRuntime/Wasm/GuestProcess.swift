import TraceFormat
import WasmKit

/// One running guest: its WasmKit store and instance, bound to the process's `ProcessContext`.
///
/// Lives on the process's own thread (created by `Environment.spawnThread`); every host function
/// of the instance runs on that thread and calls the context's blocking operations. The
/// instance is made on that thread too, or taken ready from the module's `InstancePool`.
package final class GuestProcess: @unchecked Sendable {
    // @unchecked Sendable: a process is created, used and dropped on its process thread only
    // (the host functions reach it through the instance's `GuestBinding`, inside `run`).

    /// The process's lunatic operations.
    package let context: ProcessContext
    /// The module the process runs (also what `spawn` with module id -1 uses).
    package let module: GuestModule
    /// Output sink and arguments; inherited by guests this one spawns.
    package let options: GuestOptions
    /// The config the process was spawned with (`spawn` with config id -1 inherits it).
    package let config: GuestConfig
    /// The instance's exported `memory`, once known.
    package var memory: Memory?
    /// The process's WASI, from its first WASI call (GuestProcess+WASI.swift).
    package var wasi: GuestWASI?
    /// Whether the process holds the registry after `get_or_put_later` (GuestProcess+Registry.swift).
    package var holdsRegistry = false

    package init(context: ProcessContext, module: GuestModule, options: GuestOptions, config: GuestConfig) {
        self.context = context
        self.module = module
        self.options = options
        self.config = config
    }

    /// Whether a trace sink is attached (event construction is skipped otherwise).
    @inline(__always)
    package var tracing: Bool { context.trace != nil }

    /// Instantiates the module (or takes an instance its pool prepared) and runs export `entry`
    /// with `params` to completion.
    ///
    /// Throws `LunaTrap` when the guest traps (the process fails with that reason) and lets
    /// `ProcessTerminated` through when the process is killed or dies from a link while blocked.
    package func run(entry: String, params: [GuestValue]) throws {
        let prepared = module.pool?.take(maxMemory: config.settings.maxMemory)
        let binding = prepared?.binding ?? GuestBinding()
        binding.process = self
        // `memory` refers to the store, whose host functions refer to this process through the
        // binding: clearing both at the end breaks that cycle, so the store and its memory are
        // freed with the last reference to the store (the context's, after the exit).
        defer { closeWASI(); releaseRegistryIfHeld(); memory = nil; binding.process = nil }
        let store = prepared?.store ?? Store(engine: GuestEngine.makeProcessEngine())
        applyLimits(to: store)  // the config's max_memory / max_fuel (GuestProcess+ProcessConfig)
        context.releasedAfterExit = store  // freed once the exit is visible
        // A kill or link death while WebAssembly runs stops it at its next fuel charge.
        let target = GuestInterrupter.Target(store: store)
        let mailbox = context.mailbox
        mailbox.lock.lock()
        mailbox.onDying = { GuestInterrupter.shared.stop(target) }
        let dying = mailbox.pendingDeath != nil
        mailbox.lock.unlock()
        defer {
            mailbox.lock.lock()
            mailbox.onDying = nil
            mailbox.lock.unlock()
            GuestInterrupter.shared.ended(target)
        }
        if dying { throw ProcessTerminated() }
        let instance: Instance
        if let prepared {
            instance = prepared.instance
            memory = prepared.memory
        } else {
            do {
                let imports = Self.makeImports(module: module, store: store, binding: binding)
                instance = try module.instantiate(store: store, imports: imports).instance
            } catch {
                throw guestFailure(error)
            }
            memory = instance.exports[memory: "memory"]
        }
        guard let function = instance.exports[function: entry] else {
            throw guestFailure(message: "Function '\(entry)' not found")
        }
        let expected = function.type.parameters
        guard expected == params.map(\.valueType) else {
            throw guestFailure(
                message: "Function '\(entry)' takes (\(expected.map { "\($0)" }.joined(separator: ", "))), "
                    + "spawned with (\(params.map { "\($0.valueType)" }.joined(separator: ", ")))")
        }
        do {
            _ = try function.invoke(params.map(\.wasmValue))
        } catch let exit as GuestExit {
            if exit.code != 0 { throw guestFailure(message: "proc_exit(\(exit.code))") }
        } catch {
            throw guestFailure(error)
        }
    }

    /// Turns an error out of instantiation or guest execution into the process's end.
    private func guestFailure(_ error: any Error) -> any Error {
        // Killed or dead from a link while running: the out-of-fuel trap (or any other end)
        // is the interrupter's doing; the process ends with the death it was given.
        if context.isTerminating { return ProcessTerminated() }
        switch error {
        case let trap as LunaTrap:
            return trap  // raised by a host function, which recorded it
        case is ProcessTerminated:
            return error
        case let exit as GuestExit:
            return guestFailure(message: "proc_exit(\(exit.code))")
        default:
            let text = "\(error)"
            let firstLine = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? text
            return guestFailure(message: firstLine)
        }
    }

    /// Records a `trap` event (a trap outside any host call) and returns the trap to throw.
    private func guestFailure(message: String) -> LunaTrap {
        if tracing {
            let now = context.now()
            context.record(TraceEvent(kind: .trap, pid: context.id, start: now, text: message))
        }
        return LunaTrap(reason: message)
    }
}

/// Thrown by WASI `proc_exit` to unwind the guest; `run` turns code 0 into a normal end.
package struct GuestExit: Error {
    /// The exit code.
    package let code: UInt32
}
