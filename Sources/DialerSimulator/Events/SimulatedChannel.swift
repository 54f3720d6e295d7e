import Foundation

/// One channel of a simulated call as Asterisk 20 describes it in every channel event: the
/// fields, in the order the recorded captures have them (`Channel` ... `Linkedid`).
public struct SimulatedChannel: Sendable, Hashable {
    /// Asterisk's channel states, with the number and text events carry.
    public enum State: Int, Sendable, Hashable {
        case down = 0, ring = 4, ringing = 5, up = 6, busy = 7

        var text: String {
            switch self {
            case .down: "Down"
            case .ring: "Ring"
            case .ringing: "Ringing"
            case .up: "Up"
            case .busy: "Busy"
            }
        }
    }

    public var name: String
    public var state: State = .down
    /// nil is written `<unknown>`, as Asterisk does.
    public var callerIDNum: String?
    public var callerIDName: String?
    public var connectedLineNum: String?
    public var connectedLineName: String?
    public var context: String
    public var exten: String
    public var priority = 1
    public var uniqueid: String
    public var linkedid: String
    /// What the channel runs now (CoreShowChannel's `Application` / `ApplicationData`).
    public var application = "AppDial2"
    public var applicationData = "(Outgoing Line)"
    /// The bridge it is in, if any.
    public var bridgeID: String?
    /// Epoch seconds when it was created (CoreShowChannel's `Duration`).
    public var createdAt: Double

    /// The channel fields of an event, each name with `prefix` (`Dest` for a dial's destination).
    func fields(prefix: String = "") -> String {
        "\(prefix)Channel: \(name)\r\n\(prefix)ChannelState: \(state.rawValue)\r\n\(prefix)ChannelStateDesc: \(state.text)\r\n"
            + "\(prefix)CallerIDNum: \(callerIDNum ?? "<unknown>")\r\n\(prefix)CallerIDName: \(callerIDName ?? "<unknown>")\r\n"
            + "\(prefix)ConnectedLineNum: \(connectedLineNum ?? "<unknown>")\r\n\(prefix)ConnectedLineName: \(connectedLineName ?? "<unknown>")\r\n"
            + "\(prefix)Language: en\r\n\(prefix)AccountCode: \r\n\(prefix)Context: \(context)\r\n\(prefix)Exten: \(exten)\r\n"
            + "\(prefix)Priority: \(priority)\r\n\(prefix)Uniqueid: \(uniqueid)\r\n\(prefix)Linkedid: \(linkedid)\r\n"
    }

    /// This channel as an item of a `CoreShowChannels` list at `now`.
    func coreShowChannel(actionID: String?, at now: Double) -> String {
        let age = max(0, Int(now - createdAt))
        return "Event: CoreShowChannel\r\n" + (actionID.map { "ActionID: \($0)\r\n" } ?? "") + fields()
            + "Application: \(application)\r\nApplicationData: \(applicationData)\r\n"
            + String(format: "Duration: %02d:%02d:%02d\r\n", age / 3600, age / 60 % 60, age % 60)
            + "BridgeId: \(bridgeID ?? "")\r\n\r\n"
    }
}

/// The text of one AMI event, as Asterisk 20 with `timestampevents = yes` writes it.
enum AMIEventText {
    static func event(_ name: String, privilege: String, at time: Double, _ body: String) -> String {
        "Event: \(name)\r\nPrivilege: \(privilege)\r\nTimestamp: \(timestamp(time))\r\n\(body)\r\n"
    }

    /// `1795618109.479830`: seconds with microseconds.
    static func timestamp(_ time: Double) -> String {
        let micros = Int64((time * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}
