/// Where a click-to-call stands while it is live, in the words of `GET /v1/calls/{id}`.
///
/// The dialplan shape is ViciDial's manual dial: the Originate rings the agent's phone first;
/// once the agent answers, the dialplan dials the customer. The stage is read off the call's legs,
/// so it is right whichever events arrive (Asterisk 11 or 20, Local or SIP channels).
public enum ClickToCallStage: String, Sendable, Hashable, Codable, CaseIterable {
    /// Originate sent; no channel yet.
    case queued
    case agentRinging = "agent_ringing"
    case agentAnswered = "agent_answered"
    case customerRinging = "customer_ringing"
    case connected
    /// Ended after the customer answered.
    case completed
    /// Ended without a conversation; the reason is the call's ``CallOutcome``.
    case failed

    /// The stage of a call that is still up.
    public init(live record: CallRecord) {
        self.init(liveCustomer: record.customerLeg, agent: record.agentLeg)
    }

    /// The stage of a call that is still up, from its customer and agent legs.
    init(liveCustomer customer: CallLeg?, agent: CallLeg?) {
        if let customer {
            self = customer.answeredAt != nil ? .connected : .customerRinging
        } else if let agent {
            self = agent.answeredAt != nil ? .agentAnswered : .agentRinging
        } else {
            self = .queued
        }
    }

    /// The stage of a call that has ended.
    public init(ended outcome: CallOutcome?) {
        self = outcome == .answered ? .completed : .failed
    }

    /// Completed and failed are final: nothing moves a call out of them.
    public var isFinal: Bool { self == .completed || self == .failed }
}

extension ClickToCallStage {
    /// The channel variable that carries a click-to-call's id from the Originate to every channel
    /// of its call: the bridge sets it, the tracker reads it, and a request may not set it itself.
    public static let callIDVariable = "CRM_CALL_ID"
}
