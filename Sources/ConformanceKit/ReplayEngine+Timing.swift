import Foundation
import TraceFormat

/// Judging how late a timeout came, and deciding overtaken messages once the replay is over.
///
/// A timeout is late when the adapter answered 9027 more than `lateTolerance` after the
/// receive's timeout elapsed. The receive is taken to start when the adapter could have started
/// it: not before it was sent, nor before the previous call of its process returned, nor before
/// the answer to the previous request (the adapter starts requests in order). On top of a fixed
/// and a relative slack, the tolerance adds the adapter's own slowness at the time: the longest
/// any non-blocking request took to be answered around the wait, and how late this machine ran
/// due threads during the wait (`SchedulingDelayMonitor`). A trace whose timeouts look
/// late is replayed again (see `ConformanceRunner`) and a timeout is reported late only when it
/// is late every time.
extension ReplayEngine {
    /// Fixed slack for a late timeout, in ms.
    static let lateSlackMs: Double = 25
    /// Slack relative to the timeout.
    static let lateSlackFraction: Double = 0.25
    /// How many recent non-blocking answers are kept to measure the adapter's slowness.
    static let lagWindow = 256

    func noteLag(arrival: UInt64, lag: UInt64) {
        lastNonblockingArrival = max(lastNonblockingArrival, arrival)
        recentLags.append((arrival, lag))
        if recentLags.count > Self.lagWindow * 2 { recentLags.removeFirst(recentLags.count - Self.lagWindow) }
    }

    /// The longest a non-blocking request took among those answered between `from` and `to`
    /// (with a second's margin either side).
    func adapterLag(from: UInt64, to: UInt64) -> UInt64 {
        let lo = from > 1_000_000_000 ? from - 1_000_000_000 : 0
        let hi = to &+ 1_000_000_000
        return recentLags.reduce(0) { $1.arrival >= lo && $1.arrival <= hi ? max($0, $1.lag) : $0 }
    }

    /// Ms allowed past a timeout of `timeoutMs` before it counts as late, besides the lag.
    static func lateTolerance(timeoutMs: Int64) -> Double {
        lateSlackMs + lateSlackFraction * Double(timeoutMs)
    }

    /// A timeout the trace also had, answered late.
    func checkLateTimeout(_ call: PendingCall, _ value: JSONValue, arrival: UInt64, started: UInt64) {
        guard case .receive(let expected, _, let timeout, _) = call.context, expected == 0, timeout > 0,
            ResultCode.isTimeout(value["code"]?.int), arrival > 0
        else { return }
        let start = max(started, lastNonblockingArrival < arrival ? lastNonblockingArrival : 0)
        guard arrival > start else { return }
        let waitedMs = Double(arrival - start) / 1e6
        let lagMs = Double(adapterLag(from: start, to: arrival)) / 1e6
        let monitor = SchedulingDelayMonitor.shared
        let adapterWaitMs = Double(monitor.runQueueDelay(of: client.childPID, from: start, to: arrival)) / 1e6
        // This process: only how late its own due threads ran (its other threads, a fuzz run's
        // recordings, say, may wait for a CPU without delaying the answer).
        let stallMs = Double(monitor.worstDelay(from: start, to: arrival)) / 1e6 + adapterWaitMs
        let allowed = Double(timeout) + Self.lateTolerance(timeoutMs: timeout) + lagMs + stallMs
        guard waitedMs > allowed else { return }
        timingDivergences.append(divergences.count)
        diverge(
            call, .timeoutMismatch, call.context.isSkipSearch ? "R-RECV-8" : "R-RECV-5",
            expected: "9027 after \(timeout) ms", got: "9027 after \(String(format: "%.1f", waitedMs)) ms",
            detail: String(
                format:
                    "the timeout came late: more than %.0f ms after it elapsed (tolerance %.0f ms + %.0f%% of the timeout + %.0f ms the adapter took to answer other calls meanwhile + %.0f ms the adapter's threads waited for a CPU, or this process ran late, meanwhile)",
                waitedMs - Double(timeout), Self.lateSlackMs, Self.lateSlackFraction * 100, lagMs, stallMs))
    }

    /// Overtaken messages: a reorder when the overtaken message arrived later in this replay, a
    /// loss when it never did.
    func settleOvertaken() {
        for (position, m) in overtaken {
            let token = messages[m]?.adapterToken
            if let token, let later = deliveredTokens[token], later > divergences[position].eventIndex {
                divergences[position].detail += "; #\(m) arrived later, at event #\(later)"
                continue
            }
            divergences[position].category = .lostMessage
            divergences[position].rule = "R-SEND-1"
            divergences[position].detail =
                "a later message from the same sender came first and #\(m) never arrived: " + lostDetail(m)
        }
        overtaken = []
    }
}

extension ReplayEngine.Context {
    var isSkipSearch: Bool {
        if case .receive(_, _, _, let skip) = self { return skip }
        return false
    }
}
