import AMIProtocol
import Logging
import ServiceLifecycle

/// Beside the emit stage: sends the click-to-call hangups that waited for a call's first channel
/// (a `DELETE /v1/calls/{id}` that came while the call was still queued). Each is an AMI round
/// trip, which the emit stage must never wait for.
struct HangupStage: Service {
    let hangups: StageQueue<ClickToCallRegistry.DeferredHangup>
    let servers: [AMIClient]
    let logger: Logger

    func run() async throws {
        while let batch = await hangups.nextBatch() {
            await ClickToCallService.sendDeferredHangups(batch, servers: servers, logger: logger)
        }
        // The input ended (the stage before stopped); this stage's own turn to stop comes next.
        try? await gracefulShutdown()
    }
}
