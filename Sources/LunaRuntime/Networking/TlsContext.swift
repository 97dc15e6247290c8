import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An OpenSSL `SSL_CTX` configured for one side of TLS, freed with the last reference.
///
/// `@unchecked Sendable`: the pointer is immutable after init, and OpenSSL documents an
/// `SSL_CTX` as safe to share between threads once configured (we never change it after init;
/// `SSL_new` only takes a reference).
final class TlsContext: @unchecked Sendable {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) { self.pointer = pointer }

    deinit { SSL_CTX_free(pointer) }

    /// A server context presenting the PEM certificate chain `certificatePEM` (leaf first) with
    /// the PEM private key `keyPEM`.
    static func server(certificatePEM: [UInt8], keyPEM: [UInt8]) throws(NetworkIOError) -> TlsContext {
        TlsContext.ignoreSigPipe
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw tlsError("SSL_CTX_new") }
        let context = TlsContext(pointer: ctx)
        let chain = try readCertificates(certificatePEM, what: "certificate")
        guard SSL_CTX_use_certificate(ctx, chain[0]) == 1 else {
            chain.forEach { X509_free($0) }
            throw tlsError("certificate not usable")
        }
        X509_free(chain[0])
        for extra in chain.dropFirst() where SSL_CTX_ctrl(ctx, SSL_CTRL_EXTRA_CHAIN_CERT, 0, UnsafeMutableRawPointer(extra)) != 1
        {
            X509_free(extra)
            throw tlsError("chain certificate not usable")
        }
        let key = try readPrivateKey(keyPEM)
        defer { EVP_PKEY_free(key) }
        guard SSL_CTX_use_PrivateKey(ctx, key) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            throw tlsError("private key does not match the certificate")
        }
        _ = SSL_CTX_set_options(ctx, ignoreUnexpectedEOF)
        return context
    }

    /// A client context trusting the PEM certificates in `rootPEMs` (each may hold several), or
    /// the system's default roots when `rootPEMs` is empty.
    static func client(rootPEMs: [[UInt8]]) throws(NetworkIOError) -> TlsContext {
        TlsContext.ignoreSigPipe
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw tlsError("SSL_CTX_new") }
        let context = TlsContext(pointer: ctx)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        if rootPEMs.isEmpty {
            guard SSL_CTX_set_default_verify_paths(ctx) == 1 else { throw tlsError("default root certificates") }
        } else {
            let store = SSL_CTX_get_cert_store(ctx)
            for pem in rootPEMs {
                for cert in try readCertificates(pem, what: "root certificate") {
                    defer { X509_free(cert) }
                    guard X509_STORE_add_cert(store, cert) == 1 else { throw tlsError("root certificate not usable") }
                }
            }
        }
        _ = SSL_CTX_set_options(ctx, ignoreUnexpectedEOF)
        return context
    }

    /// `SSL_OP_IGNORE_UNEXPECTED_EOF` (a macro Swift cannot import): a peer closing without
    /// close_notify reads as end of stream, as in rustls.
    private static let ignoreUnexpectedEOF: UInt64 = 1 << 7

    /// TLS writes go through `write(2)`, which raises SIGPIPE on a closed connection; a runtime
    /// hosting guests must report that as an error instead of dying (Rust programs do the same).
    static let ignoreSigPipe: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    private static func readCertificates(_ pem: [UInt8], what: String) throws(NetworkIOError) -> [OpaquePointer] {
        var certificates: [OpaquePointer] = []
        let parsed: Bool = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(clamping: raw.count)) else { return false }
            defer { BIO_free(bio) }
            while let cert = PEM_read_bio_X509(bio, nil, nil, nil) { certificates.append(cert) }
            return true
        }
        ERR_clear_error()  // the loop ends with a "no start line" error
        guard parsed, !certificates.isEmpty else { throw .invalidInput("no PEM \(what) found") }
        return certificates
    }

    private static func readPrivateKey(_ pem: [UInt8]) throws(NetworkIOError) -> OpaquePointer {
        let key: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(clamping: raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else {
            ERR_clear_error()
            throw .invalidInput("no PEM private key found")
        }
        return key
    }
}

/// The OpenSSL error queue of this thread as one error (and the queue cleared).
func tlsError(_ context: String) -> NetworkIOError {
    var parts: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        parts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return .tls(parts.isEmpty ? context : "\(context): \(parts.joined(separator: "; "))")
}
