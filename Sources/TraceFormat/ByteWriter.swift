/// Appends little-endian integers, LEB128 varints and length-prefixed strings to a byte array.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    @inline(__always) mutating func u8(_ v: UInt8) { bytes.append(v) }

    @inline(__always) mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v)); bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    @inline(__always) mutating func u32(_ v: UInt32) {
        for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) }
    }

    @inline(__always) mutating func u64(_ v: UInt64) {
        for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }

    /// Unsigned LEB128: 7 bits per byte, low group first, high bit set on all but the last byte.
    @inline(__always) mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Bytes `varint(v)` takes.
    static func varintSize(_ v: UInt64) -> Int {
        var n = 1
        var v = v >> 7
        while v > 0 { n += 1; v >>= 7 }
        return n
    }

    /// Zigzag then LEB128: 0, -1, 1, -2, … become 0, 1, 2, 3, …
    @inline(__always) mutating func svarint(_ v: Int64) { varint(Zigzag.encode(v)) }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }
}

/// Zigzag mapping of signed to unsigned integers.
enum Zigzag {
    @inline(__always) static func encode(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    @inline(__always) static func decode(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }
}

/// Reads what `ByteWriter` writes, bounds-checked; every failure names the offset.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var pos: Int
    let end: Int
    /// File offset of `bytes[0]`, for error messages.
    let base: UInt64

    init(_ bytes: UnsafeRawBufferPointer, from: Int = 0, to: Int? = nil, base: UInt64) {
        self.bytes = bytes
        self.pos = from
        self.end = to ?? bytes.count
        self.base = base
    }

    var remaining: Int { end - pos }
    var atEnd: Bool { pos >= end }
    var offset: UInt64 { base + UInt64(pos) }

    func fail(_ detail: String) -> TraceFormatError {
        TraceFormatError(.badEvent, offset: offset, detail)
    }

    @inline(__always) mutating func u8() throws(TraceFormatError) -> UInt8 {
        guard pos < end else { throw fail("unexpected end of data") }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func u16() throws(TraceFormatError) -> UInt16 {
        guard remaining >= 2 else { throw fail("unexpected end of data") }
        defer { pos += 2 }
        return UInt16(bytes[pos]) | UInt16(bytes[pos + 1]) << 8
    }

    mutating func u32() throws(TraceFormatError) -> UInt32 {
        guard remaining >= 4 else { throw fail("unexpected end of data") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[pos + i]) << UInt32(8 * i) }
        pos += 4
        return v
    }

    mutating func u64() throws(TraceFormatError) -> UInt64 {
        guard remaining >= 8 else { throw fail("unexpected end of data") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[pos + i]) << UInt64(8 * i) }
        pos += 8
        return v
    }

    @inline(__always) mutating func varint() throws(TraceFormatError) -> UInt64 {
        if pos < end {
            let b = bytes[pos]
            if b < 0x80 { pos += 1; return UInt64(b) }
        }
        return try varintSlow()
    }

    mutating func varintSlow() throws(TraceFormatError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = pos
        while true {
            guard pos < end else { pos = start; throw fail("varint runs past the end of its data") }
            let b = bytes[pos]
            pos += 1
            if shift == 63 && b > 1 { pos = start; throw fail("varint longer than 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always) mutating func svarint() throws(TraceFormatError) -> Int64 { Zigzag.decode(try varint()) }

    /// A length that must fit in the remaining bytes (each counted item takes ≥ 1 byte).
    @inline(__always)
    mutating func count(_ what: @autoclosure () -> String) throws(TraceFormatError) -> Int {
        let at = pos
        let n = try varint()
        guard n <= UInt64(remaining) else { pos = at; throw countError(what(), n) }
        return Int(n)
    }

    @inline(never)
    func countError(_ what: String, _ n: UInt64) -> TraceFormatError {
        fail("\(what) count \(n) exceeds the \(remaining) bytes left")
    }

    /// Reads the header of a record that must have code `code` and returns a reader over its
    /// body, moving past the record. `mismatch` words the error for another code; `length`
    /// names the length field in its error.
    mutating func record(
        _ code: UInt64, length: @autoclosure () -> String, mismatch: (UInt64) -> String
    ) throws(TraceFormatError) -> ByteReader {
        let at = offset
        let found = try varint()
        guard found == code else { throw TraceFormatError(.badEvent, offset: at, mismatch(found)) }
        let len = try count(length())
        let body = ByteReader(bytes, from: pos, to: pos + len, base: base)
        pos += len
        return body
    }

    mutating func bytesArray(_ n: Int) throws(TraceFormatError) -> [UInt8] {
        guard n <= remaining else { throw fail("\(n) bytes wanted, \(remaining) left") }
        defer { pos += n }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + n)]))
    }

    mutating func string(_ what: String) throws(TraceFormatError) -> String {
        let n = try count(what)
        defer { pos += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + n)]), as: UTF8.self)
    }
}
