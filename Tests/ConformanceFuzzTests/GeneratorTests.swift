import ConformanceFuzz
import Testing

@Suite("Workload generation")
struct GeneratorTests {
    @Test("the same seed gives the same workload; other seeds give others")
    func sameSeed() {
        let g = WorkloadGenerator()
        for seed: UInt64 in [1, 2, 42, 1 << 40] {
            #expect(g.generate(seed: seed) == g.generate(seed: seed))
        }
        #expect(g.generate(seed: 1) != g.generate(seed: 2))
    }
}
