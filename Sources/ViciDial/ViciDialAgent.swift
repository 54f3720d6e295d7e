/// What a CRM shows about an agent: ViciDial's live state (`vicidial_live_agents`) and the day's
/// work so far (`vicidial_agent_log`).
public struct ViciDialAgentStatus: Sendable, Hashable {
    /// The user name as ViciDial stores it (the lookup is case-insensitive, like ViciDial's).
    public var user: String
    public var fullName: String?
    /// The live status (READY, QUEUE, INCALL, PAUSED, CLOSER, MQUEUE), or ``loggedOut``.
    public var status: String
    /// Set while the agent is logged in.
    public var live: Live?
    /// The database server's date (`CURDATE()`) that ``callsToday`` and ``talkSecondsToday`` cover.
    public var today: String
    /// `vicidial_agent_log` rows of today with a lead: one per call the agent handled.
    public var callsToday: Int64
    /// `talk_sec - dead_sec` summed over today's rows: talk without the dead time after the
    /// customer hung up.
    public var talkSecondsToday: Int64

    /// The status of a known user who is not logged in.
    public static let loggedOut = "LOGGED_OUT"

    /// The agent's `vicidial_live_agents` row.
    public struct Live: Sendable, Hashable {
        public var campaignID: String?
        /// The lead on screen; nil when none (ViciDial writes 0).
        public var leadID: Int64?
        /// nil when not paused with a code (ViciDial writes '').
        public var pauseCode: String?
        /// ViciDial's own counter of the session's calls.
        public var callsToday: Int64?
        /// `YYYY-MM-DD HH:MM:SS`, the database server's local time.
        public var lastStateChange: String?
        public var serverIP: String?
        /// `extension`: the agent's phone as ViciDial dials it (`SIP/1001`).
        public var phoneChannel: String?

        public init() {}
    }

    public init(user: String, status: String, today: String, callsToday: Int64 = 0, talkSecondsToday: Int64 = 0) {
        self.user = user
        self.status = status
        self.today = today
        self.callsToday = callsToday
        self.talkSecondsToday = talkSecondsToday
    }
}

/// The phone an agent logs in with, as click-to-call dials it: agent user →
/// `vicidial_users.phone_login` → `phones.login`.
public struct AgentPhone: Sendable, Hashable {
    public var user: String
    /// `vicidial_users.phone_login` (= `phones.login`).
    public var phoneLogin: String
    /// The Asterisk channel to originate to: `<protocol>/<extension>` (`SIP/1001`, `PJSIP/1001`,
    /// `IAX2/1001`; `Zap` phones as `DAHDI/`, the driver's name since Asterisk 1.6), or for
    /// `EXTERNAL` phones a Local channel to the dialplan number in ViciDial's `default` context.
    public var channel: String
    /// The Asterisk server the phone is registered on (`phones.server_ip`).
    public var serverIP: String
    /// `phones.protocol`: SIP, PJSIP, IAX2, Zap or EXTERNAL.
    public var phoneProtocol: String
    /// `phones.extension`.
    public var phoneExtension: String
    /// `phones.dialplan_number`: what the dialplan dials for this phone (EXTERNAL phones: the number).
    public var dialplanNumber: String?

    public init(user: String, phoneLogin: String, channel: String, serverIP: String, phoneProtocol: String, phoneExtension: String, dialplanNumber: String?) {
        self.user = user
        self.phoneLogin = phoneLogin
        self.channel = channel
        self.serverIP = serverIP
        self.phoneProtocol = phoneProtocol
        self.phoneExtension = phoneExtension
        self.dialplanNumber = dialplanNumber
    }

    /// The channel for a `phones` row; nil when the row gives nothing to dial.
    static func channel(protocol phoneProtocol: String, extension phoneExtension: String, dialplanNumber: String?) -> String? {
        switch phoneProtocol.uppercased() {
        case "EXTERNAL":
            guard let number = dialplanNumber, !number.isEmpty else { return nil }
            return "Local/\(number)@default"
        case "ZAP":
            return phoneExtension.isEmpty ? nil : "DAHDI/\(phoneExtension)"
        default:
            return phoneProtocol.isEmpty || phoneExtension.isEmpty ? nil : "\(phoneProtocol)/\(phoneExtension)"
        }
    }
}
