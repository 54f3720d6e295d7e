/// What a click-to-call request said about its call: the agent, campaign, lead, list and number
/// the CRM asked for. Its webhooks carry these even when ViciDial writes no row for the call (a
/// row, when one appears, wins for the fields it has), and it travels with the call through the
/// row and disposition waits, on disk, so a restart keeps it.
public struct ClickToCallOrigin: Sendable, Hashable, Codable {
    /// The ViciDial user the request named (nil when it gave `agent_phone`).
    public var agentUser: String?
    public var campaignID: String?
    public var leadID: Int?
    public var listID: Int?
    /// The customer's number as the request gave it (normalised: digits, `+` kept).
    public var phoneNumber: String

    public init(agentUser: String?, campaignID: String?, leadID: Int?, listID: Int?, phoneNumber: String) {
        self.agentUser = agentUser
        self.campaignID = campaignID
        self.leadID = leadID
        self.listID = listID
        self.phoneNumber = phoneNumber
    }

    /// Whether ViciDial may write a `vicidial_log` row for this call, so the bridge waits for it.
    ///
    /// `vicidial_log.lead_id` is NOT NULL: ViciDial logs a call only for a lead it knows. A call the
    /// bridge originated reaches ViciDial's tables only through its caller code (the `M` code with
    /// the lead_id, which the bridge puts in the caller ID name when the request has a `lead_id`).
    /// Without a `lead_id` nothing in ViciDial names the call, so no row will come and there is no
    /// row to carry a disposition: the call's `call_complete` goes out at once.
    public var expectsViciDialRow: Bool { leadID != nil }
}
