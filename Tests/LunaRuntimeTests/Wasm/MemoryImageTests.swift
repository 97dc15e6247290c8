import LunaSupport
import Testing
import WAT
import WasmKit

@testable import LunaRuntime

/// Copy-on-write memory images: an instance whose memory is the mapped image must hold exactly
/// what copying the data segments gives, behave the same for passive segments and growth, and
/// never let one instance's writes reach another.
@Suite("Guest memory images")
struct MemoryImageTests {
    /// A module loaded both ways: with a memory image, and copying its segments.
    struct Pair {
        let imaged: GuestModule
        let copying: GuestModule

        init(_ wat: String) throws {
            imaged = try GuestModule(wat: wat, name: "imaged")
            copying = try GuestModule(bytes: try wat2wasm(wat), name: "copying", memoryImages: false)
        }
    }

    /// An instance of `module` in a store of its own, with its memory and how the image went in.
    static func instantiate(
        _ module: GuestModule
    ) throws -> (instance: Instance, memory: Memory, placement: MemoryImage.Placement?) {
        let store = Store(engine: GuestEngine.makeProcessEngine())
        let (instance, placement) = try module.instantiate(store: store, imports: Imports())
        let memory = try #require(instance.exports[memory: "memory"])
        return (instance, memory, placement)
    }

    static func bytes(of memory: Memory) -> [UInt8] {
        memory.withUnsafeBufferPointer(offset: 0, count: memory.byteCount) { Array($0) }
    }

    /// The placement an image gets where the kernel can confirm the memory's reservation.
    static var expectedPlacement: MemoryImage.Placement { MemoryImage.canQueryMappings ? .mapped : .copied }

    /// `random`'s next value modulo `n`: the modules of the seeds below were generated so (not
    /// with `SplitMix.below`'s multiply-shift), and a seed must keep giving the same module.
    static func below(_ n: Int, _ random: inout SplitMix) -> Int { Int(random.next() % UInt64(n)) }

    static func watString(_ bytes: [UInt8]) -> String {
        bytes.map { "\\" + String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// A module of one memory (1–3 pages) with active segments at random offsets (overlapping,
    /// crossing pages, ending at the memory's end, all zeros, empty) and a passive one.
    static func generatedModule(seed: UInt64) -> String {
        var random = SplitMix(seed: seed)
        let pages = 1 + below(3, &random)
        let size = pages * 65536
        var segments: [String] = []
        for i in 0..<(1 + below(12, &random)) {
            let length: Int
            switch below(5, &random) {
            case 0: length = 0
            case 1: length = 1 + below(16, &random)
            case 2: length = 4096 + below(9000, &random)
            default: length = 1 + below(3000, &random)
            }
            let offset = i == 0 && below(2, &random) == 0 ? size - length : below(size - length + 1, &random)
            let zeros = below(6, &random) == 0
            let bytes = (0..<length).map { _ in zeros ? UInt8(0) : UInt8(truncatingIfNeeded: random.next() | 1) }
            let memory = below(2, &random) == 0 ? "" : "(memory 0) "
            segments.append(#"(data \#(memory)(i32.const \#(offset)) "\#(watString(bytes))")"#)
        }
        let passive = (0..<(1 + below(64, &random))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return """
            (module
              (memory (export "memory") \(pages))
              \(segments.joined(separator: "\n  "))
              (data $passive "\(watString(passive))")
              (func (export "init_passive") (param i32 i32 i32) (memory.init $passive (local.get 0) (local.get 1) (local.get 2))))
            """
    }

    @Test("memory contents equal the copying path's on generated modules", arguments: 0..<40)
    func generatedEquivalence(seed: UInt64) throws {
        let pair = try Pair(Self.generatedModule(seed: seed))
        #expect(pair.imaged.memoryImage != nil)
        #expect(pair.copying.memoryImage == nil)
        let imaged = try Self.instantiate(pair.imaged)
        let copied = try Self.instantiate(pair.copying)
        #expect(imaged.placement == .empty || imaged.placement == Self.expectedPlacement)
        #expect(copied.placement == nil)
        #expect(imaged.memory.byteCount == copied.memory.byteCount)
        #expect(Self.bytes(of: imaged.memory) == Self.bytes(of: copied.memory), "seed \(seed)")
    }

    @Test("the large generated guest's image is mapped and holds its data")
    func largeGuestShape() throws {
        // Segments far apart with zeros between: one mapping over the span, holes read as 0.
        let wat = """
            (module
              (memory (export "memory") 300)
              (data (i32.const 1024) "\\01\\02\\03")
              (data (i32.const 16777216) "\(Self.watString([UInt8](repeating: 0, count: 5000)))")
              (data (i32.const 19000000) "\\07\\08"))
            """
        let pair = try Pair(wat)
        let image = try #require(pair.imaged.memoryImage)
        #expect(image.span == 0..<(19_000_002 + 4095) / 4096 * 4096)
        let imaged = try Self.instantiate(pair.imaged)
        #expect(imaged.placement == Self.expectedPlacement)
        #expect(Self.bytes(of: imaged.memory) == Self.bytes(of: try Self.instantiate(pair.copying).memory))
    }

    @Test("writes stay in the instance that made them; later instances see the image")
    func copyOnWrite() throws {
        let module = try GuestModule(
            wat: """
                (module
                  (memory (export "memory") 1)
                  (data (i32.const 100) "original")
                  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))
                """)
        let first = try Self.instantiate(module)
        let second = try Self.instantiate(module)
        _ = try first.instance.exports[function: "poke"]!.invoke([.i32(100), .i32(UInt32(UInt8(ascii: "X")))])
        _ = try first.instance.exports[function: "poke"]!.invoke([.i32(5000), .i32(9)])
        let third = try Self.instantiate(module)
        func text(_ memory: Memory) -> String {
            memory.withUnsafeBufferPointer(offset: 100, count: 8) { String(decoding: $0, as: UTF8.self) }
        }
        #expect(text(first.memory) == "Xriginal")
        #expect(text(second.memory) == "original")
        #expect(text(third.memory) == "original")
        #expect(third.memory.withUnsafeBufferPointer(offset: 5000, count: 1) { $0[0] } == 0)
    }

    @Test("memory.init and data.drop of passive segments behave as on the copying path")
    func passiveSegments() throws {
        let pair = try Pair(
            """
            (module
              (memory (export "memory") 1)
              (data $active (i32.const 16) "active")
              (data $passive "passive bytes")
              (func (export "init_passive") (param i32 i32 i32) (memory.init $passive (local.get 0) (local.get 1) (local.get 2)))
              (func (export "init_active") (param i32 i32 i32) (memory.init $active (local.get 0) (local.get 1) (local.get 2)))
              (func (export "drop_passive") (data.drop $passive)))
            """)
        #expect(pair.imaged.memoryImage != nil)
        func run(_ module: GuestModule) throws -> [String] {
            let (instance, memory, _) = try Self.instantiate(module)
            var outcomes: [String] = []
            func call(_ name: String, _ args: [Value] = []) {
                do {
                    _ = try instance.exports[function: name]!.invoke(args)
                    outcomes.append("\(name): ok")
                } catch {
                    outcomes.append("\(name): trap")
                }
            }
            call("init_passive", [.i32(1000), .i32(0), .i32(13)])
            call("init_passive", [.i32(2000), .i32(8), .i32(6)])  // past the segment's end
            call("init_active", [.i32(3000), .i32(0), .i32(0)])  // dropped: only length 0 works
            call("init_active", [.i32(3000), .i32(0), .i32(1)])
            call("drop_passive")
            call("init_passive", [.i32(4000), .i32(0), .i32(1)])
            call("init_passive", [.i32(4000), .i32(0), .i32(0)])
            outcomes.append(memory.withUnsafeBufferPointer(offset: 1000, count: 13) { String(decoding: $0, as: UTF8.self) })
            outcomes.append(memory.withUnsafeBufferPointer(offset: 16, count: 6) { String(decoding: $0, as: UTF8.self) })
            return outcomes
        }
        let imaged = try run(pair.imaged)
        #expect(imaged == (try run(pair.copying)))
        #expect(imaged.first == "init_passive: ok")
        #expect(imaged[3] == "init_active: trap")
        #expect(imaged.suffix(2) == ["passive bytes", "active"])
    }

    @Test("memory.grow after an image mapping keeps the image and adds zeroed, writable pages")
    func growAfterImage() throws {
        let module = try GuestModule(
            wat: """
                (module
                  (memory (export "memory") 2 10)
                  (data (i32.const 65530) "across the page end")
                  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
                  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
                  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))
                """)
        let (instance, memory, placement) = try Self.instantiate(module)
        #expect(placement == Self.expectedPlacement)
        #expect(try instance.exports[function: "grow"]!.invoke([.i32(3)]) == [.i32(2)])
        #expect(memory.byteCount == 5 * 65536)
        _ = try instance.exports[function: "poke"]!.invoke([.i32(4 * 65536 + 7), .i32(42)])
        #expect(try instance.exports[function: "peek"]!.invoke([.i32(4 * 65536 + 7)]) == [.i32(42)])
        #expect(try instance.exports[function: "peek"]!.invoke([.i32(3 * 65536)]) == [.i32(0)])
        #expect(
            memory.withUnsafeBufferPointer(offset: 65530, count: 19) { String(decoding: $0, as: UTF8.self) }
                == "across the page end")
        #expect(try instance.exports[function: "grow"]!.invoke([.i32(6)]) == [.i32(UInt32(bitPattern: -1))])
        #expect(throws: (any Error).self) { try instance.exports[function: "peek"]!.invoke([.i32(5 * 65536)]) }
    }

    @Test(
        "offsets that are not constants keep the copying path",
        arguments: [
            "(global $g i32 (i32.const 4096)) (data (global.get $g) \"from a global\")",
            "(data (i32.add (i32.const 4000) (i32.const 96)) \"from a global\")",
        ])
    func nonConstantOffset(declarations: String) throws {
        let wat = """
            (module
              (memory (export "memory") 1)
              (data (i32.const 4096) "overwritten")
              \(declarations))
            """
        let module: GuestModule
        do {
            module = try GuestModule(wat: wat)
        } catch {
            // WasmKit without extended constant expressions: nothing to compare.
            #expect(!declarations.contains("global.get"), "\(error)")
            return
        }
        #expect(module.memoryImage == nil)
        let (_, memory, placement) = try Self.instantiate(module)
        #expect(placement == nil)
        #expect(
            memory.withUnsafeBufferPointer(offset: 4096, count: 13) { String(decoding: $0, as: UTF8.self) }
                == "from a global")
    }

    @Test("a start function, an unexported memory, or an out-of-bounds segment keep the copying path")
    func unsupportedShapes() throws {
        let start = try GuestModule(
            wat: """
                (module (memory (export "memory") 1) (data (i32.const 8) "x")
                  (func $s (i32.store8 (i32.const 8) (i32.const 89))) (start $s))
                """)
        #expect(start.memoryImage == nil)
        #expect(try Self.instantiate(start).memory.withUnsafeBufferPointer(offset: 8, count: 1) { $0[0] } == 89)

        let hidden = try GuestModule(wat: #"(module (memory 1) (data (i32.const 8) "x"))"#)
        #expect(hidden.memoryImage == nil)

        let wat = #"(module (memory (export "memory") 1) (data (i32.const 65535) "xy"))"#
        let binary = try wat2wasm(wat)
        var errors: [String] = []
        for images in [true, false] {
            do {
                _ = try GuestModule(bytes: binary, name: "oob", memoryImages: images)
                errors.append("loaded")
            } catch {
                errors.append(error.description)
            }
        }
        #expect(errors[0] == errors[1])
        #expect(errors[0] != "loaded")
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
