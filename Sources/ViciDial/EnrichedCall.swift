import EventMapper
/// Identifies a call across servers: Linkedids are unique per Asterisk server only.
public struct CallKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var server: String
    public var linkedid: String

    public init(server: String, linkedid: String) {
        self.server = server
        self.linkedid = linkedid
    }

    public init(_ call: CallRecord) {
        self.init(server: call.server, linkedid: call.linkedid)
    }

    public var description: String { "\(server)/\(linkedid)" }
}

/// A completed call with what ViciDial's database says about it: what a `call_complete` webhook
/// carries. `vicidial` is nil when no row was found within the wait (or the database was down).
public struct EnrichedCall: Sendable, Hashable, Codable {
    public var call: CallRecord
    public var vicidial: ViciDialCallData?

    public init(call: CallRecord, vicidial: ViciDialCallData?) {
        self.call = call
        self.vicidial = vicidial
    }

    public var key: CallKey { CallKey(call) }
}
