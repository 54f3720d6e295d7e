import AMITestSupport
import Foundation
import NIOConcurrencyHelpers

/// `amibridge-bench storm soak [--minutes 10] [--rate 2000]`: the storm at a fixed rate for a long
/// time, the daemon's resident memory (VmRSS) sampled every `--sample-seconds` (10): a bridge
/// that keeps something per call forever shows it here long before production does.
extension Benchmarks {
    static func stormSoak(options: StormOptions) async throws {
        let calls = Int((options.rate * options.seconds).rounded())
        StormWatchdog.shared.arm(seconds: options.timeout ?? (options.seconds * 1.5 + 240))
        let rig = try await StormRig.start(options: options, calls: calls)
        let plan = CallStormPlan.rate(options.rate, seconds: options.seconds, callSeconds: options.callSeconds, source: rig.source)
        print("soak: \(grouped(calls)) calls at \(grouped(Int(options.rate)))/s for \(String(format: "%g", options.seconds / 60)) min, "
            + "\(rig.source.eventsPerCall) events and 3 webhooks per call, RSS every \(String(format: "%g", options.sampleSeconds)) s (daemon pid \(rig.daemon.pid))")
        fflush(nil)
        let sampler = SoakSampler(rig: rig)
        sampler.sample()
        let run = try await withThrowingTaskGroup(of: CallStormRun?.self) { group in
            group.addTask { try await rig.server.stream(plan) }
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(options.sampleSeconds))
                    sampler.sample()
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let run = result { return run }
            }
            throw StormError("the stream ended without a result")
        }
        let complete = await rig.waitForWebhooks(0..<calls)
        sampler.sample()
        let tally = rig.receiver.tally
        let snapshot = tally.snapshot
        let completeness = tally.completeness(0..<calls)
        let rss = sampler.samples.map(\.bytes)
        let log = rig.daemon.log
        for line in log.firstProblems { print("daemon log: \(line)") }
        await rig.stop()

        let missing = calls - tally.completedCount(0..<calls)
        let first = Double(rss.first ?? 0) / 1e6
        let last = Double(rss.last ?? 0) / 1e6
        let maximum = Double(rss.max() ?? 0) / 1e6
        let streamSeconds = seconds(run.startedAt, run.finishedAt)
        print("soak: \(grouped(calls)) calls sent (\(grouped(run.events)) events in " + String(format: "%.0f", streamSeconds) + " s"
            + (run.eventsWithoutClient > 0 ? ", \(grouped(run.eventsWithoutClient)) more due while the daemon was not logged in" : "") + "), call_complete received once each for \(grouped(completeness.callCompleteOnce)), "
            + "duplicates \(snapshot.duplicateDeliveries), re-emitted \(snapshot.reemitted), missing \(grouped(missing)) call_complete (\(grouped(completeness.missingWebhooks)) webhooks); "
            + String(format: "RSS first %.1f MB, last %.1f MB, max %.1f MB", first, last, maximum)
            + (complete ? "" : " (INCOMPLETE: stopped waiting)") + (log.bufferFull > 0 ? "; \(log.bufferFull) 'event buffer full' log lines" : ""))
        if options.json {
            print(jsonLine([
                "calls": calls, "calls_per_second": options.rate, "seconds": options.seconds, "events_written": run.events,
                "stream_seconds": streamSeconds, "events_without_client": run.eventsWithoutClient,
                "call_complete_once": completeness.callCompleteOnce, "duplicates": snapshot.duplicateDeliveries,
                "reemitted": snapshot.reemitted, "missing_call_complete": missing, "missing_webhooks": completeness.missingWebhooks,
                "rss_mb": rss.map { Double($0) / 1e6 }, "rss_first_mb": first, "rss_last_mb": last, "rss_max_mb": maximum,
                "event_buffer_full_lines": log.bufferFull, "complete": complete,
            ]))
        }
    }
}

/// The daemon's RSS every few seconds, printed as it is taken, with how far the webhooks are.
private final class SoakSampler: Sendable {
    let rig: StormRig
    let start = ContinuousClock.now
    private let taken = NIOLockedValueBox<[(seconds: Double, bytes: Int)]>([])

    init(rig: StormRig) { self.rig = rig }

    var samples: [(seconds: Double, bytes: Int)] { taken.withLockedValue { $0 } }

    func sample() {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard let bytes = rig.daemon.residentBytes() else { return }
        taken.withLockedValue { $0.append((seconds, bytes)) }
        let snapshot = rig.receiver.tally.snapshot
        print(String(format: "soak: t=%5.0f s  RSS %7.1f MB  ", seconds, Double(bytes) / 1e6)
            + "call_complete \(Benchmarks.grouped(snapshot.completedCalls))  webhooks \(Benchmarks.grouped(snapshot.requests))")
        // Progress as it happens, also when the output is a file or a pipe.
        fflush(nil)
    }
}
