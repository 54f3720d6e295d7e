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
    case insertCallLog(uniqueid: String, leadID: Int, listID: Int, campaignID: String, phoneNumber: String, user: String,
                       status: String, startEpoch: Double, endEpoch: Double?)
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
