import MariaDB
/// Which ViciDial row a call was joined to. Outbound attempts are keyed by `vicidial_log.uniqueid`;
/// inbound (in-group) calls by `vicidial_closer_log.closecallid`, because their `uniqueid` column
/// may be empty and `recording_log.vicidial_id` points at the closecallid.
public enum ViciDialRowID: Sendable, Hashable, Codable, CustomStringConvertible {
    case outbound(uniqueid: String)
    case inbound(closeCallID: Int64)

    /// The value `recording_log.vicidial_id` holds for this row.
    public var recordingKey: String {
        switch self {
        case .outbound(let uniqueid): uniqueid
        case .inbound(let closeCallID): String(closeCallID)
        }
    }

    public var description: String {
        switch self {
        case .outbound(let uniqueid): "vicidial_log:\(uniqueid)"
        case .inbound(let closeCallID): "vicidial_closer_log:\(closeCallID)"
        }
    }
}

/// What the ViciDial database knows about one call: the attempt's row (`vicidial_log`, or
/// `vicidial_closer_log` for inbound), the lead, the recording, the agent's talk time and the
/// meaning of the status. Webhooks need these because AMI never carries lead, campaign or
/// disposition. Every field ViciDial may leave empty is optional: rows appear and fill in late.
public struct ViciDialCallData: Sendable, Hashable, Codable {
    public var rowID: ViciDialRowID
    /// The row's `uniqueid` (for inbound rows possibly empty).
    public var uniqueid: String
    public var leadID: Int64
    public var listID: Int64?
    /// The campaign (outbound) or in-group (inbound).
    public var campaignID: String?
    /// The agent, from the row's `user` (`VDAD` while an auto-dialed call waits for an agent).
    public var user: String?
    /// The row's status when it was read: the disposition once the agent has picked one.
    public var status: String?
    public var phoneCode: String?
    public var phoneNumber: String?
    public var termReason: String?
    public var lengthInSeconds: Int64?
    public var comments: String?
    public var callDate: String?
    public var startEpoch: Int64?
    public var endEpoch: Int64?
    /// Inbound: seconds the call waited in the in-group's queue before an agent took it
    /// (`vicidial_closer_log.queue_seconds`, two decimals). Nil for outbound rows.
    public var queueSeconds: Double?
    /// Inbound: the DID the call came in on (`vicidial_did_log`, by uniqueid); nil when ViciDial
    /// logged none (a call that reached the in-group another way) or for outbound rows.
    public var did: ViciDialDID?
    /// Set by lookups after the row: nil when there is no such lead (or it was not read).
    public var lead: ViciDialLead?
    public var recording: ViciDialRecording?
    /// `talk_sec - dead_sec` of the agent's `vicidial_agent_log` row: talk without the dead time
    /// after the customer hung up, which `length_in_sec` includes.
    public var agentTalkSeconds: Int64?
    /// What `status` means (sale, human answered...), campaign definition first.
    public var statusFlags: ViciDialStatusFlags?

    /// ``user`` when it names an agent: nil for ViciDial's placeholders `VDAD` (an auto-dialed
    /// call no agent has taken yet) and `VDCL` (an inbound call no agent took).
    public var agentUser: String? { ViciDialCallData.agent(user) }

    /// `user` unless it is empty or one of ViciDial's placeholders for "no agent".
    public static func agent(_ user: String?) -> String? {
        guard let user, !user.isEmpty, user != "VDAD", user != "VDCL" else { return nil }
        return user
    }

    public var isInbound: Bool {
        if case .inbound = rowID { return true }
        return false
    }

    /// `vicidial_closer_log.closecallid` for inbound rows.
    public var closeCallID: Int64? {
        if case .inbound(let id) = rowID { return id }
        return nil
    }

    /// ViciDial has written the hangup (`end_epoch`): until then `length_in_sec` and
    /// `term_reason` are not final, so enrichment keeps waiting for it (bounded).
    public var isHangupWritten: Bool { (endEpoch ?? 0) > 0 }

    public init(rowID: ViciDialRowID, uniqueid: String, leadID: Int64) {
        self.rowID = rowID
        self.uniqueid = uniqueid
        self.leadID = leadID
    }
}

/// The DID an inbound call was routed by: its `vicidial_did_log` row.
public struct ViciDialDID: Sendable, Hashable, Codable {
    /// `extension`: the number the caller dialed.
    public var number: String
    /// `did_id`: the DID's id in `vicidial_inbound_dids`.
    public var didID: String?
    /// `did_route`: where the DID sent the call (`IN_GROUP`, `EXTEN`, ...).
    public var route: String?

    public init(number: String, didID: String? = nil, route: String? = nil) {
        self.number = number
        self.didID = didID
        self.route = route
    }
}

/// The lead (`vicidial_list`) fields a CRM matches and displays.
public struct ViciDialLead: Sendable, Hashable, Codable {
    public var leadID: Int64
    public var listID: Int64?
    /// The lead's status: the last disposition (ViciDial writes it with the log row's).
    public var status: String?
    public var user: String?
    public var vendorLeadCode: String?
    public var sourceID: String?
    public var phoneCode: String?
    public var phoneNumber: String?
    public var title: String?
    public var firstName: String?
    public var middleInitial: String?
    public var lastName: String?
    public var address1: String?
    public var address2: String?
    public var address3: String?
    public var city: String?
    public var state: String?
    public var province: String?
    public var postalCode: String?
    public var countryCode: String?
    public var altPhone: String?
    public var email: String?
    public var comments: String?
    public var owner: String?
    public var calledCount: Int64?

    public init(leadID: Int64) {
        self.leadID = leadID
    }
}

/// The call's recording (`recording_log`), joined through `vicidial_id`.
public struct ViciDialRecording: Sendable, Hashable, Codable {
    public var recordingID: Int64
    public var filename: String?
    /// A file path at first; ViciDial's archiving cron later rewrites it to an HTTP URL.
    public var location: String?
    public var lengthInSeconds: Int64?
    public var startEpoch: Int64?
    /// `start_time` / `end_time` as ViciDial writes them: `YYYY-MM-DD HH:MM:SS` in the database
    /// server's local time.
    public var startTime: String?
    public var endTime: String?
    public var leadID: Int64?
    /// The agent who was recorded.
    public var user: String?
    /// `vicidial_id`: the outbound call's `vicidial_log.uniqueid`, or the inbound call's
    /// `vicidial_closer_log.closecallid`.
    public var vicidialID: String?
    /// The lead's number (`vicidial_list.phone_number`, without its `phone_code`), read only by
    /// the API's recording lookups (``init(callRow:)``); nil elsewhere.
    public var phoneNumber: String?
    /// The call's `call_date` (`vicidial_log`, or `vicidial_closer_log` for inbound; the
    /// recording's start when neither row is there), ViciDial's local time; API lookups only.
    public var callDate: String?

    public init(recordingID: Int64) {
        self.recordingID = recordingID
    }
}

extension ViciDialRecording {
    /// The `recording_log` columns ``init(row:)`` reads, prefixed with `table.` when given.
    static func columns(table: String? = nil) -> String {
        let prefix = table.map { $0 + "." } ?? ""
        return ["recording_id", "vicidial_id", "filename", "location", "length_in_sec", "start_epoch", "start_time", "end_time", "lead_id", "user"]
            .map { prefix + $0 }.joined(separator: ", ")
    }

    /// A row selected with ``columns(table:)``; nil without a recording id.
    init?(row: MariaDBRow) throws {
        guard let id = try row.int("recording_id") else { return nil }
        self.init(recordingID: id)
        vicidialID = try row.string("vicidial_id")
        filename = try row.string("filename")
        location = try row.string("location")
        lengthInSeconds = try row.int("length_in_sec")
        startEpoch = try row.int("start_epoch")
        startTime = try row.string("start_time")
        endTime = try row.string("end_time")
        leadID = try row.int("lead_id")
        user = try row.string("user")
    }

    /// The columns of ``init(callRow:)``: the recording `r`'s, and its call's number and date
    /// from the tables ``callJoins(recording:)`` joins.
    static func columnsWithCall(recording r: String) -> String {
        columns(table: r) + ", l.phone_number AS phone_number, COALESCE(v.call_date, c.call_date, \(r).start_time) AS call_date"
    }

    /// The lead, and the outbound (`vicidial_log.uniqueid`) or inbound (`closecallid`, a number:
    /// an outbound uniqueid holds a dot) row of the recording `r`'s call, each by its index.
    static func callJoins(recording r: String, lead: Bool = true) -> String {
        (lead ? "LEFT JOIN vicidial_list l ON l.lead_id = \(r).lead_id " : "")
            + "LEFT JOIN vicidial_log v ON v.uniqueid = \(r).vicidial_id "
            + "LEFT JOIN vicidial_closer_log c ON \(r).vicidial_id NOT LIKE '%.%' AND c.closecallid = \(r).vicidial_id"
    }

    /// A row selected with ``columnsWithCall(recording:)``.
    init?(callRow row: MariaDBRow) throws {
        try self.init(row: row)
        phoneNumber = try row.string("phone_number")
        callDate = try row.string("call_date")
    }
}
