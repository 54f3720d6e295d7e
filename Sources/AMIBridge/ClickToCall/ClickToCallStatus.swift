import EventMapper
import Foundation

/// One click-to-call as `GET /v1/calls/{id}` shows it. Absent values are null, never missing keys,
/// like the webhook bodies.
struct ClickToCallStatus: Sendable, Encodable, Equatable {
    var callID: String
    var status: ClickToCallStage
    /// Why a failed call failed: agent_busy, agent_no_answer, customer_busy, customer_no_answer,
    /// congestion, originate_error, not_dialed (the agent hung up before the customer was
    /// dialed) or timeout (no OriginateResponse in time).
    var reason: String?
    var agentUser: String?
    /// The channel the Originate rang (`SIP/1001`).
    var agentChannel: String
    var phoneNumber: String
    var campaignID: String?
    var leadID: Int?
    /// The request's list_id (not shown: it only goes into the call's webhooks).
    var listID: Int?
    var server: String
    var uniqueid: String?
    var linkedid: String?
    var hangupCause: Int?
    var hangupCauseText: String?
    var disposition: String?
    var ringSeconds: Int?
    var talkSeconds: Int?
    var createdAt: Date
    var updatedAt: Date
    var endedAt: Date?
    /// When each stage was reached, by stage name.
    var stages: [String: Date]
    /// The channels still up, for `DELETE` (not shown).
    var liveChannels: [String] = []
    var hangupRequested = false
    /// The Hangup went out (at once, or once the first channel appeared after an early DELETE).
    var hangupSent = false

    enum CodingKeys: String, CodingKey {
        case callID = "call_id", status, reason, agentUser = "agent_user", agentChannel = "agent_channel"
        case phoneNumber = "phone_number", campaignID = "campaign_id", leadID = "lead_id", server, uniqueid, linkedid
        case hangupCause = "hangup_cause", hangupCauseText = "hangup_cause_text", disposition
        case ringSeconds = "ring_seconds", talkSeconds = "talk_seconds"
        case createdAt = "created_at", updatedAt = "updated_at", endedAt = "ended_at", stages
        case hangupRequested = "hangup_requested"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(callID, forKey: .callID)
        try container.encode(status, forKey: .status)
        try container.encode(reason, forKey: .reason)
        try container.encode(agentUser, forKey: .agentUser)
        try container.encode(agentChannel, forKey: .agentChannel)
        try container.encode(phoneNumber, forKey: .phoneNumber)
        try container.encode(campaignID, forKey: .campaignID)
        try container.encode(leadID, forKey: .leadID)
        try container.encode(server, forKey: .server)
        try container.encode(uniqueid, forKey: .uniqueid)
        try container.encode(linkedid, forKey: .linkedid)
        try container.encode(hangupCause, forKey: .hangupCause)
        try container.encode(hangupCauseText, forKey: .hangupCauseText)
        try container.encode(disposition, forKey: .disposition)
        try container.encode(ringSeconds, forKey: .ringSeconds)
        try container.encode(talkSeconds, forKey: .talkSeconds)
        try container.encode(Self.timestamp(createdAt), forKey: .createdAt)
        try container.encode(Self.timestamp(updatedAt), forKey: .updatedAt)
        try container.encode(endedAt.map(Self.timestamp), forKey: .endedAt)
        try container.encode(stages.mapValues(Self.timestamp), forKey: .stages)
        try container.encode(hangupRequested, forKey: .hangupRequested)
    }

    /// ISO 8601 in UTC with milliseconds: stages a few ms apart stay in order.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Moves to `stage` (never back out of a final one) and notes when.
    mutating func reach(_ stage: ClickToCallStage, at date: Date) {
        guard !status.isFinal else { return }
        status = stage
        updatedAt = date
        if stages[stage.rawValue] == nil { stages[stage.rawValue] = date }
        if stage.isFinal { endedAt = date; liveChannels = [] }
    }

    /// What the request said, for the call's webhooks.
    var origin: ClickToCallOrigin {
        ClickToCallOrigin(agentUser: agentUser, campaignID: campaignID, leadID: leadID, listID: listID, phoneNumber: phoneNumber)
    }

    /// Takes what the tracker knows of the call (ids, channels, causes) without changing the stage.
    mutating func absorb(_ record: CallRecord) {
        linkedid = record.linkedid
        uniqueid = record.customerLeg?.uniqueid ?? record.agentLeg?.uniqueid ?? uniqueid
        liveChannels = record.legs.filter { $0.hungUpAt == nil }.map(\.channel)
        hangupCause = record.hangupCause ?? hangupCause
        hangupCauseText = record.hangupCauseText ?? hangupCauseText
        ringSeconds = record.ringSeconds ?? ringSeconds
        talkSeconds = record.talkSeconds ?? talkSeconds
    }
}
