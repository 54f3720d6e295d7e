import AMIProtocol

/// The AMI events the call tracker reads, normalised across Asterisk versions: Asterisk 11's
/// `Dial` (`SubEvent: Begin/End`), `Bridge` (`Bridgestate: Link`), `UniqueID`/`DestUniqueID`
/// spellings and missing `Linkedid` map onto the same cases as Asterisk 13+'s `DialBegin`,
/// `BridgeEnter` and friends. Events the tracker does not use are `.other` and pass through.
public enum ChannelEvent: Sendable, Equatable {
    case newChannel(ChannelSnapshot)
    case newState(ChannelSnapshot)
    /// NewCallerid, NewConnectedLine: caller ID or connected line changed.
    case callerIDChanged(ChannelSnapshot)
    /// A dial attempt: `caller` is nil for the originated leg of an `Originate` (Asterisk 13+).
    case dialBegin(caller: String?, destination: String, dialString: String?)
    /// A dial outcome. Asterisk 11 names only the caller; the status then applies to every
    /// destination that caller dialed.
    case dialEnd(caller: String?, destination: String?, status: String)
    /// Two channels joined: Asterisk 11 `Bridge` Link, `LocalBridge`, `Masquerade`, `Transfer`.
    case linked(String, String)
    /// Asterisk 11 `Masquerade`: names only, resolved to uniqueids by the tracker at that moment.
    case masquerade(clone: String, original: String)
    case bridgeEnter(uniqueid: String, bridge: String)
    case bridgeLeave(uniqueid: String, bridge: String)
    /// HangupRequest / SoftHangupRequest: a side asked to end the call (a SIP BYE, a dialplan
    /// `Hangup()`); the first one tells who hung up first.
    case hangupRequest(uniqueid: String)
    case hangup(uniqueid: String, channel: String, cause: Int, causeText: String)
    case originateResponse(actionID: String?, success: Bool, reason: Int, uniqueid: String?, channel: String)
    case variableSet(uniqueid: String, name: String, value: String)
    case rename(uniqueid: String, newName: String)
    case userEvent(name: String, uniqueid: String?, linkedid: String?, fields: [AMIField])
    /// A CDR record (`cdr_manager`): the tracker keeps its own times and ignores it.
    case cdr(uniqueid: String?, disposition: String?, billableSeconds: Int?)
    /// An item of a `CoreShowChannels` list, used when reconciling after a reconnect.
    case coreShowChannel(ChannelSnapshot, seconds: Double?)
    case other(String)
}

/// What an event says about one channel.
public struct ChannelSnapshot: Sendable, Equatable {
    public var uniqueid: String
    /// Asterisk 13.5+; nil on Asterisk 11, where calls are grouped from Dial/Bridge relations.
    public var linkedid: String?
    public var channel: String
    /// Asterisk channel state number (4 Ring, 5 Ringing, 6 Up, 7 Busy ...).
    public var state: Int?
    public var callerIDNum: String?
    public var callerIDName: String?
    public var connectedLineNum: String?
    public var connectedLineName: String?
}

extension ChannelEvent {
    /// Reads an AMI event. Returns `.other` for events the tracker ignores, cheaply: most of a
    /// dialer's traffic (Newexten, DeviceStateChange, RTCP, VarSet of other variables) ends here.
    public init(_ message: AMIMessage) {
        guard let name = message.eventName else {
            self = .other("")
            return
        }
        switch name {
        case "Newchannel":
            self = message.snapshot.map(ChannelEvent.newChannel) ?? .other(name)
        case "Newstate":
            self = message.snapshot.map(ChannelEvent.newState) ?? .other(name)
        case "NewCallerid", "NewConnectedLine":
            self = message.snapshot.map(ChannelEvent.callerIDChanged) ?? .other(name)
        case "DialBegin":
            guard let destination = message["DestUniqueid"] else { self = .other(name); return }
            self = .dialBegin(caller: message["Uniqueid"], destination: destination, dialString: message["DialString"])
        case "DialEnd":
            guard let status = message["DialStatus"] else { self = .other(name); return }
            self = .dialEnd(caller: message["Uniqueid"], destination: message["DestUniqueid"], status: status)
        case "Dial":
            // Asterisk 1.8-11.
            let subEvent = message["SubEvent"]?.lowercased()
            if subEvent == "begin", let caller = message["UniqueID"], let destination = message["DestUniqueID"] {
                self = .dialBegin(caller: caller, destination: destination, dialString: message["Dialstring"])
            } else if subEvent == "end", let status = message["DialStatus"] {
                self = .dialEnd(caller: message["UniqueID"], destination: nil, status: status)
            } else {
                self = .other(name)
            }
        case "Bridge":
            // Asterisk 1.8-11: pairwise link.
            if message["Bridgestate"]?.lowercased() == "link", let first = message["Uniqueid1"], let second = message["Uniqueid2"] {
                self = .linked(first, second)
            } else {
                self = .other(name)
            }
        case "LocalBridge":
            if let first = message["Uniqueid1"] ?? message["LocalOneUniqueid"], let second = message["Uniqueid2"] ?? message["LocalTwoUniqueid"] {
                self = .linked(first, second)
            } else {
                self = .other(name)
            }
        case "Transfer":
            if let first = message["Uniqueid"], let second = message["TargetUniqueid"] {
                self = .linked(first, second)
            } else {
                self = .other(name)
            }
        case "Masquerade":
            guard let clone = message["Clone"], let original = message["Original"] else { self = .other(name); return }
            self = .masquerade(clone: clone, original: original)
        case "BridgeEnter", "BridgeLeave":
            guard let uniqueid = message["Uniqueid"], let bridge = message["BridgeUniqueid"] else { self = .other(name); return }
            self = name == "BridgeEnter" ? .bridgeEnter(uniqueid: uniqueid, bridge: bridge) : .bridgeLeave(uniqueid: uniqueid, bridge: bridge)
        case "HangupRequest", "SoftHangupRequest":
            guard let uniqueid = message["Uniqueid"] else { self = .other(name); return }
            self = .hangupRequest(uniqueid: uniqueid)
        case "Hangup":
            guard let uniqueid = message["Uniqueid"] else { self = .other(name); return }
            self = .hangup(
                uniqueid: uniqueid, channel: message["Channel"] ?? "",
                cause: message["Cause"].flatMap { Int($0) } ?? 0, causeText: message["Cause-txt"] ?? ""
            )
        case "OriginateResponse":
            let uniqueid = message["Uniqueid"].flatMap { ChannelSnapshot.known($0) }
            self = .originateResponse(
                actionID: message.actionID,
                success: message["Response"]?.lowercased() == "success",
                reason: message["Reason"].flatMap { Int($0) } ?? 0,
                uniqueid: uniqueid, channel: message["Channel"] ?? ""
            )
        case "VarSet":
            guard let uniqueid = message["Uniqueid"], let variable = message["Variable"] else { self = .other(name); return }
            self = .variableSet(uniqueid: uniqueid, name: variable, value: message["Value"] ?? "")
        case "Rename":
            guard let uniqueid = message["Uniqueid"], let newName = message["Newname"] else { self = .other(name); return }
            self = .rename(uniqueid: uniqueid, newName: newName)
        case "UserEvent":
            guard let userEvent = message["UserEvent"] else { self = .other(name); return }
            self = .userEvent(name: userEvent, uniqueid: message["Uniqueid"], linkedid: message["Linkedid"], fields: message.fields)
        case "Cdr":
            self = .cdr(uniqueid: message["UniqueID"], disposition: message["Disposition"], billableSeconds: message["BillableSeconds"].flatMap { Int($0) })
        case "CoreShowChannel":
            self = message.snapshot.map { .coreShowChannel($0, seconds: message["Duration"].flatMap(CallTracker.parseDuration)) } ?? .other(name)
        default:
            self = .other(name)
        }
    }
}

extension AMIMessage {
    /// The channel fields common to channel events, in either dialect.
    var snapshot: ChannelSnapshot? {
        guard let uniqueid = self["Uniqueid"], let channel = self["Channel"] else { return nil }
        return ChannelSnapshot(
            uniqueid: uniqueid,
            linkedid: self["Linkedid"],
            channel: channel,
            state: self["ChannelState"].flatMap { Int($0) },
            callerIDNum: ChannelSnapshot.known(self["CallerIDNum"]),
            callerIDName: ChannelSnapshot.known(self["CallerIDName"]),
            connectedLineNum: ChannelSnapshot.known(self["ConnectedLineNum"]),
            connectedLineName: ChannelSnapshot.known(self["ConnectedLineName"])
        )
    }
}

extension ChannelSnapshot {
    /// Asterisk writes an unknown value as `<unknown>` (20), `""` or `<null>` (11): all mean nil.
    static func known(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value != "<unknown>", value != "<null>" else { return nil }
        return value
    }
}
