/// Which side of an answered call ended it.
public enum SimulatedSide: String, Sendable, Hashable {
    case agent
    case customer
}

/// What an event does to the live channel table (CoreShowChannels, the Hangup action).
public enum ChannelChange: Sendable, Hashable {
    /// The channel exists, as described.
    case set(SimulatedChannel)
    /// The channel hung up.
    case gone(uniqueid: String)
}

/// One AMI event of a call, due at `at` (epoch seconds).
public struct ScriptedEvent: Sendable, Hashable {
    public var at: Double
    /// The event's text, CRLF lines and the empty line after them.
    public var text: String
    public var change: ChannelChange?
}

/// A call's events in order, with what the row plan needs to know about them.
public struct CallScript: Sendable {
    public var call: SimulatedCall
    public var events: [ScriptedEvent]
    public var linkedid: String
    public var agentChannel: String
    /// The customer (trunk) leg: `vicidial_log.uniqueid`; nil when no customer was dialed.
    public var customerUniqueid: String?
    /// When the customer's line started ringing (manual dial inserts its row then).
    public var customerRingingAt: Double?
    public var customerAnsweredAt: Double?
    /// The last Hangup.
    public var endedAt: Double
    /// For an answered call: who hung up first (a transfer: the agent, who left).
    public var hungUpFirst: SimulatedSide?
}
