import Foundation

/// One call event on its way to CRMs: what the call tracker knows, as the webhook body's fields.
///
/// Built by the bridge's glue from calls; CRMSink depends on nothing that builds it, so the outbox
/// and delivery can be tested (and benchmarked) on their own.
public struct WebhookEvent: Sendable, Hashable {
    /// The webhook event names: the `event` field and the `X-AMIBridge-Event` header.
    public enum Name: String, Sendable, Hashable, CaseIterable {
        case callAnswered = "call_answered"
        case callComplete = "call_complete"
        case dispositionSet = "disposition_set"
        case click2callFailed = "click2call_failed"
        case userEvent = "user_event"
    }

    /// Which endpoints an event is for, by their ``WebhookEndpoint/Configuration/waitsForDisposition``.
    /// A call that waits for its disposition has two `call_complete`s: one at once for the endpoints
    /// that also take `disposition_set`, and one with the disposition for the endpoints that wait.
    public enum Recipients: Sendable, Hashable {
        /// Every endpoint that takes the event (the default).
        case all
        /// Endpoints that get `call_complete` and `disposition_set` apart (the default kind).
        case notWaitingForDisposition
        /// Endpoints with `wait_for_disposition: true`: one `call_complete` per call, with the disposition.
        case waitingForDisposition
    }

    public var name: Name
    /// The delivery id CRMs dedupe on: the same on every retry of every endpoint.
    public var eventID: UUID
    public var occurredAt: Date
    /// Events with the same key reach each endpoint in the order they were emitted (for a call:
    /// its linkedid), so `call_complete` always arrives before `disposition_set`.
    public var callKey: String

    public var uniqueid: String?
    public var linkedid: String?
    /// ViciDial's `call_date` text, e.g. `2026-01-15 14:32:00` (the dialer's local time).
    public var calldate: String?
    public var phoneNumber: String?
    public var agentUser: String?
    /// Also what endpoints filter on (`campaigns`).
    public var campaignID: String?
    public var leadID: Int?
    public var listID: Int?
    public var disposition: String?
    /// Seconds.
    public var callDuration: Int?
    /// Seconds.
    public var ringDuration: Int?
    /// Q.850 cause code, e.g. 16.
    public var hangupCause: Int?
    public var hangupCauseText: String?
    public var termReason: String?
    public var recordingFilename: String?
    public var notes: String?
    /// The AMI server (dialer) name.
    public var server: String?
    public var click2callID: String?
    /// True when the call ended while AMI was disconnected and was completed from the database.
    public var reconstructed: Bool
    /// The call was transferred, picked up, forwarded, or its channels moved on to another call.
    public var transferred: Bool = false
    /// Where it was transferred or forwarded, when known (an extension or a number).
    public var transferTarget: String?
    /// The Linkedid of the call this call's channels moved on to (a pickup, a queue agent): that
    /// call's own `call_complete` carries the rest of the conversation.
    public var continuedIn: String?
    /// A `user_event`'s dialplan variables (every header the dialplan gave the `UserEvent`, not
    /// Asterisk's channel fields), as the `variables` object of the body; nil for other events.
    /// Never merged into the top level, so a variable named like a standard key is kept too.
    public var variables: [String: String]?
    /// Routing only, not in the body.
    public var recipients: Recipients = .all
    /// Further fields: a `user_event`'s own fields, lead columns for `vicidial-template` URLs
    /// (`first_name`, `vendor_lead_code`, `talk_time`, ...). Added to the JSON body after the
    /// standard fields; a key equal to a standard field is ignored.
    public var extra: [String: String]

    public init(
        name: Name,
        eventID: UUID = UUID(),
        occurredAt: Date = Date(),
        callKey: String,
        uniqueid: String? = nil,
        linkedid: String? = nil,
        calldate: String? = nil,
        phoneNumber: String? = nil,
        agentUser: String? = nil,
        campaignID: String? = nil,
        leadID: Int? = nil,
        listID: Int? = nil,
        disposition: String? = nil,
        callDuration: Int? = nil,
        ringDuration: Int? = nil,
        hangupCause: Int? = nil,
        hangupCauseText: String? = nil,
        termReason: String? = nil,
        recordingFilename: String? = nil,
        notes: String? = nil,
        server: String? = nil,
        click2callID: String? = nil,
        reconstructed: Bool = false,
        extra: [String: String] = [:]
    ) {
        self.name = name
        self.eventID = eventID
        self.occurredAt = occurredAt
        self.callKey = callKey
        self.uniqueid = uniqueid
        self.linkedid = linkedid
        self.calldate = calldate
        self.phoneNumber = phoneNumber
        self.agentUser = agentUser
        self.campaignID = campaignID
        self.leadID = leadID
        self.listID = listID
        self.disposition = disposition
        self.callDuration = callDuration
        self.ringDuration = ringDuration
        self.hangupCause = hangupCause
        self.hangupCauseText = hangupCauseText
        self.termReason = termReason
        self.recordingFilename = recordingFilename
        self.notes = notes
        self.server = server
        self.click2callID = click2callID
        self.reconstructed = reconstructed
        self.extra = extra
    }
}
