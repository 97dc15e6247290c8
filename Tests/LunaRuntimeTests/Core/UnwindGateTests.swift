import Testing

@testable import LunaRuntime

/// The gate that lets the threads of processes that died parked unwind a few at a time: each
/// unwound thread admits the next queued one, a thread that woke by itself gives up its turn,
/// and no turn is lost.
@Suite("Unwind gate")
struct UnwindGateTests {
    @Test("one at a time: each unwound thread admits the next, skipping those that left early")
    func admitsInTurn() {
        let gate = UnwindGate(limit: 1)
        let a = Mailbox(), b = Mailbox(), c = Mailbox(), d = Mailbox()
        gate.admit(a)
        gate.admit(b)
        gate.admit(c)
        #expect(a.gateState == 1 && b.gateState == 0 && c.gateState == 0)
        #expect(gate.queued == 2)
        gate.unwound(b)  // woke by itself (a timeout) before its turn
        #expect(b.gateState == 2)
        #expect(gate.queued == 1)
        gate.unwound(a)  // admits c, not b
        #expect(c.gateState == 1)
        #expect(gate.queued == 0)
        gate.unwound(c)  // no one left: the turn is free
        gate.admit(d)
        #expect(d.gateState == 1)
    }

    @Test("a thread that unwound before it was queued takes no turn")
    func goneBeforeAdmission() {
        let gate = UnwindGate(limit: 1)
        let early = Mailbox(), next = Mailbox()
        gate.unwound(early)  // woke and unwound while the killer was still publishing its end
        gate.admit(early)
        #expect(early.gateState == 2)
        gate.admit(next)  // the turn was not taken by `early`
        #expect(next.gateState == 1)
    }

    @Test("up to the limit at once")
    func limit() {
        let gate = UnwindGate(limit: 2)
        let boxes = (0..<5).map { _ in Mailbox() }
        for m in boxes { gate.admit(m) }
        #expect(boxes.map(\.gateState) == [1, 1, 0, 0, 0])
        gate.unwound(boxes[1])
        #expect(boxes.map(\.gateState) == [1, 1, 1, 0, 0])
        #expect(gate.queued == 2)
    }

    @Test("a spawn wakes one queued thread beyond the limit, which hands on no turn")
    func spawnReclaims() {
        let gate = UnwindGate(limit: 1)
        let first = Mailbox(), second = Mailbox(), third = Mailbox()
        gate.admitOneForSpawn()  // nothing queued: nothing happens
        #expect(gate.pending == 0)
        gate.admit(first)
        gate.admit(second)
        gate.admit(third)
        gate.admitOneForSpawn()
        #expect([first, second, third].map(\.gateState) == [1, 1, 0])
        #expect(gate.pending == 3)
        gate.unwound(second)  // the extra one: the turn stays with `first`
        #expect(third.gateState == 0)
        #expect(gate.pending == 2)
        gate.unwound(first)
        #expect(third.gateState == 1)
        gate.unwound(third)
        #expect(gate.pending == 0)
    }
}
