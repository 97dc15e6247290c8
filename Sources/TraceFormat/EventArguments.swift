/// The positional integer arguments of an event.
///
/// Up to four values are stored inline (no allocation), which covers every message call;
/// longer lists spill to an array.
public struct EventArguments: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral,
    CustomStringConvertible
{
    @usableFromInline var count0: UInt8
    @usableFromInline var a0: Int64, a1: Int64, a2: Int64, a3: Int64
    @usableFromInline var spill: [Int64]

    /// An empty list.
    @inlinable
    public init() {
        count0 = 0; a0 = 0; a1 = 0; a2 = 0; a3 = 0; spill = []
    }

    /// A list holding `values`.
    public init<S: Sequence>(_ values: S) where S.Element == Int64 {
        self.init()
        for v in values { append(v) }
    }

    public init(arrayLiteral elements: Int64...) { self.init(elements) }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { Int(count0) + spill.count }

    public subscript(position: Int) -> Int64 {
        @inlinable get {
            precondition(position >= 0 && position < endIndex, "argument index out of range")
            switch position {
            case 0: return a0
            case 1: return a1
            case 2: return a2
            case 3: return a3
            default: return spill[position - 4]
            }
        }
        set {
            precondition(position >= 0 && position < endIndex, "argument index out of range")
            switch position {
            case 0: a0 = newValue
            case 1: a1 = newValue
            case 2: a2 = newValue
            case 3: a3 = newValue
            default: spill[position - 4] = newValue
            }
        }
    }

    /// Appends one value.
    @inlinable
    public mutating func append(_ value: Int64) {
        switch count0 {
        case 0: a0 = value; count0 = 1
        case 1: a1 = value; count0 = 2
        case 2: a2 = value; count0 = 3
        case 3: a3 = value; count0 = 4
        default: spill.append(value)
        }
    }

    /// Empties the list in place, keeping it inline (a decoder refilling one event's arguments
    /// then neither builds nor assigns a new list).
    @inline(__always)
    mutating func removeAllInline() {
        if !spill.isEmpty { spill = [] }
        count0 = 0
    }

    /// The value at `index`, or `nil` when the list is shorter.
    @inlinable
    public func at(_ index: Int) -> Int64? { index < endIndex ? self[index] : nil }

    public static func == (lhs: EventArguments, rhs: EventArguments) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for v in self { hasher.combine(v) }
    }

    public var description: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
