import TraceFormat

extension ProcessContext {
    // MARK: scratch area (R-MSG-3)

    /// Puts `m` into the scratch area, dropping what was there (R-MSG-3, R-RECV-6).
    @inline(__always)
    package func replaceScratch(with m: Message?) {
        // A received message with no resources left records nothing: skip the call.
        if let old = scratch, let trace, !old.received || !old.slots.isEmpty {
            environment.recordDrop(
                old, holder: id, reason: .replacedInScratch, trace,
                asMessage: !old.received)
        }
        // A finished message of a native process goes to its executor's spare pool.
        if scratch != nil, let e = nativeExecutor, scratch!.isReusable, isKnownUniquelyReferenced(&scratch!),
            e.isCurrent
        {
            e.keepSpare(scratch!)
        }
        scratch = m
    }

    /// Whether the scratch area holds a message (data or LinkDied).
    public var hasScratchMessage: Bool { scratch != nil }

    // MARK: lunatic::message data calls

    /// `create_data(tag, capacity)`: a new data message replaces the scratch area's content.
    /// The capacity is only a hint (R-MSG-4). It cannot fail, so a process that has been killed
    /// (or has died from a link) is not stopped here: the call does nothing and records
    /// nothing, and the process's next call that can throw ends it (R-PROC-8).
    public func createData(tag: Int64, capacity: UInt64) {
        if mailbox.terminating.load(ordering: .relaxed) { return }
        // A received message the process is done with becomes the new one: no allocation, and
        // dropping it would record nothing (it was received and holds no resources).
        if scratch != nil, scratch!.isReusable, isKnownUniquelyReferenced(&scratch!) {
            let m = scratch!
            m.reuse(tag: tag, capacity: capacity, id: trace != nil ? environment.newMessageID() : 0)
            if trace != nil {
                record(.call(.createData, pid: id, start: now(), message: m.id, tag, Int64(bitPattern: capacity)))
            }
            return
        }
        let messageID = trace != nil ? environment.newMessageID() : 0
        let m: Message
        if let e = nativeExecutor, e.isCurrent, let spare = e.takeSpare() {
            spare.reuse(tag: tag, capacity: capacity, id: messageID)
            m = spare
        } else {
            m = Message(tag: tag, capacity: capacity, id: messageID)
        }
        replaceScratch(with: m)
        if trace != nil {
            record(.call(.createData, pid: id, start: now(), message: m.id, tag, Int64(bitPattern: capacity)))
        }
    }

    /// `write_data`: appends all bytes (R-MSG-5); returns the count.
    public func writeData(_ bytes: UnsafeRawBufferPointer) throws -> UInt32 {
        try checkAlive()
        let n = Int64(bytes.count)
        guard let m = scratch else {
            throw trap(.writeData, .of(n), "lunatic::message::write_data")
        }
        if m.isLinkDied {
            scratch = nil
            throw trap(.writeData, .of(n), LunaTrap.linkDiedInScratch, message: m.id)
        }
        m.buffer.append(contentsOf: bytes)
        // The payload is the caller's bytes, copied straight into the trace block.
        record(.call(.writeData, pid: id, start: now(), message: m.id, result: n, n), payload: bytes)
        return UInt32(truncatingIfNeeded: bytes.count)
    }

    /// `write_data` from an array.
    public func writeData(_ bytes: [UInt8]) throws -> UInt32 {
        try bytes.withUnsafeBytes { try writeData($0) }
    }

    /// `read_data`: copies `min(len, size - position)` bytes from the read position and
    /// advances it (R-MSG-6); traps when the position lies past the end (R-MSG-7).
    public func readData(into buffer: UnsafeMutableRawBufferPointer) throws -> UInt32 {
        try checkAlive()
        let n = Int64(buffer.count)
        guard let m = scratch else {
            throw trap(.readData, .of(n), "lunatic::message::read_data")
        }
        if m.isLinkDied {
            scratch = nil
            throw trap(.readData, .of(n), LunaTrap.linkDiedInScratch, message: m.id)
        }
        let size = UInt64(m.buffer.count)
        if m.position > size {
            // lunatic took the message out of the scratch area before failing.
            scratch = nil
            throw trap(.readData, .of(n), "lunatic::message::read_data", message: m.id)
        }
        let start = Int(m.position)
        let count = min(buffer.count, Int(size) - start)
        if count > 0 {
            m.buffer.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + start, byteCount: count)
            }
        }
        m.position += UInt64(count)
        // The payload is the bytes just read, copied straight from the caller's buffer.
        record(
            .call(.readData, pid: id, start: now(), message: m.id, result: Int64(count), n),
            payload: UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
        return UInt32(truncatingIfNeeded: count)
    }

    /// `read_data` into a new array of at most `count` bytes.
    public func readData(count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(0, count))
        let n = try out.withUnsafeMutableBytes { try readData(into: $0) }
        out.removeLast(out.count - Int(n))
        return out
    }

    /// `seek_data(index)`: sets the read position, even past the end (R-MSG-7).
    public func seekData(_ index: UInt64) throws {
        try checkAlive()
        let a: EventArguments = .of(Int64(bitPattern: index))
        guard let m = scratch else { throw trap(.seekData, a, "lunatic::message::seek_data") }
        if m.isLinkDied { throw trap(.seekData, a, LunaTrap.linkDiedInScratch, message: m.id) }
        m.position = index
        record(.call(.seekData, pid: id, start: now(), message: m.id, Int64(bitPattern: index)))
    }

    /// `get_tag()`: the tag, 0 if none; the link tag of a LinkDied message (R-MSG-10).
    public func getTag() throws -> Int64 {
        try checkAlive()
        guard let m = scratch else { throw trap(.getTag, [], "lunatic::message::get_tag") }
        record(EventRecord(kind: .getTag, pid: id, start: now(), message: m.id, result: m.tag))
        return m.tag
    }

    /// `data_size()`: the buffer length (R-MSG-8).
    public func dataSize() throws -> UInt64 {
        try checkAlive()
        guard let m = scratch else { throw trap(.dataSize, [], "lunatic::message::data_size") }
        if m.isLinkDied { throw trap(.dataSize, [], LunaTrap.linkDiedInScratch, message: m.id) }
        let size = UInt64(m.buffer.count)
        record(EventRecord(kind: .dataSize, pid: id, start: now(), message: m.id, result: Int64(size)))
        return size
    }

    /// The scratch message's LinkDied details (dead process, tag), if it is one.
    public var scratchLinkDied: (process: ProcessID, tag: Int64)? {
        guard let m = scratch, m.isLinkDied else { return nil }
        return (m.deadProcess, m.tag)
    }
}
