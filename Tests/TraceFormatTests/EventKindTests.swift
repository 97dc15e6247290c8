import Testing

@testable import TraceFormat

@Suite struct EventKindTests {
    @Test func namesRoundTrip() {
        for kind in EventKind.allKnown {
            #expect(EventKind(name: kind.name) == kind)
        }
        #expect(EventKind(name: "create_data") == .createData)
    }

    @Test func unknownKindsStayRepresentable() {
        let kind = EventKind(rawValue: 60_000)
        #expect(!kind.isKnown)
        #expect(kind.name == "kind_60000")
        #expect(kind.namespace == .unknown)
    }

    @Test func argumentsSpillPastFourInline() {
        var args: EventArguments = [1, 2, 3]
        args.append(4)
        args.append(Int64.min)
        #expect(Array(args) == [1, 2, 3, 4, Int64.min])
        #expect(args.at(5) == nil)
        #expect(args == EventArguments([1, 2, 3, 4, Int64.min]))
    }
}
