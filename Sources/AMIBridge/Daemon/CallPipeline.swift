import CRMSink
import EventMapper
import Logging
import ServiceLifecycle

/// What happens to a call after the tracker: `call_answered` at once; at completion the ViciDial
/// join (waiting, bounded, for rows written after the hangup), then `call_complete`; then the
/// watch for the agent's disposition, then `disposition_set`. Without a ViciDial database the
/// join is skipped and `call_complete` carries the call's own fields.
///
/// It is a `Service` because the join and the watch poll the database on their own schedule.
struct CallPipeline: Service {
    let enricher: CallEnricher?
    let watcher: DispositionWatcher?
    let callLog: CallLog
    let logger: Logger
    let now: @Sendable () -> Double
    /// Puts a webhook into the durable outbox; errors are logged by the caller's emitter.
    let emit: @Sendable (WebhookEvent) async -> Void
    var pollInterval: Duration = .seconds(1)

    func handle(_ update: CallUpdate) async {
        callLog.record(update)
        switch update {
        case .started:
            break
        case .answered(let call):
            await emit(.callAnswered(call))
        case .completed(let call):
            if call.callID != nil, let outcome = call.outcome, outcome != .answered {
                await emit(.click2callFailed(call, reason: outcome.rawValue))
            }
            if let enricher {
                await handle(await enricher.callCompleted(call, at: now()))
            } else {
                await emit(.callComplete(EnrichedCall(call: call, vicidial: nil)))
            }
        case .originateTimedOut(let callID, _):
            await emit(.click2callTimedOut(callID: callID, server: ""))
        case .userEvent(let server, let name, let linkedid, let callID, let fields):
            await emit(.userEvent(server: server, name: name, linkedid: linkedid, callID: callID, fields: fields))
        }
    }

    private func handle(_ results: [CallEnricher.Result]) async {
        for result in results {
            await emit(.callComplete(result.enrichedCall))
            if result.enrichedCall.vicidial != nil, let watcher {
                await handle(await watcher.watch(result.enrichedCall, at: now()))
            }
        }
    }

    private func handle(_ outcomes: [DispositionQueue.Outcome]) async {
        for outcome in outcomes {
            switch outcome {
            case .dispositionSet(let set):
                logger.info("disposition set", metadata: ["linkedid": "\(set.call.call.linkedid)", "status": "\(set.status)", "server": "\(set.call.call.server)"])
                await emit(.dispositionSet(set))
            case .gaveUp(let call, let reason, let lastStatus):
                logger.notice("no disposition", metadata: [
                    "linkedid": "\(call.call.linkedid)", "reason": "\(reason.rawValue)", "status": "\(lastStatus ?? "")",
                ])
            }
        }
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            if let enricher {
                group.addTask {
                    try? await cancelWhenGracefulShutdown {
                        try await enricher.run(clock: ContinuousClock(), interval: pollInterval, now: now) { await handle($0) }
                    }
                }
            }
            if let watcher {
                group.addTask {
                    try? await cancelWhenGracefulShutdown {
                        try await watcher.run(clock: ContinuousClock(), interval: pollInterval, now: now) { await handle($0) }
                    }
                }
            }
        }
    }
}
