import CRMSink
import EventMapper
import Logging
import ServiceLifecycle
import Synchronization

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
    /// Uniqueids of recently completed calls, so an outage's database sweep skips calls the
    /// tracker already reported. Bounded: the oldest are forgotten first.
    let recentUniqueids = RecentSet(capacity: 100_000)

    func handle(_ update: CallUpdate) async {
        callLog.record(update)
        switch update {
        case .started, .progressed:
            break
        case .answered(let call):
            await emit(.callAnswered(call))
        case .completed(let call):
            recentUniqueids.insert(call.uniqueids)
            if call.callID != nil, let outcome = call.outcome, outcome != .answered {
                await emit(.click2callFailed(call, reason: outcome.rawValue))
            }
            if let enricher {
                await handle(await enricher.callCompleted(call, at: now()))
            } else {
                await emit(.callComplete(EnrichedCall(call: call, vicidial: nil)))
            }
        case .outage(let server, let from, let to):
            guard let repository = await enricher?.repository else { break }
            do {
                // A margin on both sides: clocks and ViciDial's own writes are not exact.
                let missed = try await repository.missedCalls(server: server, from: from - 60, to: to + 60, knownUniqueids: recentUniqueids.snapshot)
                logger.warning("calls reconstructed from ViciDial after an AMI outage", metadata: ["server": "\(server)", "calls": "\(missed.count)"])
                for call in missed {
                    recentUniqueids.insert(call.call.uniqueids)
                    await completed(call)
                }
            } catch {
                logger.error("could not look for calls missed during the AMI outage", metadata: ["server": "\(server)", "error": "\(error)"])
            }
        case .originateTimedOut(let server, let callID, _):
            await emit(.click2callTimedOut(callID: callID, server: server))
        case .userEvent(let server, let name, let linkedid, let callID, let fields):
            await emit(.userEvent(server: server, name: name, linkedid: linkedid, callID: callID, fields: fields))
        }
    }

    private func handle(_ results: [CallEnricher.Result]) async {
        for result in results { await completed(result.enrichedCall) }
    }

    /// `call_complete`, then the wait for the agent's disposition when there is a row to watch.
    private func completed(_ call: EnrichedCall) async {
        await emit(.callComplete(call))
        if call.vicidial != nil, let watcher {
            await handle(await watcher.watch(call, at: now()))
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
        guard enricher != nil || watcher != nil else {
            // Nothing polls without a database; stay up until the daemon stops.
            try? await gracefulShutdown()
            return
        }
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

/// A bounded set of strings that forgets the oldest first.
final class RecentSet: Sendable {
    private struct State {
        var members: Set<String> = []
        var order: [String] = []
        var head = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func insert(_ values: [String]) {
        state.withLock { state in
            for value in values where state.members.insert(value).inserted {
                state.order.append(value)
                if state.members.count > capacity {
                    state.members.remove(state.order[state.head])
                    state.head += 1
                    if state.head > capacity { state.order.removeFirst(state.head); state.head = 0 }
                }
            }
        }
    }

    var snapshot: Set<String> { state.withLock { $0.members } }
}
