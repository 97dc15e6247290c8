import CLunaMemory
import WasmKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A module's initialised memory, built once per module in an anonymous file and mapped
/// copy-on-write over each instance's memory (what wasmtime calls a memory image).
///
/// Instantiating a module copies its data segments into fresh pages: for a large module every
/// spawn faults in and fills megabytes, and frees them again at exit. With an image the module
/// is instantiated from a binary whose active segments carry no bytes (`MemoryImageLayout`),
/// then one `mmap(MAP_FIXED | MAP_PRIVATE)` puts the image over the memory: pages are shared
/// with the file until the guest writes them, and pages it never touches cost nothing. The
/// guest sees the same bytes either way, since no guest code runs between instantiation and the
/// mapping (modules with a start function do not get an image).
///
/// The mapping replaces part of the memory's address range, so it is only done where that range
/// is certainly the memory's own reservation: WasmKit's mprotect-checked memory is a 4 GiB
/// `PROT_NONE` reservation whose first pages are committed read-write, and the kernel's mapping
/// query (`PROCMAP_QUERY`, Linux 6.11) confirms exactly that layout. Otherwise (an older kernel,
/// WasmKit's fallback to a heap buffer when a reservation fails, a failed `mmap`) the image is
/// copied into the memory with `pread`, which gives the same contents.
package final class MemoryImage: @unchecked Sendable {
    // @unchecked Sendable: immutable after init; the file is only read (pread, mmap) afterwards.

    /// How an image got into a memory.
    package enum Placement: Equatable, Sendable {
        /// Mapped copy-on-write.
        case mapped
        /// Copied (no mapping was possible).
        case copied
        /// The image holds only zeros: nothing to put in place.
        case empty
    }

    /// The name the module exports its memory under.
    package let memoryExport: String
    /// The page-aligned range of memory offsets the image covers (empty when all its bytes are 0).
    package let span: Range<Int>
    /// The memory's initial size in bytes.
    package let initialBytes: Int
    private let file: Int32

    /// Writes the active segments of `layout` (bytes of `binary`) into a new anonymous file;
    /// nil when the system has no anonymous files or a write fails.
    init?(layout: MemoryImageLayout, binary: [UInt8]) {
        let pageSize = Self.pageSize
        let file = luna_memfd_create("luna-memory-image")
        guard file >= 0 else { return nil }
        // Pages that hold only zeros are left as holes, unless segments overlap (a later
        // segment's zeros then overwrite an earlier one's bytes).
        let sorted = layout.segments.sorted { $0.offset < $1.offset }
        let overlapping = zip(sorted, sorted.dropFirst()).contains { $0.offset + $0.bytes.count > $1.offset }
        var low = Int.max, high = 0
        let written: Bool = binary.withUnsafeBytes { all in
            for segment in layout.segments {
                var at = segment.offset
                let end = segment.offset + segment.bytes.count
                while at < end {
                    let chunkEnd = min(end, (at / pageSize + 1) * pageSize)
                    let source = UnsafeRawBufferPointer(
                        rebasing: all[(segment.bytes.lowerBound + at - segment.offset)...]
                            .prefix(chunkEnd - at))
                    if overlapping || !Self.isZero(source) {
                        guard Self.writeAll(file, source, at: at) else { return false }
                        low = min(low, at / pageSize * pageSize)
                        high = max(high, (chunkEnd + pageSize - 1) / pageSize * pageSize)
                    }
                    at = chunkEnd
                }
            }
            return true
        }
        guard written, ftruncate(file, off_t(max(high, 0))) == 0 else {
            close(file)
            return nil
        }
        self.file = file
        self.span = low < high ? low..<high : 0..<0
        self.memoryExport = layout.memoryExport
        self.initialBytes = layout.initialBytes
    }

    deinit { close(file) }

    /// Puts the image into `memory`, a fresh instance's memory whose initial size the layout
    /// checked against every segment.
    ///
    /// - Throws: `LunaTrap` when the memory is smaller than the image (instantiation would have
    ///   failed on the copying path) or the copy fails.
    @discardableResult
    package func place(into memory: Memory) throws(LunaTrap) -> Placement {
        guard !span.isEmpty else { return .empty }
        let size = memory.byteCount
        guard size >= span.upperBound else {
            throw LunaTrap("memory image of \(span.upperBound) bytes does not fit a memory of \(size) bytes")
        }
        let placed = memory.withUnsafeMutableBufferPointer(offset: 0, count: size) { buffer -> Placement? in
            guard let base = buffer.baseAddress else { return nil }
            let target = base + span.lowerBound
            if Self.isReservation(base: base, committed: size) {
                let mapped = mmap(
                    target, span.count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                    file, off_t(span.lowerBound))
                if mapped == target { return .mapped }
                // A failed MAP_FIXED may have left the range unmapped: make it plain memory again.
                guard
                    mmap(
                        target, span.count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
                        -1, 0) == target
                else { return nil }
            }
            return Self.readAll(
                file, into: UnsafeMutableRawBufferPointer(start: target, count: span.count),
                at: span.lowerBound) ? .copied : nil
        }
        guard let placed else { throw LunaTrap("could not put the module's memory image in place") }
        return placed
    }

    /// Whether the kernel answers mapping queries (so images can be mapped, not only copied).
    package static var canQueryMappings: Bool {
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        defer { probe.deallocate() }
        var start: UInt64 = 0, end: UInt64 = 0, flags: UInt64 = 0
        return mapsFile >= 0
            && luna_query_mapping(mapsFile, UInt64(UInt(bitPattern: probe)), &start, &end, &flags) == 1
    }

    // MARK: - Helpers

    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// `/proc/self/maps`, open for the mapping query (-1 where there is none).
    private static let mapsFile: Int32 = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)

    /// Whether `base` starts a WasmKit memory reservation whose first `committed` bytes are
    /// read-write and whose rest, to at least 4 GiB, is inaccessible.
    private static func isReservation(base: UnsafeMutableRawPointer, committed: Int) -> Bool {
        let address = UInt64(UInt(bitPattern: base))
        guard mapsFile >= 0, address % UInt64(pageSize) == 0, committed > 0 else { return false }
        let readWrite = UInt64(LUNA_MAPPING_READABLE) | UInt64(LUNA_MAPPING_WRITABLE)
        let access = readWrite | UInt64(LUNA_MAPPING_EXECUTABLE) | UInt64(LUNA_MAPPING_SHARED)
        var start: UInt64 = 0, end: UInt64 = 0, flags: UInt64 = 0
        guard luna_query_mapping(mapsFile, address, &start, &end, &flags) == 1,
            flags & access == readWrite, end == address + UInt64(committed)
        else { return false }
        guard luna_query_mapping(mapsFile, end, &start, &end, &flags) == 1,
            start == address + UInt64(committed), flags & access == 0,
            end >= address + (UInt64(1) << 32)
        else { return false }
        return true
    }

    private static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let count = bytes.count
        while i + 8 <= count {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
            i += 8
        }
        while i < count {
            if bytes[i] != 0 { return false }
            i += 1
        }
        return true
    }

    private static func writeAll(_ file: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = pwrite(file, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    private static func readAll(_ file: Int32, into bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = pread(file, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}
