/// Where a module's active data segments put their bytes, read from the binary, and the same
/// binary with those segments' bytes removed.
///
/// A module qualifies when its initial memory content is a constant of the module: exactly one
/// memory, defined (not imported), 32-bit, not shared, exported (so that each instance's memory
/// can be reached), no start function (it would run before the image is in place), and every
/// active data segment writes memory 0 at an `i32.const` offset, inside the memory's initial
/// size. Anything else (an offset read from a global, an out-of-bounds segment, an unknown
/// layout) yields no layout, and the module instantiates by copying its segments as usual.
///
/// The rewritten binary keeps every segment, in order, with its mode, memory index and offset
/// expression: an active segment only loses its bytes. Segment indices, the data count,
/// passive segments (`memory.init`, `data.drop`) and instantiation's bounds checks are thus
/// unchanged; active segments are dropped after instantiation, so at run time they are empty
/// either way.
struct MemoryImageLayout {
    /// One active segment: `bytes` (a range of the original binary) go to memory `offset`.
    struct Segment {
        let offset: Int
        let bytes: Range<Int>
    }

    /// The active segments, in module order (a later one overwrites an earlier one's bytes).
    let segments: [Segment]
    /// The memory's initial size in bytes.
    let initialBytes: Int
    /// The name the memory is exported under.
    let memoryExport: String
    /// The module binary with the active segments' bytes removed.
    let strippedBinary: [UInt8]

    /// The layout of `bytes`, or nil when the module does not qualify (see the type).
    init?(bytes: [UInt8]) {
        var reader = Reader(bytes: bytes)
        guard bytes.count >= 8, bytes[0..<4] == [0x00, 0x61, 0x73, 0x6D] else { return nil }
        reader.position = 8
        var memoryMinPages: UInt64?
        var memoryExport: String?
        var dataSection: Range<Int>?
        var segments: [Segment] = []
        var strippedData: [UInt8] = []
        while !reader.atEnd {
            let sectionStart = reader.position
            guard let id = reader.byte(), let size = reader.u32(),
                Int(size) <= bytes.count - reader.position
            else { return nil }
            let body = reader.position..<(reader.position + Int(size))
            var section = Reader(bytes: bytes, position: body.lowerBound, end: body.upperBound)
            switch id {
            case 2:  // imports: a memory import means the memory is not the module's own
                guard let count = section.u32() else { return nil }
                for _ in 0..<count {
                    guard section.name() != nil, section.name() != nil, let kind = section.byte() else { return nil }
                    switch kind {
                    case 0x00: guard section.u32() != nil else { return nil }  // function
                    default: return nil  // table, memory, global, tag: not worth decoding here
                    }
                }
            case 5:  // memories
                guard let count = section.u32(), count == 1, let flags = section.byte(), flags <= 1,
                    let min = section.u32()
                else { return nil }
                if flags == 1 { guard section.u32() != nil else { return nil } }
                memoryMinPages = UInt64(min)
            case 7:  // exports
                guard let count = section.u32() else { return nil }
                for _ in 0..<count {
                    guard let name = section.name(), let kind = section.byte(), let index = section.u32() else {
                        return nil
                    }
                    if kind == 0x02, index == 0, memoryExport == nil { memoryExport = name }
                }
            case 8:  // start
                return nil
            case 11:  // data
                guard let count = section.u32() else { return nil }
                strippedData = Reader.leb(UInt64(count))
                for _ in 0..<count {
                    let segmentStart = section.position
                    guard let mode = section.u32() else { return nil }
                    switch mode {
                    case 1:  // passive: kept as it is
                        guard let length = section.u32(), section.skip(Int(length)) else { return nil }
                        strippedData += bytes[segmentStart..<section.position]
                    case 0, 2:  // active, memory 0 (implicit) or explicit
                        if mode == 2 { guard section.u32() == 0 else { return nil } }
                        guard section.byte() == 0x41, let offset = section.s32(), section.byte() == 0x0B
                        else { return nil }
                        strippedData += bytes[segmentStart..<section.position]  // mode, memory, offset
                        strippedData.append(0)  // and no bytes
                        guard let length = section.u32(), Int(length) <= section.remaining else { return nil }
                        segments.append(
                            Segment(
                                offset: Int(UInt32(bitPattern: offset)),
                                bytes: section.position..<(section.position + Int(length))))
                        _ = section.skip(Int(length))
                    default:
                        return nil
                    }
                }
                guard section.atEnd else { return nil }
                dataSection = sectionStart..<body.upperBound
            default:
                break
            }
            reader.position = body.upperBound
        }
        guard let memoryMinPages, let memoryExport, let dataSection, !segments.isEmpty else { return nil }
        let initialBytes = Int(memoryMinPages) * 65536
        for segment in segments where segment.offset + segment.bytes.count > initialBytes { return nil }
        self.segments = segments
        self.initialBytes = initialBytes
        self.memoryExport = memoryExport
        var stripped: [UInt8] = []
        stripped.reserveCapacity(bytes.count - (dataSection.count - strippedData.count))
        stripped += bytes[..<dataSection.lowerBound]
        stripped.append(11)
        stripped += Reader.leb(UInt64(strippedData.count))
        stripped += strippedData
        stripped += bytes[dataSection.upperBound...]
        self.strippedBinary = stripped
    }

    /// A cursor over a module binary's LEB128 integers, bytes and names.
    private struct Reader {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        init(bytes: [UInt8], position: Int = 0, end: Int? = nil) {
            self.bytes = bytes
            self.position = position
            self.end = end ?? bytes.count
        }

        var atEnd: Bool { position >= end }
        var remaining: Int { end - position }

        mutating func byte() -> UInt8? {
            guard position < end else { return nil }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func skip(_ count: Int) -> Bool {
            guard count >= 0, count <= remaining else { return false }
            position += count
            return true
        }

        mutating func u32() -> UInt32? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard let b = byte(), shift < 35 else { return nil }
                result |= UInt64(b & 0x7F) << shift
                shift += 7
                if b & 0x80 == 0 { break }
            }
            return result <= UInt64(UInt32.max) ? UInt32(result) : nil
        }

        mutating func s32() -> Int32? {
            var result: Int64 = 0
            var shift: Int64 = 0
            var b: UInt8 = 0
            repeat {
                guard let next = byte(), shift < 35 else { return nil }
                b = next
                result |= Int64(b & 0x7F) << shift
                shift += 7
            } while b & 0x80 != 0
            if shift < 64, b & 0x40 != 0 { result |= -(Int64(1) << shift) }
            return Int32(exactly: result)
        }

        mutating func name() -> String? {
            guard let length = u32(), Int(length) <= remaining else { return nil }
            defer { position += Int(length) }
            return String(decoding: bytes[position..<(position + Int(length))], as: UTF8.self)
        }

        /// `value` as unsigned LEB128.
        static func leb(_ value: UInt64) -> [UInt8] {
            var value = value
            var out: [UInt8] = []
            repeat {
                var b = UInt8(value & 0x7F)
                value >>= 7
                if value != 0 { b |= 0x80 }
                out.append(b)
            } while value != 0
            return out
        }
    }
}
