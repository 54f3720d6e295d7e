import CRMSink
import EventMapper
import Logging

/// How every pipeline stage stores its work: webhooks, held calls and released calls in one
/// outbox transaction (group commit shares the fsync with whatever other stage commits at the
/// same moment). A failed write (disk full, I/O error) is retried until it is stored: the stage
/// waits, its input queue fills, and backpressure reaches the AMI sockets; nothing is dropped.
struct PipelineOutbox: Sendable {
    let outbox: Outbox
    let emitter: WebhookEmitter
    let clock: any EpochClock
    let logger: Logger
    /// Called with each event once it is on disk (click-to-call status, logs).
    var stored: @Sendable ([WebhookEvent]) -> Void = { _ in }
    /// Told of each batch's holds and releases once they are on disk (the status page).
    var status: StatusBoard?

    func store(_ events: [WebhookEvent], holding holds: [HeldCall] = [], releasing releases: [HeldCall.ID] = []) async {
        let batch = OutboxBatch(
            deliveries: emitter.deliveries(of: events), publications: emitter.publications(of: events), holds: holds, releases: releases
        )
        guard !batch.isEmpty else {
            // No endpoint takes these events: nothing to write, and they count as handled.
            stored(events)
            return
        }
        var delay = Duration.milliseconds(50)
        var failures = 0
        while true {
            do {
                try await outbox.commit(batch)
                if failures > 0 { logger.notice("outbox writable again", metadata: ["failed_attempts": "\(failures)"]) }
                // A call waiting a moment for its answer's data is still in progress on the page.
                status?.stored(holding: holds.filter { $0.kind != .answer }, releasing: releases.filter { $0.kind != .answer }, at: clock.epochSeconds)
                stored(events)
                return
            } catch {
                failures += 1
                if failures == 1 || failures % 100 == 0 {
                    // The one thing that must not fail: say so loudly, and keep the work.
                    logger.critical("could not write to the outbox; retrying, events are held in memory", metadata: [
                        "error": "\(error)", "events": "\(events.count)", "attempts": "\(failures)",
                    ])
                }
                try? await clock.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
