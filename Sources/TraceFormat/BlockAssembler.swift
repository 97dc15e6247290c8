import Synchronization

/// The background half of a `TraceWriter`: encodes staged events into blocks, in recording
/// order, and passes each full block to `BlockOutput` (compression, write, index).
///
/// A block ends where a writer that encodes every event as it is recorded would end it: after
/// `eventsPerBlock` events or `TraceWriter.blockSoftLimitBytes` raw bytes, and after a batch
/// marked `cut` (a flush, the close, or a block that reached `maxBlockAge`). So the file is the
/// same whatever batches the producers staged.
///
/// @unchecked Sendable: everything but `partialSince` is used only on the writer's serial queue
/// (or after `queue.sync`, which orders it); `partialSince` is atomic. Exclusivity checks are
/// off for the per-event state for the same reason: the queue serialises access.
final class BlockAssembler: @unchecked Sendable {
    let output: BlockOutput
    @exclusivity(unchecked) private var encoder: BlockEncoder
    /// The other block buffer: a block is written before the next one is taken, so two do.
    @exclusivity(unchecked) private var spare: BlockBytes
    private let capture: PayloadCapture
    private let eventsPerBlock: Int
    /// Events encoded so far (blocks written plus the current block).
    @exclusivity(unchecked) private var encoded: UInt64 = 0
    /// `since` of the batch that began the current block.
    @exclusivity(unchecked) private var blockSince: UInt64 = 0
    /// Monotonic ns when the oldest event of the current, unwritten block was staged (at the
    /// latest); 0 = no such block (or no maximum block age). Read by the writer's age timer.
    let partialSince = Atomic<UInt64>(0)

    init(
        output: BlockOutput, unit: UInt64, timesInColumn: Bool, blockBytes: Int, capture: PayloadCapture,
        eventsPerBlock: Int
    ) {
        self.output = output
        encoder = BlockEncoder(unit: unit, capacity: blockBytes, timesInColumn: timesInColumn)
        spare = BlockBytes(capacity: blockBytes + BlockEncoder.headerRoom)
        self.capture = capture
        self.eventsPerBlock = eventsPerBlock
    }

    /// Encodes a batch, writing every block it completes.
    func add(_ batch: StagedBatch) {
        guard output.error == nil, output.summary == nil else { return }
        batch.forEach { record, payload in
            encoder.encode(record, payload: payload, capture: capture)
            counted(batch)
        } event: { event in
            encoder.encode(event, capture: capture)
            counted(batch)
        }
        if batch.cut { writeBlock() }
        partialSince.store(encoder.eventCount > 0 ? blockSince : 0, ordering: .relaxed)
    }

    /// Ends the current block here (a flush with nothing staged since the last batch).
    func cut() {
        writeBlock()
        partialSince.store(0, ordering: .relaxed)
    }

    @inline(__always)
    private func counted(_ batch: StagedBatch) {
        encoded &+= 1
        if encoder.eventCount == 1 { blockSince = batch.since }
        if encoder.eventCount >= eventsPerBlock || encoder.bodyBytes >= TraceWriter.blockSoftLimitBytes {
            writeBlock()
        }
    }

    private func writeBlock() {
        guard encoder.eventCount > 0 else { return }
        let block = encoder.take(firstEventIndex: encoded - UInt64(encoder.eventCount), next: spare)
        output.write(block)
        spare = block.storage
    }
}
