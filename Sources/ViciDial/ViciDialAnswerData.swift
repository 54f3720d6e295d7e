/// What ViciDial knows about a call at its answer, for `call_answered` as a screen pop: the agent
/// the call reached and the lead it is for. Read from the agent's `vicidial_live_agents` row (the
/// call's uniqueid or caller code) and the call's `vicidial_log`/`vicidial_closer_log` row, which
/// ViciDial writes at the answer (outbound) or when the call enters an in-group (inbound), with
/// the lead's `vicidial_list` fields.
public struct ViciDialAnswerData: Sendable, Hashable, Codable {
    /// The agent on the call: the live agent row's `user`, else the log row's (never `VDAD`/`VDCL`).
    public var agentUser: String?
    public var leadID: Int64?
    public var listID: Int64?
    /// The campaign (outbound) or in-group (inbound: the closer log's `campaign_id`).
    public var campaignID: String?
    public var phoneCode: String?
    public var phoneNumber: String?
    public var firstName: String?
    public var lastName: String?
    public var vendorLeadCode: String?
    /// `vicidial_closer_log.closecallid` when the call is inbound and its row is there.
    public var closeCallID: Int64?

    public init(agentUser: String? = nil, leadID: Int64? = nil) {
        self.agentUser = agentUser
        self.leadID = leadID
    }

    /// Both what a screen pop needs: the call waits for no more.
    public var isComplete: Bool { agentUser != nil && leadID != nil }
}
