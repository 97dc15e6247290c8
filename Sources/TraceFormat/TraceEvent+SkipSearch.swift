extension TraceEvent {
    /// Whether this is the format 1.0 form of `send_receive_skip_search`: one event for the whole
    /// call, recorded when it returned (args `[pid, timeout, reply]`, result 0 or 9027).
    ///
    /// Format 1.1 records the call as a send half (`sendReceiveSkipSearch`, result none or a
    /// trap) and a `sendReceiveSkipSearchReturn`, and never writes a kind-16 event with a value
    /// result, so the form is known from the event alone, without the file's header.
    public var isCombinedSkipSearch: Bool { kind == .sendReceiveSkipSearch && result.value != nil }

    /// The reply message of a skip-search call, from either form: the return event's `message`,
    /// or `args[2]` of a format 1.0 combined event; 0 when there is none (timeout, send half).
    public var skipSearchReply: MessageID {
        switch kind {
        case .sendReceiveSkipSearchReturn: return result.value == 0 ? message : 0
        case .sendReceiveSkipSearch where result.value == 0: return MessageID(bitPattern: args.at(2) ?? 0)
        default: return 0
        }
    }
}
