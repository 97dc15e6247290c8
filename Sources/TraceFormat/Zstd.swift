import CZstd

/// A reusable zstd compression context (not thread safe; one per writer thread).
final class ZstdCompressor {
    private let cctx: OpaquePointer
    private var out: [UInt8] = []

    init(level: Int32) {
        cctx = ZSTD_createCCtx()
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)
    }

    deinit { ZSTD_freeCCtx(cctx) }

    /// Compresses `src` into one zstd frame (content size and checksum included) and passes the
    /// frame's bytes to `body`.
    func compress<R>(_ src: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let bound = ZSTD_compressBound(src.count)
        if out.count < bound { out = [UInt8](repeating: 0, count: bound) }
        return try out.withUnsafeMutableBytes { dst in
            let n = ZSTD_compress2(cctx, dst.baseAddress, dst.count, src.baseAddress, src.count)
            if ZSTD_isError(n) != 0 {
                throw TraceFormatError(.io, offset: 0, "zstd compression failed: \(String(cString: ZSTD_getErrorName(n)))")
            }
            return try body(UnsafeRawBufferPointer(rebasing: dst[0..<n]))
        }
    }
}

/// A reusable zstd decompression context.
final class ZstdDecompressor {
    private let dctx: OpaquePointer

    init() {
        dctx = ZSTD_createDCtx()
        // Frames of this format never need a window above 64 MiB (the block limit).
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 27)
    }

    deinit { ZSTD_freeDCtx(dctx) }

    /// Decompresses one complete frame into `dst`; returns the decompressed size, or the zstd
    /// error name.
    func decompress(_ frame: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> Result<Int, ZstdError> {
        let n = ZSTD_decompressDCtx(dctx, dst.baseAddress, dst.count, frame.baseAddress, frame.count)
        if ZSTD_isError(n) != 0 {
            return .failure(ZstdError(code: ZSTD_getErrorCode(n), name: String(cString: ZSTD_getErrorName(n))))
        }
        return .success(n)
    }
}

/// A libzstd error.
struct ZstdError: Error {
    var code: ZSTD_ErrorCode
    var name: String
    var isOutputTooSmall: Bool { code == ZSTD_error_dstSize_tooSmall }
}
