extension TraceEvent {
    /// The reply a skip-search return took: its `message` when the call returned a message, 0
    /// otherwise (a timeout, a call that never returned, or any other event). A format 1.0
    /// file's combined skip-search events are read as a send half and a return
    /// (`TraceReader`), so this one form is all a consumer sees.
    public var skipSearchReply: MessageID {
        kind == .sendReceiveSkipSearchReturn && result.value == 0 ? message : 0
    }
}
