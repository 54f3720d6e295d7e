import CRMSink
import EventMapper
import Logging
import ServiceLifecycle
import ViciDial

/// Stage 3: completed calls wait here for their ViciDial row (``CallEnricher``, one query per poll
/// for all of them). A call that leaves (joined, or given up) is stored in one transaction with
/// its `call_complete`, the end of its row wait and the start of its disposition wait, so across
/// a crash it is either still waiting for its row or already waiting for its disposition.
///
/// Every waiting call is on disk (``HeldCall/Kind/viciDialRow``): ``resumeHeldCalls()`` takes
/// them back after a restart. A graceful shutdown just stops polling.
struct ViciDialJoinStage: Service {
    let enricher: CallEnricher
    let dispositions: DispositionStage
    let outbox: PipelineOutbox
    let clock: any EpochClock
    let pollInterval: Duration
    let logger: Logger

    /// How long a completed call waits for its row.
    var maximumWait: Double { enricher.configuration.maximumWait }

    /// Calls just stored as held (by the emit stage) start waiting. Calls pushed out of a full
    /// wait list leave at once.
    func add(_ calls: [CallRecord], at now: Double) async {
        var departed: [CallEnricher.Result] = []
        for call in calls { departed += await enricher.callCompleted(call, at: now) }
        await leave(departed)
    }

    /// After a restart: every call that was waiting for its row waits again until its deadline.
    func resumeHeldCalls(_ held: [HeldCall]) async -> Int {
        let now = clock.epochSeconds
        let calls = held.decoded(as: CallRecord.self, logger: logger)
        var departed: [CallEnricher.Result] = []
        for (call, deadline) in calls { departed += await enricher.resume(call, deadline: deadline, at: now) }
        await leave(departed)
        return calls.count
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            try await enricher.run(clock: clock, interval: pollInterval) { await leave($0) }
        }
    }

    private func leave(_ results: [CallEnricher.Result]) async {
        guard !results.isEmpty else { return }
        let now = clock.epochSeconds
        let watched = results.map(\.enrichedCall).filter { $0.vicidial != nil }
        await outbox.store(
            results.map { .callComplete($0.enrichedCall) },
            holding: watched.map { .waitingForDisposition($0, deadline: now + dispositions.maximumWait) },
            releasing: results.map { .rowWaitEnded($0.enrichedCall.call) }
        )
        await dispositions.add(watched, at: now)
    }
}
