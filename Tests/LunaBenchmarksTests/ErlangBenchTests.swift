import Foundation
import LunaTestSupport
import Testing

@testable import LunaBenchmarks

/// P5's Erlang columns: measured by running bench/luna_bench.erl when erl is installed, and a
/// stated reason instead of a figure when it is not. No timing assertions.
@Suite("luna-bench all: Erlang rows")
struct ErlangBenchTests {
    static var bench: String { LunaTestSupport.packageRoot + "/bench" }

    /// The P5 rows that compare a rate with Erlang's.
    static func rateRows(_ rows: [BenchRow]) -> [BenchRow] {
        rows.filter { $0.id == "P5" && $0.goal.contains("Erlang") }
    }

    @Test("with erl installed, P5's rate rows hold Erlang's figure and Luna÷Erlang; without it, they say so")
    func erlangRowsFollowTheMachine() async throws {
        let all = try await offPool {
            try AllBench.parse(["--quick", "--only", "P5", "--erlang-source", Self.bench]).measure().rows
        }
        let rows = Self.rateRows(all)
        #expect(rows.count == 3)
        if ErlangBench.onPath("erl") != nil {
            for row in rows {
                #expect(row.comparison.contains("Erlang/OTP") && row.comparison.contains("Luna÷Erlang"), "\(row.comparison)")
                #expect(row.met != nil)
            }
            let spawn = try #require(all.first { $0.what.contains("spawn") })
            #expect(spawn.comparison.contains("Luna÷Erlang"))
            let memory = try #require(all.first { $0.what.contains("memory") })
            #expect(memory.comparison.contains("B per process"))
        } else {
            for row in rows { #expect(row.comparison.contains("Erlang not installed"), "\(row.comparison)") }
        }
    }

    @Test("an erl that does not exist gives rows that say Erlang is not installed, with no verdict")
    func missingErlangIsStated() async throws {
        let all = try await offPool {
            try AllBench.parse(["--quick", "--only", "P5", "--erl", "/nonexistent/bin/erl", "--erlang-source", Self.bench])
                .measure().rows
        }
        let p5 = all.filter { $0.id == "P5" }
        #expect(p5.count == 5)
        for row in p5 {
            #expect(row.comparison.contains("Erlang not installed"), "\(row.comparison)")
            #expect(row.met == nil)
            #expect(!row.figure.isEmpty)
        }
    }
}
