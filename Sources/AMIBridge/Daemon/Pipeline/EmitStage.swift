import CRMSink
import EventMapper
import Logging
import ServiceLifecycle
import ViciDial

/// Stage 2 of the call pipeline, after the tracker: turns what the tracker reports into webhooks
/// and held calls, and stores everything that arrived meanwhile in ONE outbox transaction, so a
/// burst of calls costs one fsync, not one per call. Only then does it hand completed calls to the
/// ViciDial join (they are on disk first: a crash in between loses nothing).
///
/// Side work never holds it up: click-to-call hangups and post-outage sweeps go to their own
/// stages through bounded queues.
struct EmitStage: Service {
    let updates: StageQueue<CallUpdate>
    let outbox: PipelineOutbox
    /// Nil without a ViciDial database: completed calls go out at once, with the call's own fields.
    /// So does a click-to-call without a lead_id: no row will come (``ClickToCallOrigin/expectsViciDialRow``).
    let join: ViciDialJoinStage?
    let clickToCall: ClickToCallRegistry
    let hangups: StageQueue<ClickToCallRegistry.DeferredHangup>
    let outages: StageQueue<OutageSweepStage.Outage>?
    let recentUniqueids: RecentSet
    let callLog: CallLog
    let clock: any EpochClock
    /// Calls in progress for the status page.
    var status: StatusBoard?
    /// Nil without a ViciDial database: `call_answered` goes out at the answer with the call's
    /// own fields. Otherwise an answered call is held (on
    /// disk, in this batch's transaction) and waits there a moment for its agent and lead.
    var answers: AnswerJoinStage? = nil

    /// Runs until the tracker stage finishes its queue (graceful shutdown: after the tracker has
    /// handed over everything it had), storing each batch before taking the next.
    func run() async throws {
        while let batch = await updates.nextBatch() {
            await handle(batch)
        }
        hangups.finish()
        outages?.finish()
        // The input ended (the stage before stopped); this stage's own turn to stop comes next.
        try? await gracefulShutdown()
    }

    func handle(_ batch: [CallUpdate]) async {
        // A click-to-call carries its request's fields from here on, on disk with it while held.
        let batch = batch.map(clickToCall.withOrigin)
        let now = clock.epochSeconds
        var events: [WebhookEvent] = []
        var holds: [HeldCall] = []
        var completed: [CallRecord] = []
        var deferredHangups: [ClickToCallRegistry.DeferredHangup] = []
        var missed: [OutageSweepStage.Outage] = []
        var releases: [HeldCall.ID] = []
        var waitingAnswers: [CallRecord] = []
        if let answers {
            // A call_answered still waiting for ViciDial goes out now, ahead of its call's completion.
            let ending = Set(batch.compactMap { update -> CallKey? in
                if case .completed(let call) = update { CallKey(call) } else { nil }
            })
            if !ending.isEmpty {
                let departures = await answers.waits.callsEnding(ending)
                events += departures.map(WebhookEvent.callAnswered)
                releases += departures.map { .answerWaitEnded($0.call) }
            }
        }
        status?.apply(batch)
        for update in batch {
            callLog.record(update)
            deferredHangups += clickToCall.apply(update)
            switch update {
            case .started, .progressed:
                break
            case .answered(let call):
                if answers != nil {
                    waitingAnswers.append(call)
                } else {
                    events.append(.callAnswered(call))
                }
            case .completed(let call):
                if let answered = waitingAnswers.first(where: { $0.key == call.key }) {
                    // Answered and completed in this batch: no wait, call_answered first.
                    waitingAnswers.removeAll { $0.key == call.key }
                    events.append(.callAnswered(answered))
                }
                recentUniqueids.insert(call.uniqueids)
                if call.callID != nil, let outcome = call.outcome, outcome != .answered {
                    events.append(.click2callFailed(call, reason: outcome.rawValue))
                }
                if let join, call.clickToCall?.expectsViciDialRow ?? true {
                    holds.append(.waitingForRow(call, deadline: now + join.maximumWait))
                    completed.append(call)
                } else {
                    events.append(.callComplete(EnrichedCall(call: call, vicidial: nil)))
                }
            case .outage(let server, let from, let to):
                missed.append(OutageSweepStage.Outage(server: server, from: from, to: to))
            case .originateTimedOut(let server, let callID, _):
                events.append(.click2callTimedOut(callID: callID, server: server, origin: clickToCall.origin(callID)))
            case .userEvent(let server, let name, let linkedid, let callID, let fields, let sequence):
                events.append(.userEvent(server: server, name: name, linkedid: linkedid, callID: callID, fields: fields, sequence: sequence))
            }
        }
        if let answers {
            holds += waitingAnswers.map { .waitingForAnswerData($0, deadline: now + answers.maximumWait) }
        }
        await outbox.store(events, holding: holds, releasing: releases)
        if let answers, !waitingAnswers.isEmpty { await answers.waits.add(waitingAnswers, at: now) }
        if let join, !completed.isEmpty { await join.add(completed, at: now) }
        await hangups.send(deferredHangups)
        if let outages { await outages.send(missed) }
    }
}
