/// One change ViciDial makes to its tables, decided by ``ViciDialRowPlan`` and carried out by
/// ``ViciDialRowWriter``: the what, apart from the SQL.
public enum ViciDialRowWrite: Sendable, Hashable {
    /// The agent logs in to the agent screen: `vicidial_users`, `phones` (if missing) and a
    /// `vicidial_live_agents` row.
    case agentLogin(SimulatedAgent, campaignID: String, serverIP: String, at: Double)
    /// The agent's `vicidial_live_agents` row goes away (the simulator stops).
    case agentLogout(user: String)
    /// A lead for the hopper (`vicidial_list`, status NEW).
    case insertLead(leadID: Int, listID: Int, phoneNumber: String, firstName: String, lastName: String, at: Double)
    /// The dialer calls the lead: status, called_count, last_local_call_time.
    case leadDialed(leadID: Int, status: String, at: Double)
    /// `vicidial_log` INSERT: at the answer (auto-dial, QUEUE/VDAD), at ringing (manual dial,
    /// INCALL with the agent) or by the sweep of an unanswered attempt (its final status, 0 s).
    case insertCallLog(CallLogRow)
    /// The agent takes the answered call: QUEUE/VDAD becomes INCALL with the agent's user.
    case agentTakesCall(uniqueid: String, user: String)
    /// The hangup: end_epoch, length_in_sec, term_reason; INCALL becomes DISPO.
    case callEnded(uniqueid: String, endEpoch: Double, termReason: String)
    /// The agent's disposition: the lead, the newest log row of that lead and user, the agent log.
    case dispose(leadID: Int, user: String, uniqueid: String, status: String, at: Double)
    /// `vicidial_agent_log`: the talk starts (one row per pause→wait→talk→dispo cycle).
    case agentLogTalk(user: String, leadID: Int, campaignID: String, uniqueid: String, serverIP: String, waitEpoch: Double, talkEpoch: Double)
    /// `vicidial_agent_log`: the talk ends, the dispo screen opens.
    case agentLogHangup(user: String, uniqueid: String, talkSeconds: Int, dispoEpoch: Double)
    /// `recording_log`: the recording starts with the answer (`vicidial_id` = the log row's uniqueid).
    case recordingStarted(channel: String, serverIP: String, leadID: Int, user: String, vicidialID: String, filename: String, at: Double)
    case recordingEnded(vicidialID: String, at: Double)
    /// `vicidial_live_agents`: the agent's state (READY, INCALL with the call, PAUSED in the dispo screen).
    case liveAgent(user: String, status: String, leadID: Int, uniqueid: String, callerCode: String, channel: String, at: Double)
}

/// A new `vicidial_log` row (with its `vicidial_log_extended` twin, which maps the caller code to
/// the uniqueid).
public struct CallLogRow: Sendable, Hashable {
    /// The customer (trunk) channel's uniqueid.
    public var uniqueid: String
    public var leadID: Int
    public var listID: Int
    public var campaignID: String
    public var phoneNumber: String
    public var callerCode: String
    public var user: String
    public var status: String
    public var startEpoch: Double
    /// Set for the sweep's row of an unanswered attempt; nil until the hangup otherwise.
    public var endEpoch: Double?

    public init(uniqueid: String, leadID: Int, listID: Int, campaignID: String, phoneNumber: String, callerCode: String, user: String,
                status: String, startEpoch: Double, endEpoch: Double?) {
        self.uniqueid = uniqueid
        self.leadID = leadID
        self.listID = listID
        self.campaignID = campaignID
        self.phoneNumber = phoneNumber
        self.callerCode = callerCode
        self.user = user
        self.status = status
        self.startEpoch = startEpoch
        self.endEpoch = endEpoch
    }
}
