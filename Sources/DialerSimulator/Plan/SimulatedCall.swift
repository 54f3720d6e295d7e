/// An agent logged in to the simulated dialer: a ViciDial user with a SIP phone.
public struct SimulatedAgent: Sendable, Hashable {
    /// `vicidial_users.user` (at most 20 characters).
    public var user: String
    /// The phone's extension: its channels are `SIP/<extension>-<sequence>`.
    public var phoneExtension: String

    public init(user: String, phoneExtension: String) {
        self.user = user
        self.phoneExtension = phoneExtension
    }

    /// What an `Originate` names to ring this agent.
    public var device: String { "SIP/\(phoneExtension)" }
}

/// What the simulated Asterisk was asked by an `Originate` (a click-to-call).
public struct OriginateRequest: Sendable, Hashable {
    public var actionID: String?
    /// The `Channel:` as sent, e.g. `SIP/1001` or `Local/1001@agents`.
    public var channel: String
    public var context: String
    public var exten: String
    /// A channel variable the Originate sets (`Variable: name=value`).
    public struct Variable: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `Variable:` lines, in order.
    public var variables: [Variable]

    public init(actionID: String?, channel: String, context: String, exten: String, variables: [Variable] = []) {
        self.actionID = actionID
        self.channel = channel
        self.context = context
        self.exten = exten
        self.variables = variables
    }
}

/// One call, decided before any event is written: who, to whom, what happens and when. The
/// generator turns it into events, the row plan into ViciDial's rows; neither decides anything.
public struct SimulatedCall: Sendable, Hashable {
    /// This simulator's call number (0, 1, ...): keys the call in the timeline.
    public var sequence: Int
    public var agent: SimulatedAgent
    /// The agent a `transfer` hands the customer to.
    public var transferTarget: SimulatedAgent?
    public var leadID: Int
    public var listID: Int
    public var campaignID: String
    public var phoneNumber: String
    /// The Caller ID name on every leg: a ViciDial caller code (`V...`/`M...`), or what an Originate asked for.
    public var callerIDName: String
    /// The Caller ID number (the campaign's CID).
    public var callerIDNumber: String
    public var outcome: SimulatedOutcome
    /// Epoch seconds of the first event.
    public var startedAt: Double
    /// Seconds the agent's phone rings before answering (or, for agent_no_answer, until the timeout).
    public var agentRingSeconds: Double
    /// Seconds the customer's line rings before the answer (or the dial timeout, for no answer).
    public var customerRingSeconds: Double
    /// Seconds from the customer's answer to the hangup.
    public var talkSeconds: Double
    /// For a transfer: seconds into the talk when the agent starts it.
    public var transferAfterSeconds: Double
    /// Seconds after the hangup when the agent picks the disposition; nil when never (browser closed).
    public var dispositionDelaySeconds: Double?
    /// The disposition the agent picks (or the sweep's status for an unanswered call).
    public var disposition: String
    /// Set for a click-to-call: the Originate this call answers.
    public var originate: OriginateRequest?
    /// The simulator made this lead (and so writes its `vicidial_list` row).
    public var ownsLead: Bool

    /// The lead's name, for its `vicidial_list` row.
    public var firstName: String
    public var lastName: String
}
