import ConformanceKit
import Foundation
import Testing
import TraceFormat

@Suite("Correct adapters pass the scenario traces")
struct ConformancePassTests {
    @Test("the Python adapter passes every scenario")
    func pythonPasses() {
        let report = TestSupport.replay(TestSupport.scenarios, TestSupport.pythonAdapter)
        #expect(report.allPassed, "\(report.text())")
        #expect(report.summaryLine == "\(TestSupport.scenarios.count) passed, 0 failed, 0 skipped")
    }

    @Test("the built-in LunaRuntime adapter passes every scenario")
    func builtinPasses() {
        let report = TestSupport.replay(TestSupport.scenarios, TestSupport.builtinAdapter())
        #expect(report.allPassed, "\(report.text())")
    }

    @Test("replaying the scenarios 20 times gives identical reports")
    func repeatable() {
        let first = TestSupport.replay(TestSupport.scenarios, TestSupport.pythonAdapter).json()
        for _ in 0..<19 {
            #expect(TestSupport.replay(TestSupport.scenarios, TestSupport.pythonAdapter).json() == first)
        }
        let builtin = TestSupport.replay(TestSupport.scenarios, TestSupport.builtinAdapter()).json()
        for _ in 0..<19 {
            #expect(TestSupport.replay(TestSupport.scenarios, TestSupport.builtinAdapter()).json() == builtin)
        }
    }
}
