import ConformanceFuzz
import LunaSupport
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

    /// The PRNG's sequence is pinned: workloads are generated from it, and docs/FUZZING.md and the
    /// tests cite seeds, so a change to it would silently make every cited seed another workload.
    /// (SplitMix64's first output from seed 1 is the published 0x910a2dec89025cc1.)
    @Test("the PRNG gives the same values for a seed as it always has")
    func pinnedSequence() {
        var r = SplitMix(seed: 1)
        #expect([r.next(), r.next(), r.next()] == [0x910a_2dec_8902_5cc1, 0xbeeb_8da1_658e_ec67, 0xf893_a2ee_fb32_555e])
        #expect(r.below(10) == 4)
        #expect(r.int(1...6) == 3)
        #expect(r.chance(0.5) == false)
        #expect(r.weighted([1, 2, 3]) == 2)
        #expect(r.below(1000) == 523)
    }
}
