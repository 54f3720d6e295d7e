import CRMSink
import EventMapper
import Foundation
import ViciDial

/// How calls become webhook bodies: the SPEC fields from the call and its ViciDial row, and the
/// ViciDial Dispo Call URL field names (for `vicidial-template` endpoints) in `extra`.
extension WebhookEvent {
    static func callAnswered(_ call: CallRecord) -> WebhookEvent {
        var event = WebhookEvent(name: .callAnswered, eventID: call.eventID(.callAnswered), callKey: call.key)
        event.fill(from: call)
        return event
    }

    /// After the answer's short wait for ViciDial (``AnswerJoinStage``): the screen pop, with the
    /// agent and lead ViciDial knew by then, if any (same `event_id` either way).
    static func callAnswered(_ departure: CallAnswerQueue.Departure) -> WebhookEvent {
        var event = callAnswered(departure.call)
        if let data = departure.data { event.fill(from: data) }
        return event
    }

    /// What ViciDial knew at the answer; its values win over the caller code's and a
    /// click-to-call request's, as the log row's do in `call_complete`.
    private mutating func fill(from data: ViciDialAnswerData) {
        agentUser = data.agentUser ?? agentUser
        campaignID = data.campaignID ?? campaignID
        leadID = data.leadID.map(Int.init) ?? leadID
        listID = data.listID.map(Int.init) ?? listID
        phoneNumber = data.phoneNumber ?? phoneNumber
        if let user = agentUser { extra["user"] = user }
        if let campaign = campaignID { extra["campaign"] = campaign }
        if let lead = leadID { extra["lead_id"] = String(lead) }
        if let list = listID { extra["list_id"] = String(list) }
        extra["phone_number"] = phoneNumber ?? ""
        for (key, value) in [
            ("phone_code", data.phoneCode), ("first_name", data.firstName), ("last_name", data.lastName),
            ("vendor_lead_code", data.vendorLeadCode),
        ] {
            if let value { extra[key] = value }
        }
        if let closeCallID = data.closeCallID {
            extra["closecallid"] = String(closeCallID)
            extra["in_group"] = data.campaignID ?? ""
        }
    }

    /// At the hangup (or the end of the row wait). A call joined with its row waits for its
    /// disposition next (in every stage that emits this), so endpoints with `wait_for_disposition`
    /// get its `call_complete` at the end of that wait instead (``callComplete(_:disposition:)``);
    /// a call without a row has no such wait and goes to every endpoint now.
    static func callComplete(_ enriched: EnrichedCall) -> WebhookEvent {
        callComplete(enriched, recipients: enriched.vicidial == nil ? .all : .notWaitingForDisposition)
    }

    private static func callComplete(_ enriched: EnrichedCall, recipients: Recipients) -> WebhookEvent {
        var event = WebhookEvent(name: .callComplete, eventID: enriched.call.eventID(.callComplete), callKey: enriched.call.key)
        event.fill(from: enriched)
        event.recipients = recipients
        return event
    }

    /// The one `call_complete` of an endpoint with `wait_for_disposition`, at the end of the
    /// disposition wait: with the disposition, or without it when the wait ended first. Same
    /// `event_id` as the `call_complete` other endpoints got at the hangup: it is that event, later.
    static func callComplete(_ enriched: EnrichedCall, disposition set: DispositionSet?) -> WebhookEvent {
        var event = callComplete(enriched, recipients: .waitingForDisposition)
        if let set { event.fill(from: set) }
        return event
    }

    static func dispositionSet(_ set: DispositionSet) -> WebhookEvent {
        var event = WebhookEvent(name: .dispositionSet, eventID: set.call.call.eventID(.dispositionSet), callKey: set.call.call.key)
        event.fill(from: set.call)
        event.fill(from: set)
        event.recipients = .notWaitingForDisposition
        return event
    }

    private mutating func fill(from set: DispositionSet) {
        disposition = set.status
        agentUser = set.user ?? agentUser
        // The agent's notes: the agent screen writes them to the lead (`vicidial_list.comments`).
        notes = set.leadComments ?? set.comments ?? notes
        extra["dispo"] = set.status
        if let flags = set.flags {
            extra["dispo_name"] = flags.statusName ?? ""
            extra["sale"] = flags.sale ? "Y" : "N"
            extra["human_answered"] = flags.humanAnswered ? "Y" : "N"
            extra["category"] = flags.category ?? ""
        }
    }

    /// The call's own fields, then what its click-to-call request said, then its ViciDial row
    /// (which wins for the fields it has).
    private mutating func fill(from enriched: EnrichedCall) {
        fill(from: enriched.call)
        if let row = enriched.vicidial { fill(from: row) }
    }

    /// A click-to-call that did not reach a conversation: the agent or the customer never answered.
    static func click2callFailed(_ call: CallRecord, reason: String) -> WebhookEvent {
        var event = WebhookEvent(name: .click2callFailed, eventID: call.eventID(.click2callFailed), callKey: call.key)
        event.fill(from: call)
        event.extra["reason"] = reason
        return event
    }

    static func click2callTimedOut(callID: String, server: String, origin: ClickToCallOrigin?) -> WebhookEvent {
        var event = WebhookEvent(
            name: .click2callFailed, eventID: eventID(server: server, subject: callID, name: .click2callFailed, discriminator: "timeout"),
            callKey: "\(server)/\(callID)", server: server, click2callID: callID
        )
        if let origin { event.fill(from: origin) }
        event.extra["reason"] = "timeout"
        return event
    }

    /// `sequence` numbers the UserEvents of one call; one outside any call (0) is told apart by its
    /// own fields, the `Timestamp:` among them when Asterisk sends one.
    static func userEvent(server: String, name: String, linkedid: String?, callID: String?, fields: [String: String], sequence: Int) -> WebhookEvent {
        let discriminator = sequence > 0
            ? "\(sequence)"
            : "0\u{1F}\(name)\u{1F}" + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1F}")
        var event = WebhookEvent(
            name: .userEvent, eventID: eventID(server: server, subject: linkedid ?? "", name: .userEvent, discriminator: discriminator),
            callKey: "\(server)/\(linkedid ?? "none")", linkedid: linkedid, server: server, click2callID: callID
        )
        event.extra = fields.filter { $0.key != "Event" && $0.key != "Privilege" && $0.key != "UserEvent" }
        event.extra["user_event"] = name
        // The channel the dialplan ran on; the call's Linkedid when the event names none.
        event.uniqueid = fields["Uniqueid"]
        event.linkedid = fields["Linkedid"] ?? linkedid
        event.variables = fields.filter { !userEventChannelFields.contains($0.key) }
        return event
    }

    /// What Asterisk puts in every `UserEvent` besides the dialplan's own headers, spelled as
    /// Asterisk spells them: the event's name and class, and the channel snapshot. A dialplan
    /// header spelled otherwise (`event: lead_note`) is the dialplan's and is kept.
    static let userEventChannelFields: Set<String> = [
        "Event", "Privilege", "UserEvent", "Timestamp", "Channel", "ChannelState", "ChannelStateDesc",
        "CallerIDNum", "CallerIDName", "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode",
        "Context", "Exten", "Priority", "Uniqueid", "Linkedid",
    ]

    private mutating func fill(from call: CallRecord) {
        // Room for the fields below at once, instead of growing the dictionary twice per event.
        extra.reserveCapacity(extra.count + 8)
        uniqueid = call.customerLeg?.uniqueid ?? call.agentLeg?.uniqueid ?? call.legs.first?.uniqueid
        linkedid = call.linkedid
        calldate = Self.calldate(call.startedAt)
        phoneNumber = call.phoneNumber
        leadID = call.callerCode?.leadID
        callDuration = call.talkSeconds
        ringDuration = call.ringSeconds
        hangupCause = call.hangupCause
        hangupCauseText = call.hangupCauseText
        server = call.server
        click2callID = call.callID
        reconstructed = call.reconstructed
        if let transfer = call.transfer {
            transferred = true
            transferTarget = transfer.target
            continuedIn = transfer.continuedIn
        }
        if let outcome = call.outcome { extra["outcome"] = outcome.rawValue }
        if let side = call.hungUpFirst { extra["hung_up_first"] = side.rawValue }
        if let code = call.callerCode { extra["call_id"] = code.code }
        extra["uniqueid"] = uniqueid ?? ""
        extra["phone_number"] = phoneNumber ?? ""
        extra["talk_time"] = call.talkSeconds.map(String.init) ?? ""
        extra["epoch"] = String(Int(call.startedAt))
        if let origin = call.clickToCall { fill(from: origin) }
    }

    /// What a click-to-call request said: the number as asked for, agent, campaign, lead, list.
    private mutating func fill(from origin: ClickToCallOrigin) {
        phoneNumber = origin.phoneNumber
        agentUser = origin.agentUser ?? agentUser
        campaignID = origin.campaignID ?? campaignID
        leadID = origin.leadID ?? leadID
        listID = origin.listID ?? listID
        extra["phone_number"] = origin.phoneNumber
        if let user = origin.agentUser { extra["user"] = user }
        if let campaign = origin.campaignID { extra["campaign"] = campaign }
        if let lead = origin.leadID { extra["lead_id"] = String(lead) }
        if let list = origin.listID { extra["list_id"] = String(list) }
    }

    private mutating func fill(from row: ViciDialCallData) {
        uniqueid = row.uniqueid.isEmpty ? uniqueid : row.uniqueid
        calldate = row.callDate ?? calldate
        phoneNumber = row.phoneNumber ?? phoneNumber
        agentUser = row.agentUser ?? agentUser
        campaignID = row.campaignID ?? campaignID
        leadID = Int(row.leadID)
        listID = row.listID.map(Int.init) ?? listID
        if ViciDialFinalStatus.isFinal(row.status) { disposition = row.status }
        callDuration = callDuration ?? row.lengthInSeconds.map(Int.init)
        termReason = row.termReason
        recordingFilename = row.recording?.location ?? row.recording?.filename
        notes = row.comments
        extra["user"] = agentUser ?? ""
        extra["campaign"] = campaignID ?? ""
        extra["lead_id"] = String(row.leadID)
        extra["list_id"] = listID.map(String.init) ?? ""
        extra["recording_filename"] = row.recording?.filename ?? ""
        extra["recording_id"] = row.recording.map { String($0.recordingID) } ?? ""
        if let talk = row.agentTalkSeconds { extra["talk_time"] = String(talk) }
        if let closeCallID = row.closeCallID { fill(inbound: row, closeCallID: closeCallID) }
        if let lead = row.lead {
            for (key, value) in [
                ("vendor_lead_code", lead.vendorLeadCode), ("source_id", lead.sourceID), ("title", lead.title),
                ("first_name", lead.firstName), ("middle_initial", lead.middleInitial), ("last_name", lead.lastName),
                ("address1", lead.address1), ("address2", lead.address2), ("address3", lead.address3), ("city", lead.city),
                ("state", lead.state), ("province", lead.province), ("postal_code", lead.postalCode),
                ("country_code", lead.countryCode), ("alt_phone", lead.altPhone), ("email", lead.email),
                ("comments", lead.comments), ("owner", lead.owner), ("phone_code", lead.phoneCode),
            ] {
                extra[key] = value ?? ""
            }
        }
    }

    /// An inbound call's own keys (`vicidial_closer_log`): `campaign_id` is already the in-group.
    /// Extra keys rather than standard ones, present on inbound calls only: an outbound call has
    /// no DID or queue. Also under the names ViciDial's Dispo Call URL uses (`did_extension`, ...).
    private mutating func fill(inbound row: ViciDialCallData, closeCallID: Int64) {
        extra["closecallid"] = String(closeCallID)
        extra["in_group"] = row.campaignID ?? ""
        extra["queue_seconds"] = row.queueSeconds.map { String(format: "%.2f", $0) } ?? ""
        extra["did"] = row.did?.number ?? ""
        extra["did_extension"] = row.did?.number ?? ""
        extra["did_id"] = row.did?.didID ?? ""
        extra["did_route"] = row.did?.route ?? ""
    }

    /// `YYYY-MM-DD HH:MM:SS` in the server's time zone, as ViciDial writes `call_date`.
    static func calldate(_ epoch: Double) -> String { CalendarText.dateTime(epoch) }
}

extension CallRecord {
    /// Per-call ordering key for webhook delivery: server and Linkedid.
    var key: String { "\(server)/\(linkedid)" }

    /// This call's deterministic id for an event it has at most one of.
    func eventID(_ name: WebhookEvent.Name) -> UUID {
        WebhookEvent.eventID(server: server, subject: linkedid, name: name)
    }
}
