import EventMapper
import Logging

/// Logs what the call tracker reports: one line per call start, answer and completion, with the
/// fields an ops person greps for.
struct CallLog: Sendable {
    let logger: Logger

    func record(_ update: CallUpdate) {
        switch update {
        case .started(let call):
            logger.debug("call started", metadata: metadata(call))
        case .answered(let call):
            logger.info("call answered", metadata: metadata(call))
        case .completed(let call):
            logger.info("call complete", metadata: metadata(call))
        case .progressed(let call, let stage):
            var metadata = metadata(call)
            metadata["stage"] = "\(stage.rawValue)"
            logger.debug("click-to-call progressed", metadata: metadata)
        case .originateTimedOut(let server, let callID, let actionID):
            logger.warning("no OriginateResponse in time", metadata: ["server": "\(server)", "call_id": "\(callID)", "action_id": "\(actionID)"])
        case .outage(let server, let from, let to):
            logger.warning("AMI outage over; looking for calls missed meanwhile", metadata: [
                "server": "\(server)", "outage_seconds": "\(Int(to - from))",
            ])
        case .userEvent(let server, let name, let linkedid, let callID, _, _):
            logger.info("dialplan UserEvent", metadata: [
                "server": "\(server)", "event": "\(name)", "linkedid": "\(linkedid ?? "")", "call_id": "\(callID ?? "")",
            ])
        }
    }

    /// Built with `.string` values, not interpolations: two lines per call in a storm.
    private func metadata(_ call: CallRecord) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "server": .string(call.server),
            "linkedid": .string(call.linkedid),
            "uniqueid": .string(call.customerLeg?.uniqueid ?? call.agentLeg?.uniqueid ?? ""),
        ]
        if let callID = call.callID { metadata["call_id"] = .string(callID) }
        // Masked by `log.mask_phone_numbers` (PhoneMaskingLogHandler).
        if let phone = call.phoneNumber { metadata["phone_number"] = .string(phone) }
        if let outcome = call.outcome { metadata["outcome"] = .string(outcome.rawValue) }
        if let talk = call.talkSeconds { metadata["talk_seconds"] = .string(String(talk)) }
        if let ring = call.ringSeconds { metadata["ring_seconds"] = .string(String(ring)) }
        if let cause = call.hangupCause { metadata["hangup_cause"] = .string(String(cause)) }
        if let lead = call.callerCode?.leadID { metadata["lead_id"] = .string(String(lead)) }
        if call.reconstructed { metadata["reconstructed"] = "true" }
        if call.closedByTimeout { metadata["closed_by_timeout"] = "true" }
        return metadata
    }
}
