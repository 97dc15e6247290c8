extension EventKind {
    /// For a push or take of a resource, the resource kind's protocol name (`module`,
    /// `tcp_stream`, `tls_stream`, `udp_socket`); nil for any other call.
    package var resourceKindName: String? {
        switch self {
        case .pushModule, .takeModule: return "module"
        case .pushTcpStream, .takeTcpStream: return "tcp_stream"
        case .pushTlsStream, .takeTlsStream: return "tls_stream"
        case .pushUdpSocket, .takeUdpSocket: return "udp_socket"
        default: return nil
        }
    }
}
