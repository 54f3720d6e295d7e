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
///
/// A value whose fields live in one shared box until a copy changes one (copy on write): a record
/// travels through several stages and arrays (the tracker's updates, the emit stage, the status
/// board, held calls), and copying some thirty strings and legs field by field at each step was a
/// tenth of the daemon's CPU in a call storm.
public struct CallRecord: Sendable, Hashable, Codable {
    /// The stored fields; their synthesized `Codable` is the record's, so held calls written to
    /// disk by earlier versions still decode.
    @usableFromInline
    struct Fields: Sendable, Hashable, Codable {
        @usableFromInline var server: String
        @usableFromInline var linkedid: String
        @usableFromInline var legs: [CallLeg]
        @usableFromInline var callID: String?
        @usableFromInline var clickToCall: ClickToCallOrigin?
        @usableFromInline var agentLeg: CallLeg?
        @usableFromInline var customerLeg: CallLeg?
        @usableFromInline var startedAt: Double
        @usableFromInline var answeredAt: Double?
        @usableFromInline var endedAt: Double?
        @usableFromInline var ringSeconds: Int?
        @usableFromInline var talkSeconds: Int?
        @usableFromInline var hangupCause: Int?
        @usableFromInline var hangupCauseText: String?
        @usableFromInline var hungUpFirst: CallSide?
        @usableFromInline var outcome: CallOutcome?
        @usableFromInline var originateReason: Int?
        @usableFromInline var callerCode: ViciDialCallerCode?
        @usableFromInline var phoneNumber: String?
        @usableFromInline var closedByTimeout = false
        @usableFromInline var reconstructed = false
        @usableFromInline var transfer: CallTransfer?
    }

    /// Shared by copies; replaced before a write when shared (``makeStorageUnique()``).
    @usableFromInline
    final class Storage: @unchecked Sendable {
        // @unchecked: `fields` changes only through a record that holds the only reference.
        @usableFromInline var fields: Fields

        @usableFromInline
        init(_ fields: Fields) {
            self.fields = fields
        }
    }

    @usableFromInline var storage: Storage

    @inlinable
    mutating func makeStorageUnique() {
        if !isKnownUniquelyReferenced(&self.storage) {
            self.storage = Storage(self.storage.fields)
        }
    }

    @inlinable public var server: String {
        get { self.storage.fields.server }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.server
        }
    }

    /// The Linkedid (Asterisk 13.5+) or the first channel's Uniqueid (Asterisk 11).
    @inlinable public var linkedid: String {
        get { self.storage.fields.linkedid }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.linkedid
        }
    }

    @inlinable public var legs: [CallLeg] {
        get { self.storage.fields.legs }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.legs
        }
    }

    /// The click-to-call id (`CRM_CALL_ID` channel variable or the Originate's ActionID).
    @inlinable public var callID: String? {
        get { self.storage.fields.callID }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.callID
        }
    }

    /// What the click-to-call request said (agent, campaign, lead, list, number), added by the
    /// bridge after the tracker; nil for calls the bridge did not place.
    @inlinable public var clickToCall: ClickToCallOrigin? {
        get { self.storage.fields.clickToCall }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.clickToCall
        }
    }

    @inlinable public var agentLeg: CallLeg? {
        get { self.storage.fields.agentLeg }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.agentLeg
        }
    }

    @inlinable public var customerLeg: CallLeg? {
        get { self.storage.fields.customerLeg }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.customerLeg
        }
    }

    @inlinable public var startedAt: Double {
        get { self.storage.fields.startedAt }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.startedAt
        }
    }

    @inlinable public var answeredAt: Double? {
        get { self.storage.fields.answeredAt }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.answeredAt
        }
    }

    @inlinable public var endedAt: Double? {
        get { self.storage.fields.endedAt }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.endedAt
        }
    }

    @inlinable public var ringSeconds: Int? {
        get { self.storage.fields.ringSeconds }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.ringSeconds
        }
    }

    @inlinable public var talkSeconds: Int? {
        get { self.storage.fields.talkSeconds }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.talkSeconds
        }
    }

    @inlinable public var hangupCause: Int? {
        get { self.storage.fields.hangupCause }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.hangupCause
        }
    }

    @inlinable public var hangupCauseText: String? {
        get { self.storage.fields.hangupCauseText }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.hangupCauseText
        }
    }

    @inlinable public var hungUpFirst: CallSide? {
        get { self.storage.fields.hungUpFirst }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.hungUpFirst
        }
    }

    @inlinable public var outcome: CallOutcome? {
        get { self.storage.fields.outcome }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.outcome
        }
    }

    /// `OriginateResponse` Reason (Asterisk control frame: 4 answered, 5 busy, 3 no answer, ...).
    @inlinable public var originateReason: Int? {
        get { self.storage.fields.originateReason }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.originateReason
        }
    }

    /// ViciDial's 20-character caller code, when the call carries one.
    @inlinable public var callerCode: ViciDialCallerCode? {
        get { self.storage.fields.callerCode }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.callerCode
        }
    }

    /// The customer's number: what was dialed, else the customer's caller ID.
    @inlinable public var phoneNumber: String? {
        get { self.storage.fields.phoneNumber }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.phoneNumber
        }
    }

    /// Closed because no event arrived for the configured idle time, not by a Hangup.
    @inlinable public var closedByTimeout: Bool {
        get { self.storage.fields.closedByTimeout }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.closedByTimeout
        }
    }

    /// Completed from the database after an AMI outage, not from its own events.
    @inlinable public var reconstructed: Bool {
        get { self.storage.fields.reconstructed }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.reconstructed
        }
    }

    /// Set when the call was transferred, picked up, or its channels moved on to another call.
    @inlinable public var transfer: CallTransfer? {
        get { self.storage.fields.transfer }
        _modify {
            self.makeStorageUnique()
            yield &self.storage.fields.transfer
        }
    }

    public init(
        server: String, linkedid: String, legs: [CallLeg], callID: String? = nil, agentLeg: CallLeg? = nil,
        customerLeg: CallLeg? = nil, startedAt: Double, answeredAt: Double? = nil, endedAt: Double? = nil,
        ringSeconds: Int? = nil, talkSeconds: Int? = nil, hangupCause: Int? = nil, hangupCauseText: String? = nil,
        hungUpFirst: CallSide? = nil, outcome: CallOutcome? = nil, originateReason: Int? = nil,
        callerCode: ViciDialCallerCode? = nil, phoneNumber: String? = nil, closedByTimeout: Bool = false,
        reconstructed: Bool = false
    ) {
        self.storage = Storage(Fields(
            server: server,
            linkedid: linkedid,
            legs: legs,
            callID: callID,
            clickToCall: nil,
            agentLeg: agentLeg,
            customerLeg: customerLeg,
            startedAt: startedAt,
            answeredAt: answeredAt,
            endedAt: endedAt,
            ringSeconds: ringSeconds,
            talkSeconds: talkSeconds,
            hangupCause: hangupCause,
            hangupCauseText: hangupCauseText,
            hungUpFirst: hungUpFirst,
            outcome: outcome,
            originateReason: originateReason,
            callerCode: callerCode,
            phoneNumber: phoneNumber,
            closedByTimeout: closedByTimeout,
            reconstructed: reconstructed,
            transfer: nil
        ))
    }

    public init(from decoder: any Decoder) throws {
        self.storage = Storage(try Fields(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try self.storage.fields.encode(to: encoder)
    }

    public static func == (lhs: CallRecord, rhs: CallRecord) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    public func hash(into hasher: inout Hasher) {
        self.storage.fields.hash(into: &hasher)
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
