import TraceFormat

/// The shared machinery of every `lunatic::networking` operation on a process: resource look-up
/// that traps on unknown ids, error ids, and one trace event per call.
///
/// Calls throw `LunaTrap` for unknown resource ids and `ProcessTerminated` when the process is
/// killed while it waits on a socket.
///
/// Event convention for the networking kinds (see each operation's doc comment): `args` holds
/// the call's integer inputs followed by the value written to its out-pointer (new id, byte
/// count or error id; 0 on timeout); `result` is the returned status (0, 1, 9027) or, for
/// calls without one, the returned value; `text` is an address or name where the call has
/// one; `payload` holds the bytes moved by reads and writes.
extension ProcessContext {
    /// The trap text of networking call `name` (lunatic's `or_trap` form).
    static func networkingTrapReason(_ name: String) -> String { "lunatic::networking::\(name)" }

    /// Resource `id` of `kind` as `R`, or a recorded trap for call `kind`/`name`.
    func networkResource<R: Resource>(
        _ type: R.Type, _ resourceKind: ResourceKind, _ id: UInt64,
        call: EventKind, name: String, args: EventArguments, start: UInt64
    ) throws(LunaTrap) -> R {
        guard let r = resource(resourceKind, id: id) as? R else {
            throw trap(call, args, Self.networkingTrapReason(name), start: start)
        }
        return r
    }

    /// Removes resource `id` of `kind` (a `drop_*` call), or a recorded trap.
    func dropNetworkResource(_ resourceKind: ResourceKind, _ id: UInt64, call: EventKind, name: String) throws(LunaTrap) {
        let start = now()
        guard removeResource(resourceKind, id: id) != nil else {
            throw trap(call, [Int64(bitPattern: id)], Self.networkingTrapReason(name), start: start)
        }
        recordNetworking(call, start: start, args: [Int64(bitPattern: id)])
    }

    /// Inserts the same resource under a new id (a `clone_*` call), or a recorded trap.
    func cloneNetworkResource(
        _ resourceKind: ResourceKind, _ id: UInt64, call: EventKind, name: String
    ) throws(LunaTrap) -> UInt64 {
        let start = now()
        guard let r = resource(resourceKind, id: id) else {
            throw trap(call, [Int64(bitPattern: id)], Self.networkingTrapReason(name), start: start)
        }
        let newID = insert(r)
        recordNetworking(
            call, start: start, args: [Int64(bitPattern: id), Int64(bitPattern: newID)],
            result: .value(Int64(bitPattern: newID)))
        return newID
    }

    /// Runs a fallible operation: its success value, or a new error id, or a timeout. While it
    /// waits on a socket it notices when the process is killed and throws `ProcessTerminated`.
    func networkOutcome(_ body: () throws(NetworkIOError) -> UInt64) throws(ProcessTerminated) -> NetworkOutcome {
        let terminating: @Sendable () -> Bool = { [self] in isTerminating }
        let result = NetworkCancellation.withCheck(terminating) {
            Result { () throws(NetworkIOError) in try body() }
        }
        switch result {
        case .success(let value): return .success(value)
        case .failure(.timedOut): return .timedOut
        case .failure(.cancelled): throw ProcessTerminated()
        case .failure(let error): return .failure(errorID: insertNetworkError(error))
        }
    }

    /// Puts `error` into the `lunatic::error` table; returns its id.
    func insertNetworkError(_ error: NetworkIOError) -> UInt64 {
        insert(GuestErrorResource(message: error.description))
    }

    /// Records one networking event (if tracing) ending now.
    func recordNetworking(
        _ kind: EventKind, start: UInt64, args: EventArguments = [], text: String = "",
        payload: @autoclosure () -> Payload = .none, result: CallResult = .none
    ) {
        guard trace != nil else { return }
        record(
            TraceEvent(
                kind: kind, pid: id, start: start, end: now(), args: args,
                payload: payload(), text: text, result: result))
    }

    /// Records a call that returned `outcome`, appending its out-pointer value to `args`.
    func recordNetworking(
        _ kind: EventKind, start: UInt64, args: EventArguments, outcome: NetworkOutcome, text: String = "",
        payload: @autoclosure () -> Payload = .none
    ) {
        guard trace != nil else { return }
        var all = args
        all.append(Int64(bitPattern: outcome.value))
        record(
            TraceEvent(
                kind: kind, pid: id, start: start, end: now(), args: all,
                payload: payload(), text: text, result: .value(Int64(outcome.code))))
    }

    /// The bytes of `buffer`'s first `count` bytes as a trace payload.
    static func payload(_ buffer: UnsafeRawBufferPointer, count: Int) -> Payload {
        .bytes(Array(buffer.prefix(max(0, min(count, buffer.count)))))
    }
}

extension EventArguments {
    /// An argument list from unsigned values (ids, lengths), stored bit for bit.
    init(unsigned values: UInt64...) { self.init(values.map { Int64(bitPattern: $0) }) }
}
