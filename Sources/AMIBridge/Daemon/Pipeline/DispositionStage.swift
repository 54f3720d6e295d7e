import CRMSink
import EventMapper
import Logging
import ServiceLifecycle
import ViciDial

/// Stage 4: joined calls wait here for the agent's final disposition (``DispositionWatcher``,
/// one query per poll for all of them), up to `vicidial.dispositions.maximum_wait` (30 minutes
/// by default). `disposition_set` is stored with the end of the wait in one transaction.
///
/// Every waiting call is on disk (``HeldCall/Kind/disposition``), so a restart resumes the wait.
struct DispositionStage: Service {
    let watcher: DispositionWatcher
    let outbox: PipelineOutbox
    let clickToCall: ClickToCallRegistry
    let clock: any EpochClock
    let pollInterval: Duration
    let logger: Logger

    var maximumWait: Double { watcher.configuration.maximumWait }

    /// Calls just stored as held (by the join stage) start being watched.
    func add(_ calls: [EnrichedCall], at now: Double) async {
        var outcomes: [DispositionQueue.Outcome] = []
        for call in calls { outcomes += await watcher.watch(call, at: now) }
        await leave(outcomes)
    }

    /// After a restart: every call that was waiting for its disposition is watched again.
    func resumeHeldCalls(_ held: [HeldCall]) async -> Int {
        let now = clock.epochSeconds
        let calls = held.decoded(as: EnrichedCall.self, logger: logger)
        var outcomes: [DispositionQueue.Outcome] = []
        for (call, deadline) in calls { outcomes += await watcher.resume(call, deadline: deadline, at: now) }
        await leave(outcomes)
        return calls.count
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            try await watcher.run(clock: clock, interval: pollInterval) { await leave($0) }
        }
    }

    private func leave(_ outcomes: [DispositionQueue.Outcome]) async {
        guard !outcomes.isEmpty else { return }
        var events: [WebhookEvent] = []
        var released: [HeldCall.ID] = []
        for outcome in outcomes {
            switch outcome {
            case .dispositionSet(let set):
                logger.info("disposition set", metadata: ["linkedid": "\(set.call.call.linkedid)", "status": "\(set.status)", "server": "\(set.call.call.server)"])
                events.append(.dispositionSet(set))
                events.append(.callComplete(set.call, disposition: set))
                released.append(.dispositionWaitEnded(set.call.call))
                if let callID = set.call.call.callID { clickToCall.dispositionSet(callID: callID, disposition: set.status) }
            case .gaveUp(let call, let reason, let lastStatus):
                logger.notice("no disposition", metadata: [
                    "linkedid": "\(call.call.linkedid)", "reason": "\(reason.rawValue)", "status": "\(lastStatus ?? "")",
                ])
                events.append(.callComplete(call, disposition: nil))
                released.append(.dispositionWaitEnded(call.call))
            }
        }
        await outbox.store(events, releasing: released)
    }
}
