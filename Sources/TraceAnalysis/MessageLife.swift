import TraceFormat

/// The message an event concerns, as far as the tracker can tell (`read_data` names no message,
/// but reads the one in its process's scratch area).
package struct MessageAttribution: Sendable, Equatable {
    /// The message id (never 0).
    package var message: MessageID
    /// The message's tag (0 = untagged or unknown).
    package var tag: Int64
}

/// A resource pushed into a message slot.
package struct ResourcePush: Sendable, Equatable {
    /// The pushing process.
    package var pid: ProcessID
    /// When it was pushed.
    package var at: UInt64
    /// The resource kind.
    package var kind: ResourceKind
    /// The resource's id in the pusher's table.
    package var resourceID: Int64
    /// The slot index returned (nil when the push trapped).
    package var slot: Int64?
}

/// A resource taken out of a message slot (or an attempt that trapped).
package struct ResourceTake: Sendable, Equatable {
    /// The taking process.
    package var pid: ProcessID
    /// When.
    package var at: UInt64
    /// The kind asked for.
    package var kind: ResourceKind
    /// The slot index asked for.
    package var slot: Int64
    /// The new id in the taker's table, or nil when the call trapped.
    package var newID: Int64?
    /// The trap reason when the take failed.
    package var trap: String?
}

/// One `send` (or a link-death notice queued by the runtime).
package struct MessageSend: Sendable, Equatable {
    /// The sender (the dead process, for a LinkDied message).
    package var from: UInt64
    /// The destination.
    package var to: UInt64
    /// When it was sent.
    package var at: UInt64
    /// Which call sent it (`send`, `send_receive_skip_search`, or `link_died`).
    package var call: EventKind
    /// Whether the destination existed and was running when the message was sent.
    package var receiverWasRunning: Bool
}

/// The receive that took a message out of a mailbox.
package struct MessageDelivery: Sendable, Equatable {
    /// The receiving process.
    package var receiver: UInt64
    /// When the receive call began.
    package var calledAt: UInt64
    /// When it returned with the message.
    package var receivedAt: UInt64
    /// The tag set asked for (empty = any message); for `send_receive_skip_search` the tag of
    /// the request, if it had one.
    package var tagSet: [Int64]
    /// `receive` or `send_receive_skip_search`.
    package var call: EventKind
    /// How long the receiver waited inside the call.
    package var waited: UInt64 { receivedAt >= calledAt ? receivedAt - calledAt : 0 }
}

/// One leg of a message's journey: a send and, if it happened, the receive that took it.
package struct MessageHop: Sendable, Equatable {
    /// The send (nil when the trace does not show it).
    package var send: MessageSend?
    /// The delivery (nil when never received).
    package var delivery: MessageDelivery?
}

/// How a message left the trace without being received.
package struct MessageDrop: Sendable, Equatable {
    /// The raw `DropReason` code.
    package var reasonCode: Int64
    /// The process holding the message when it was dropped.
    package var pid: ProcessID
    /// When.
    package var at: UInt64
    /// The reason, if this version knows the code.
    package var reason: DropReason? { DropReason(rawValue: reasonCode) }
}

/// Where a message is while the tracker follows it.
package enum MessageLocation: Sendable, Equatable {
    /// In a process's scratch area (being built, or just received).
    case scratch(UInt64)
    /// Queued in a process's mailbox.
    case mailbox(UInt64)
    /// Sent to a process that did not exist or had ended (it is dropped by the runtime).
    case nowhere(UInt64)
    /// Dropped, or replaced in its receiver's scratch area.
    case gone
}

/// What the tracker changes about a message on nearly every event: plain values only, so that
/// keeping, moving and dropping one costs no reference counting (the lists of a `MessageHistory`
/// cost retains and releases each time they are copied or dropped).
package struct MessageState: Sendable, Equatable {
    /// The message id.
    package var id: MessageID
    /// Whether it is a LinkDied message queued by the runtime.
    package var isLinkDied = false
    /// The tag (0 = untagged).
    package var tag: Int64 = 0
    /// The creating process (for a LinkDied message, the process whose death it reports);
    /// nil when the creation is not in the trace.
    package var creator: UInt64?
    /// When it was created.
    package var createdAt: UInt64?
    /// The capacity hint given to `create_data`.
    package var capacity: Int64 = 0
    /// Bytes written into it, and the number of `write_data` calls.
    package var bytesWritten: UInt64 = 0
    package var writeCalls = 0
    /// Bytes read out of it, and the number of `read_data` calls.
    package var bytesRead: UInt64 = 0
    package var readCalls = 0
    /// Set when the runtime dropped it.
    package var drop: MessageDrop?
    /// Where it is (at the end of the trace, for a message still live then).
    package var location: MessageLocation = .gone

    /// The state of message `id` about which nothing is known yet.
    package init(id: MessageID) { self.id = id }
}

/// The lists a tracker keeps per message only when it keeps history (`flow`, `lost`, exports).
package struct MessageHistory: Sendable {
    /// Resources pushed, in order.
    package var pushes: [ResourcePush] = []
    /// Takes, in order (including ones that trapped).
    package var takes: [ResourceTake] = []
    /// Sends and deliveries, in order (a received message can be sent on).
    package var hops: [MessageHop] = []
    /// Resources the runtime dropped with it: (slot, kind code).
    package var resourcesDropped: [(slot: Int64, kind: Int64)] = []
    /// Calls on the message that trapped: (time, pid, call, reason).
    package var traps: [(at: UInt64, pid: ProcessID, call: EventKind, reason: String)] = []

    /// No history.
    package init() {}
}

/// Everything a trace says about one message, from its creation to its end: its `MessageState`
/// and its `MessageHistory`, whose fields read and change as the life's own (`life.tag`,
/// `life.hops.append(…)`).
@dynamicMemberLookup
package struct MessageLife: Sendable, Equatable {
    /// The scalar fields.
    package var state: MessageState
    /// The lists (empty from a tracker that keeps no history).
    package var history: MessageHistory

    /// A life for message `id` about which nothing is known yet.
    package init(id: MessageID) {
        state = MessageState(id: id)
        history = MessageHistory()
    }

    /// A life made of its two parts.
    package init(state: MessageState, history: MessageHistory) {
        self.state = state
        self.history = history
    }

    package subscript<T>(dynamicMember field: WritableKeyPath<MessageState, T>) -> T {
        get { state[keyPath: field] }
        _modify { yield &state[keyPath: field] }
    }

    package subscript<T>(dynamicMember field: WritableKeyPath<MessageHistory, T>) -> T {
        get { history[keyPath: field] }
        _modify { yield &history[keyPath: field] }
    }

    /// Whether any receive took it.
    package var wasReceived: Bool { history.hops.contains { $0.delivery != nil } }
    /// Whether it was ever sent.
    package var wasSent: Bool { history.hops.contains { $0.send != nil } }
    /// The last send, if any.
    package var lastSend: MessageSend? { history.hops.last(where: { $0.send != nil })?.send }
    /// Whether its last send was never followed by a delivery.
    package var lastSendUndelivered: Bool {
        guard let last = history.hops.last else { return false }
        return last.send != nil && last.delivery == nil
    }

    /// Pushed resources whose slot was never taken successfully.
    package var untakenPushes: [ResourcePush] {
        let taken = Set(history.takes.compactMap { $0.newID != nil ? $0.slot : nil })
        return history.pushes.filter { p in p.slot.map { !taken.contains($0) } ?? false }
    }

    package static func == (a: MessageLife, b: MessageLife) -> Bool {
        a.id == b.id && a.tag == b.tag && a.creator == b.creator && a.createdAt == b.createdAt
            && a.bytesWritten == b.bytesWritten && a.bytesRead == b.bytesRead && a.pushes == b.pushes
            && a.takes == b.takes && a.hops == b.hops && a.drop == b.drop && a.location == b.location
            && a.resourcesDropped.elementsEqual(b.resourcesDropped, by: { $0 == $1 })
    }
}
