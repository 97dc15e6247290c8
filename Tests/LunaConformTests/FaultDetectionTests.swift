import ConformanceKit
import Foundation
import Testing

/// Each fault of the built-in adapter must be caught, as a first cause, with its category and
/// the rule it breaks.
@Suite("Injected faults are caught with the right category and rule")
struct FaultDetectionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let fault: String
        let category: DivergenceCategory
        let rule: String
        var testDescription: String { "\(fault) → \(category.rawValue) \(rule)" }
    }

    static let cases: [Case] = [
        Case(fault: "push-off-by-one", category: .wrongResourceIndex, rule: "R-RES-2"),
        Case(fault: "take-other-slot", category: .wrongResourceIndex, rule: "R-RES-5"),
        Case(fault: "drop-every-nth", category: .lostMessage, rule: "R-SEND-1"),
        Case(fault: "duplicate-message", category: .unexpectedMessage, rule: "R-SEND-1"),
        Case(fault: "ignore-tags", category: .unexpectedMessage, rule: "R-RECV-2"),
        Case(fault: "skip-search-searches-queue", category: .wrongOrder, rule: "R-RECV-7"),
        Case(fault: "early-timeout", category: .timeoutMismatch, rule: "R-RECV-5"),
        Case(fault: "ignore-timeout", category: .timeoutMismatch, rule: "R-RECV-5"),
        Case(fault: "link-died-returns-0", category: .wrongReturnCode, rule: "R-RECV-6"),
        Case(fault: "send-missing-traps", category: .trapMismatch, rule: "R-SEND-2"),
        Case(fault: "wrong-kind-take-consumes", category: .wrongResourceIndex, rule: "R-RES-6"),
    ]

    @Test("fault is caught", arguments: cases)
    func caught(_ c: Case) {
        let report = TestSupport.replay(TestSupport.scenarios, TestSupport.builtinAdapter([c.fault]), callTimeout: 3)
        let causes = report.outcomes.flatMap(\.firstCauses)
        #expect(!report.allPassed)
        #expect(
            causes.contains { $0.category == c.category && $0.rule == c.rule },
            "expected \(c.category.rawValue) \(c.rule); report:\n\(report.text())")
        #expect(report.outcomes.allSatisfy { $0.adapterFailure == nil }, "\(report.text())")
    }
}
