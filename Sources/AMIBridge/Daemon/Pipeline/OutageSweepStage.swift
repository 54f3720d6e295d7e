import CRMSink
import EventMapper
import Logging
import ServiceLifecycle
import ViciDial

/// Beside the emit stage: after an AMI outage, looks in ViciDial's tables for calls that started
/// and ended while the connection was down (AMI has no replay), and reports them as
/// `reconstructed` through the same held-call path as live calls. A slow or broken database
/// delays only this stage.
struct OutageSweepStage: Service {
    struct Outage: Sendable {
        var server: String
        var from: Double
        var to: Double
    }

    let outages: StageQueue<Outage>
    let repository: ViciDialRepository
    let join: ViciDialJoinStage
    let outbox: PipelineOutbox
    let recentUniqueids: RecentSet
    let clock: any EpochClock
    let logger: Logger

    func run() async throws {
        while let batch = await outages.nextBatch() {
            for outage in batch { await sweep(outage) }
        }
        // The input ended (the stage before stopped); this stage's own turn to stop comes next.
        try? await gracefulShutdown()
    }

    private func sweep(_ outage: Outage) async {
        do {
            // A margin on both sides: clocks and ViciDial's own writes are not exact.
            let missed = try await repository.missedCalls(
                server: outage.server, from: outage.from - 60, to: outage.to + 60, knownUniqueids: recentUniqueids.snapshot
            )
            logger.warning("calls reconstructed from ViciDial after an AMI outage", metadata: ["server": "\(outage.server)", "calls": "\(missed.count)"])
            guard !missed.isEmpty else { return }
            for call in missed { recentUniqueids.insert(call.call.uniqueids) }
            // Their rows are already known: they go straight to the disposition wait.
            let now = clock.epochSeconds
            await outbox.store(
                missed.map { .callComplete($0) },
                holding: missed.filter { $0.vicidial != nil }.map { .waitingForDisposition($0, deadline: now + join.dispositions.maximumWait) }
            )
            await join.dispositions.add(missed.filter { $0.vicidial != nil }, at: now)
        } catch {
            logger.error("could not look for calls missed during the AMI outage", metadata: ["server": "\(outage.server)", "error": "\(error)"])
        }
    }
}
