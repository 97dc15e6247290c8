/// The result codes of lunatic host functions that mean the same thing in every call, with one
/// name each. The runtime returns them, traces record them, and the tools and the replay engine
/// recognise them by these names (docs/SEMANTICS.md, R-RECV-5).
public enum ResultCode {
    /// The call's timeout elapsed before it could complete: a `receive`, the reply wait of
    /// `send_receive_skip_search`, or a networking call with a timeout (lunatic's 9027).
    public static let timeout: Int32 = 9027

    /// Whether `value` (a returned or recorded result, nil when there was none) is
    /// ``timeout``.
    @inlinable
    public static func isTimeout<T: BinaryInteger>(_ value: T?) -> Bool {
        guard let value else { return false }
        return value == T(exactly: timeout)
    }
}
