/// How a call ended, in the words the API and webhooks use.
public enum CallOutcome: String, Sendable, Hashable, Codable {
    case answered
    case agentBusy = "agent_busy"
    case agentNoAnswer = "agent_no_answer"
    case customerBusy = "customer_busy"
    case customerNoAnswer = "customer_no_answer"
    case congestion
    case originateError = "originate_error"
    /// The agent leg answered but the call ended before a customer was dialed.
    case notDialed = "not_dialed"
}

/// Which side of an answered call hung up first.
public enum CallSide: String, Sendable, Hashable, Codable {
    case agent
    case customer
}

/// One channel of a call, as the tracker saw it. Times are seconds since 1970.
public struct CallLeg: Sendable, Hashable, Codable {
    public var uniqueid: String
    public var channel: String
    public var createdAt: Double
    public var ringingAt: Double?
    public var answeredAt: Double?
    public var hungUpAt: Double?
    public var cause: Int?
    public var causeText: String?
    /// The `DialStatus` of the dial that created this leg (ANSWER, BUSY, NOANSWER, ...).
    public var dialStatus: String?
    public var dialStatusAt: Double?
    /// What was dialed to create this leg (`SIP/carrier/18005551234`), from DialBegin.
    public var dialString: String?
    public var callerIDNum: String?
    public var connectedLineNum: String?
    /// Uniqueid of the channel whose Dial() created this leg; nil for originated or inbound legs.
    public var dialedBy: String?
    /// This leg is the channel an `Originate` created (a DialBegin without a caller).
    public var isOriginated = false
    /// The channel left this call for another (its Linkedid changed: a pickup, a transfer, a
    /// queue member): that call's Linkedid, and when. The leg counts as ended here then.
    public var movedTo: String?
    public var movedAt: Double?
    /// This ringing channel was picked up: the uniqueid of the channel that answered in its place
    /// (which is then the dialed party, not this one).
    public var pickedUpBy: String?
    /// This dialed channel forwarded the call (SIP 302) to this number; the leg Dial() created
    /// for it is the party the call reached.
    public var forwardedTo: String?

    /// When the leg ended for this call: its hangup, or its move to another call.
    public var endedAt: Double? { hungUpAt ?? movedAt }

    public init(
        uniqueid: String, channel: String, createdAt: Double, ringingAt: Double? = nil, answeredAt: Double? = nil,
        hungUpAt: Double? = nil, cause: Int? = nil, causeText: String? = nil, dialStatus: String? = nil,
        dialStatusAt: Double? = nil, dialString: String? = nil, callerIDNum: String? = nil,
        connectedLineNum: String? = nil, dialedBy: String? = nil, isOriginated: Bool = false
    ) {
        self.uniqueid = uniqueid
        self.channel = channel
        self.createdAt = createdAt
        self.ringingAt = ringingAt
        self.answeredAt = answeredAt
        self.hungUpAt = hungUpAt
        self.cause = cause
        self.causeText = causeText
        self.dialStatus = dialStatus
        self.dialStatusAt = dialStatusAt
        self.dialString = dialString
        self.callerIDNum = callerIDNum
        self.connectedLineNum = connectedLineNum
        self.dialedBy = dialedBy
        self.isOriginated = isOriginated
    }

    public var isLocal: Bool {
        // Bytes first: the tracker asks on every event. Only a combining mark right after the
        // `/` needs the Character comparison (it would make `/` another character).
        let prefix = "Local/".utf8
        let utf8 = channel.utf8
        guard utf8.starts(with: prefix) else { return false }
        let next = utf8.index(utf8.startIndex, offsetBy: prefix.count)
        return next == utf8.endIndex || utf8[next] < 0x80 ? true : channel.hasPrefix("Local/")
    }

    /// `Local/1001@agents-00000000` for both halves `;1` and `;2` of a Local channel.
    var localPairName: Substring? {
        guard isLocal, let semicolon = channel.lastIndex(of: ";") else { return nil }
        return channel[..<semicolon]
    }
}

/// A call as it is emitted: everything downstream (the ViciDial join, webhooks, the API) needs.
public struct CallRecord: Sendable, Hashable, Codable {
    public var server: String
    /// The Linkedid (Asterisk 13.5+) or the first channel's Uniqueid (Asterisk 11).
    public var linkedid: String
    public var legs: [CallLeg]
    /// The click-to-call id (`CRM_CALL_ID` channel variable or the Originate's ActionID).
    public var callID: String?
    /// What the click-to-call request said (agent, campaign, lead, list, number), added by the
    /// bridge after the tracker; nil for calls the bridge did not place.
    public var clickToCall: ClickToCallOrigin?
    public var agentLeg: CallLeg?
    public var customerLeg: CallLeg?
    public var startedAt: Double
    public var answeredAt: Double?
    public var endedAt: Double?
    public var ringSeconds: Int?
    public var talkSeconds: Int?
    public var hangupCause: Int?
    public var hangupCauseText: String?
    public var hungUpFirst: CallSide?
    public var outcome: CallOutcome?
    /// `OriginateResponse` Reason (Asterisk control frame: 4 answered, 5 busy, 3 no answer, ...).
    public var originateReason: Int?
    /// ViciDial's 20-character caller code, when the call carries one.
    public var callerCode: ViciDialCallerCode?
    /// The customer's number: what was dialed, else the customer's caller ID.
    public var phoneNumber: String?
    /// Closed because no event arrived for the configured idle time, not by a Hangup.
    public var closedByTimeout = false
    /// Completed from the database after an AMI outage, not from its own events.
    public var reconstructed = false
    /// Set when the call was transferred, picked up, or its channels moved on to another call.
    public var transfer: CallTransfer?

    public init(
        server: String, linkedid: String, legs: [CallLeg], callID: String? = nil, agentLeg: CallLeg? = nil,
        customerLeg: CallLeg? = nil, startedAt: Double, answeredAt: Double? = nil, endedAt: Double? = nil,
        ringSeconds: Int? = nil, talkSeconds: Int? = nil, hangupCause: Int? = nil, hangupCauseText: String? = nil,
        hungUpFirst: CallSide? = nil, outcome: CallOutcome? = nil, originateReason: Int? = nil,
        callerCode: ViciDialCallerCode? = nil, phoneNumber: String? = nil, closedByTimeout: Bool = false,
        reconstructed: Bool = false
    ) {
        self.server = server
        self.linkedid = linkedid
        self.legs = legs
        self.callID = callID
        self.agentLeg = agentLeg
        self.customerLeg = customerLeg
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.ringSeconds = ringSeconds
        self.talkSeconds = talkSeconds
        self.hangupCause = hangupCause
        self.hangupCauseText = hangupCauseText
        self.hungUpFirst = hungUpFirst
        self.outcome = outcome
        self.originateReason = originateReason
        self.callerCode = callerCode
        self.phoneNumber = phoneNumber
        self.closedByTimeout = closedByTimeout
        self.reconstructed = reconstructed
    }

    public var uniqueids: [String] { legs.map(\.uniqueid) }
}

/// How a call changed shape: a transfer (blind, attended, blonde), a pickup, or channels moving
/// on to another call (Asterisk 13+ gives a channel the Linkedid of the call it joins).
public struct CallTransfer: Sendable, Hashable, Codable {
    /// Where the call was transferred, when known: a blind transfer's extension, the number an
    /// attended transfer's consultation dialed.
    public var target: String?
    /// The Linkedid of the call this call's channels moved on to; its `call_complete` follows.
    public var continuedIn: String?

    public init(target: String? = nil, continuedIn: String? = nil) {
        self.target = target
        self.continuedIn = continuedIn
    }
}

/// What the tracker tells its consumer.
public enum CallUpdate: Sendable, Hashable {
    case started(CallRecord)
    case answered(CallRecord)
    case completed(CallRecord)
    /// A click-to-call moved to a new ``ClickToCallStage`` (agent ringing, customer ringing, ...).
    /// Only calls with a click-to-call id report it; ``completed(_:)`` ends every call.
    case progressed(CallRecord, ClickToCallStage)
    /// An `Originate` this bridge sent got no `OriginateResponse` in time.
    case originateTimedOut(server: String, callID: String, actionID: String)
    /// The AMI connection to `server` was down from `from` to `to` (after the reconcile): calls
    /// that started and ended inside that window are only in ViciDial's tables.
    case outage(server: String, from: Double, to: Double)
    /// A dialplan `UserEvent` (e.g. `UserEvent(CRMEvent,...)`), with the call it belongs to if known.
    /// `sequence` counts the UserEvents of that call (1, 2, ...; 0 for one outside any call), so
    /// each has its own deterministic event id.
    case userEvent(server: String, name: String, linkedid: String?, callID: String?, fields: [String: String], sequence: Int)
}
