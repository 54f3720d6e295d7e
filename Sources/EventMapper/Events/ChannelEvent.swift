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
    /// destination that caller dialed. `forward`: the number the destination forwarded the call
    /// to (a SIP 302), which Dial() then dials as a new destination.
    case dialEnd(caller: String?, destination: String?, status: String, forward: String? = nil)
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
    /// `Pickup` (Asterisk 13+): `picker` answered the ringing channel `target` in its place, and
    /// moves into the target's call (`targetLinkedid`).
    case pickup(picker: String, target: String, targetLinkedid: String?)
    /// A successful `BlindTransfer` or `AttendedTransfer` (Asterisk 13+) among the channels
    /// `parties` (transferer, transferee, second transferer); `destination` is a blind
    /// transfer's extension, or an attended transfer's target extension when Asterisk names it.
    case transferred(parties: [String], destination: String?)
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
        guard let kind = Kind(message) else {
            self = .other(message.eventName ?? "")
            return
        }
        self = ChannelEvent(kind, fields: kind.fields(of: message), message: message) ?? .other(kind.eventName)
    }

    /// The events the tracker reads, by their exact `Event:` name.
    enum Kind: Int, CaseIterable {
        case newchannel, newstate, newCallerid, newConnectedLine
        case dialBegin, dialEnd, dial
        case bridge, localBridge, transfer, masquerade, bridgeEnter, bridgeLeave
        case hangupRequest, softHangupRequest, hangup
        case originateResponse, varSet, rename, userEvent, cdr, coreShowChannel
        case pickup, attendedTransfer, blindTransfer

        var eventName: String {
            switch self {
            case .newchannel: "Newchannel"
            case .newstate: "Newstate"
            case .newCallerid: "NewCallerid"
            case .newConnectedLine: "NewConnectedLine"
            case .dialBegin: "DialBegin"
            case .dialEnd: "DialEnd"
            case .dial: "Dial"
            case .bridge: "Bridge"
            case .localBridge: "LocalBridge"
            case .transfer: "Transfer"
            case .masquerade: "Masquerade"
            case .bridgeEnter: "BridgeEnter"
            case .bridgeLeave: "BridgeLeave"
            case .hangupRequest: "HangupRequest"
            case .softHangupRequest: "SoftHangupRequest"
            case .hangup: "Hangup"
            case .originateResponse: "OriginateResponse"
            case .varSet: "VarSet"
            case .rename: "Rename"
            case .userEvent: "UserEvent"
            case .cdr: "Cdr"
            case .coreShowChannel: "CoreShowChannel"
            case .pickup: "Pickup"
            case .attendedTransfer: "AttendedTransfer"
            case .blindTransfer: "BlindTransfer"
            }
        }

        static let names = AMIKeywords(allCases.map(\.eventName), ignoringCase: false)

        /// The kind of `message`, by its first `Event:` field; nil for every other event.
        init?(_ message: AMIMessage) {
            guard let index = message.firstValue(of: "Event", in: Self.names) else { return nil }
            self = Self.allCases[index]
        }

        /// The headers an event of this kind is read from (and its `Timestamp`).
        var fieldsRead: [Field] {
            switch self {
            case .newchannel, .newstate, .newCallerid, .newConnectedLine: Field.snapshot
            case .coreShowChannel: Field.snapshot + [.duration]
            case .dialBegin: [.destUniqueid, .uniqueid, .dialString, .linkedid, .destLinkedid]
            case .dialEnd: [.dialStatus, .uniqueid, .destUniqueid, .linkedid, .destLinkedid, .forward]
            case .dial: [.subEvent, .uniqueid, .destUniqueid, .dialString, .dialStatus]
            case .bridge: [.bridgestate, .uniqueid1, .uniqueid2]
            case .localBridge: [.uniqueid1, .localOneUniqueid, .uniqueid2, .localTwoUniqueid]
            case .transfer: [.uniqueid, .targetUniqueid]
            case .masquerade: [.clone, .original]
            case .bridgeEnter, .bridgeLeave: [.uniqueid, .bridgeUniqueid, .linkedid]
            case .hangupRequest, .softHangupRequest: [.uniqueid, .linkedid]
            case .hangup: [.uniqueid, .channel, .cause, .causeText, .linkedid]
            case .originateResponse: [.actionID, .response, .reason, .uniqueid, .channel]
            case .varSet: [.uniqueid, .variable, .value]
            case .rename: [.uniqueid, .newname]
            case .userEvent: [.userEvent, .uniqueid, .linkedid]
            case .cdr: [.uniqueid, .disposition, .billableSeconds]
            case .pickup: [.uniqueid, .targetUniqueid, .targetLinkedid]
            case .attendedTransfer: [.result, .origTransfererUniqueid, .secondTransfererUniqueid, .transfereeUniqueid, .transferTargetExten]
            case .blindTransfer: [.result, .transfererUniqueid, .transfereeUniqueid, .transferExtension]
            }
        }

        private static let selections = allCases.map { kind in
            Field.names.selection((kind.fieldsRead + [.timestamp]).map(\.rawValue))
        }

        /// The fields of `message` this kind reads, in one pass.
        func fields(of message: AMIMessage) -> AMIFieldValues {
            message.firstValues(of: Field.names, Self.selections[rawValue])
        }
    }

    /// Every header the tracker reads, found in one pass over an event. Names are
    /// case-insensitive, so Asterisk 11's `UniqueID`/`Dialstring` are the same fields.
    enum Field: Int, CaseIterable {
        case timestamp, uniqueid, linkedid, channel, channelState
        case callerIDNum, callerIDName, connectedLineNum, connectedLineName
        case destUniqueid, dialString, dialStatus, subEvent
        case bridgestate, uniqueid1, uniqueid2, localOneUniqueid, localTwoUniqueid, targetUniqueid
        case clone, original, bridgeUniqueid
        case cause, causeText, actionID, response, reason
        case variable, value, newname, userEvent
        case disposition, billableSeconds, duration
        case destLinkedid, targetLinkedid, result, transfererUniqueid, transfereeUniqueid
        case origTransfererUniqueid, secondTransfererUniqueid, transferExtension, transferTargetExten, forward

        var headerName: String {
            switch self {
            case .timestamp: "Timestamp"
            case .uniqueid: "Uniqueid"
            case .linkedid: "Linkedid"
            case .channel: "Channel"
            case .channelState: "ChannelState"
            case .callerIDNum: "CallerIDNum"
            case .callerIDName: "CallerIDName"
            case .connectedLineNum: "ConnectedLineNum"
            case .connectedLineName: "ConnectedLineName"
            case .destUniqueid: "DestUniqueid"
            case .dialString: "DialString"
            case .dialStatus: "DialStatus"
            case .subEvent: "SubEvent"
            case .bridgestate: "Bridgestate"
            case .uniqueid1: "Uniqueid1"
            case .uniqueid2: "Uniqueid2"
            case .localOneUniqueid: "LocalOneUniqueid"
            case .localTwoUniqueid: "LocalTwoUniqueid"
            case .targetUniqueid: "TargetUniqueid"
            case .clone: "Clone"
            case .original: "Original"
            case .bridgeUniqueid: "BridgeUniqueid"
            case .cause: "Cause"
            case .causeText: "Cause-txt"
            case .actionID: "ActionID"
            case .response: "Response"
            case .reason: "Reason"
            case .variable: "Variable"
            case .value: "Value"
            case .newname: "Newname"
            case .userEvent: "UserEvent"
            case .disposition: "Disposition"
            case .billableSeconds: "BillableSeconds"
            case .duration: "Duration"
            case .destLinkedid: "DestLinkedid"
            case .targetLinkedid: "TargetLinkedid"
            case .result: "Result"
            case .transfererUniqueid: "TransfererUniqueid"
            case .transfereeUniqueid: "TransfereeUniqueid"
            case .origTransfererUniqueid: "OrigTransfererUniqueid"
            case .secondTransfererUniqueid: "SecondTransfererUniqueid"
            case .transferExtension: "Extension"
            case .transferTargetExten: "TransferTargetExten"
            case .forward: "Forward"
            }
        }

        static let names = AMIKeywords(allCases.map(\.headerName), ignoringCase: true)

        /// What ``ChannelSnapshot`` is made of.
        static let snapshot: [Field] = [
            .uniqueid, .linkedid, .channel, .channelState, .callerIDNum, .callerIDName, .connectedLineNum, .connectedLineName,
        ]
    }

    /// The event of `kind` from its fields (``Kind/fields(of:)``); nil when a field it needs
    /// is missing (the public initializer makes that `.other`). `withChannelName: false` leaves
    /// the channel name of a Newstate, NewCallerid or NewConnectedLine snapshot empty (it must
    /// still be there): the tracker reads it only from Newchannel, and it is the one value of a
    /// snapshot long enough to cost an allocation.
    init?(_ kind: Kind, fields: AMIFieldValues, message: AMIMessage, withChannelName: Bool = true) {
        switch kind {
        case .newchannel:
            guard let snapshot = ChannelSnapshot(fields) else { return nil }
            self = .newChannel(snapshot)
        case .newstate:
            guard let snapshot = ChannelSnapshot(fields, withChannelName: withChannelName) else { return nil }
            self = .newState(snapshot)
        case .newCallerid, .newConnectedLine:
            guard let snapshot = ChannelSnapshot(fields, withChannelName: withChannelName) else { return nil }
            self = .callerIDChanged(snapshot)
        case .dialBegin:
            guard let destination = fields[.destUniqueid] else { return nil }
            self = .dialBegin(caller: fields[.uniqueid], destination: destination, dialString: fields[.dialString])
        case .dialEnd:
            guard let status = fields[.dialStatus] else { return nil }
            self = .dialEnd(caller: fields[.uniqueid], destination: fields[.destUniqueid], status: status, forward: ChannelSnapshot.known(fields[.forward]))
        case .dial:
            // Asterisk 1.8-11.
            let subEvent = fields[.subEvent]?.lowercased()
            if subEvent == "begin", let caller = fields[.uniqueid], let destination = fields[.destUniqueid] {
                self = .dialBegin(caller: caller, destination: destination, dialString: fields[.dialString])
            } else if subEvent == "end", let status = fields[.dialStatus] {
                self = .dialEnd(caller: fields[.uniqueid], destination: nil, status: status)
            } else {
                return nil
            }
        case .bridge:
            // Asterisk 1.8-11: pairwise link.
            guard fields[.bridgestate]?.lowercased() == "link", let first = fields[.uniqueid1], let second = fields[.uniqueid2] else { return nil }
            self = .linked(first, second)
        case .localBridge:
            guard let first = fields[.uniqueid1] ?? fields[.localOneUniqueid], let second = fields[.uniqueid2] ?? fields[.localTwoUniqueid] else { return nil }
            self = .linked(first, second)
        case .transfer:
            guard let first = fields[.uniqueid], let second = fields[.targetUniqueid] else { return nil }
            self = .linked(first, second)
        case .masquerade:
            guard let clone = fields[.clone], let original = fields[.original] else { return nil }
            self = .masquerade(clone: clone, original: original)
        case .bridgeEnter, .bridgeLeave:
            guard let uniqueid = fields[.uniqueid], let bridge = fields[.bridgeUniqueid] else { return nil }
            self = kind == .bridgeEnter ? .bridgeEnter(uniqueid: uniqueid, bridge: bridge) : .bridgeLeave(uniqueid: uniqueid, bridge: bridge)
        case .hangupRequest, .softHangupRequest:
            guard let uniqueid = fields[.uniqueid] else { return nil }
            self = .hangupRequest(uniqueid: uniqueid)
        case .hangup:
            guard let uniqueid = fields[.uniqueid] else { return nil }
            self = .hangup(
                uniqueid: uniqueid, channel: fields[.channel] ?? "",
                cause: fields[.cause].flatMap { Int($0) } ?? 0, causeText: fields[.causeText] ?? ""
            )
        case .originateResponse:
            self = .originateResponse(
                actionID: fields[.actionID],
                success: fields[.response]?.lowercased() == "success",
                reason: fields[.reason].flatMap { Int($0) } ?? 0,
                uniqueid: ChannelSnapshot.known(fields[.uniqueid]), channel: fields[.channel] ?? ""
            )
        case .varSet:
            guard let uniqueid = fields[.uniqueid], let variable = fields[.variable] else { return nil }
            self = .variableSet(uniqueid: uniqueid, name: variable, value: fields[.value] ?? "")
        case .rename:
            guard let uniqueid = fields[.uniqueid], let newName = fields[.newname] else { return nil }
            self = .rename(uniqueid: uniqueid, newName: newName)
        case .userEvent:
            guard let userEvent = fields[.userEvent] else { return nil }
            self = .userEvent(name: userEvent, uniqueid: fields[.uniqueid], linkedid: fields[.linkedid], fields: message.fields)
        case .cdr:
            self = .cdr(uniqueid: fields[.uniqueid], disposition: fields[.disposition], billableSeconds: fields[.billableSeconds].flatMap { Int($0) })
        case .coreShowChannel:
            guard let snapshot = ChannelSnapshot(fields) else { return nil }
            self = .coreShowChannel(snapshot, seconds: fields[.duration].flatMap(CallTracker.parseDuration))
        case .pickup:
            guard let picker = fields[.uniqueid], let target = fields[.targetUniqueid] else { return nil }
            self = .pickup(picker: picker, target: target, targetLinkedid: fields[.targetLinkedid])
        case .attendedTransfer, .blindTransfer:
            guard fields[.result]?.lowercased() == "success" else { return nil }
            let parties = [fields[.transfererUniqueid], fields[.origTransfererUniqueid], fields[.transfereeUniqueid], fields[.secondTransfererUniqueid]]
            // A blind transfer names its extension; an attended one its target's when the target
            // is a channel (Asterisk 20: TransferTargetExten), else the tracker finds the number.
            let destination = kind == .blindTransfer ? fields[.transferExtension] : fields[.transferTargetExten]
            self = .transferred(parties: parties.compactMap { $0 }, destination: ChannelSnapshot.known(destination))
        }
    }
}

extension AMIFieldValues {
    subscript(field: ChannelEvent.Field) -> String? { self[field.rawValue] }
}

extension ChannelSnapshot {
    /// The channel fields common to channel events, in either dialect.
    init?(_ fields: AMIFieldValues, withChannelName: Bool = true) {
        guard let uniqueid = fields[.uniqueid], fields.contains(ChannelEvent.Field.channel.rawValue) else { return nil }
        self.init(
            uniqueid: uniqueid,
            linkedid: fields[.linkedid],
            channel: withChannelName ? fields[.channel] ?? "" : "",
            state: fields[.channelState].flatMap { Int($0) },
            callerIDNum: ChannelSnapshot.known(fields[.callerIDNum]),
            callerIDName: ChannelSnapshot.known(fields[.callerIDName]),
            connectedLineNum: ChannelSnapshot.known(fields[.connectedLineNum]),
            connectedLineName: ChannelSnapshot.known(fields[.connectedLineName])
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
