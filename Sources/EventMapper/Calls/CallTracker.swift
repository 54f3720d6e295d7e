import AMIProtocol

/// Turns one Asterisk server's events into calls. Pure logic: no I/O, no clock of its own (every
/// input carries its time), so tests replay recordings with their recorded timing.
///
/// A call is every channel sharing a Linkedid; on Asterisk 11, which has none, the channels joined
/// by Dial, Bridge, LocalBridge and Transfer relations. A call starts on its first progress event,
/// is answered when its customer leg answers, and completes when its last channel hangs up (for a
/// click-to-call, once the Originate's outcome is known too). Finished calls are released; a call
/// that goes silent for `idleTimeout` is closed and reported as such.
public struct CallTracker: Sendable {
    public struct Configuration: Sendable {
        public var server: String
        /// A live call with no event for this long is closed (`closedByTimeout`): a lost Hangup
        /// must not keep a call in memory forever.
        public var idleTimeout: Double
        /// After the last Hangup of a click-to-call, how long to wait for its OriginateResponse,
        /// which Asterisk sends after the hangups when the agent leg failed.
        public var originateResponseGrace: Double
        /// An Originate with no OriginateResponse after this long is reported as timed out.
        public var originateResponseTimeout: Double
        /// The channel variable that carries the click-to-call id.
        public var callIDVariable: String

        public init(
            server: String,
            idleTimeout: Double = 4 * 3600,
            originateResponseGrace: Double = 5,
            originateResponseTimeout: Double = 180,
            callIDVariable: String = "CRM_CALL_ID"
        ) {
            self.server = server
            self.idleTimeout = idleTimeout
            self.originateResponseGrace = originateResponseGrace
            self.originateResponseTimeout = originateResponseTimeout
            self.callIDVariable = callIDVariable
        }
    }

    struct PendingOriginate: Sendable {
        var callID: String
        /// The Originate's `Channel:` (e.g. `SIP/1001`), the prefix of the channel it creates.
        var channel: String
        var sentAt: Double
    }

    struct OriginateResult: Sendable {
        var success: Bool
        var reason: Int
    }

    struct TrackedCall: Sendable {
        var key: String
        var legs: [CallLeg]
        var startedAt: Double
        var lastEventAt: Double
        var announced = false
        var answerAnnounced = false
        var callID: String?
        var originateActionID: String?
        var originateResult: OriginateResult?
        var firstHangup: String?
        var callerCode: ViciDialCallerCode?
        /// The click-to-call stage last reported, so each change is reported once.
        var stage: ClickToCallStage?
        /// Every leg hung up; waiting until this time for the OriginateResponse.
        var awaitingOriginateUntil: Double?

        func legIndex(_ uniqueid: String) -> Int? { legs.firstIndex { $0.uniqueid == uniqueid } }
    }

    public let configuration: Configuration
    var calls: [String: TrackedCall] = [:]
    /// Uniqueid → the key of the call it belongs to.
    var callOfChannel: [String: String] = [:]
    private var originates: [String: PendingOriginate] = [:]
    /// When the event being applied arrived here. Idle and grace deadlines use it, not the
    /// event's `Timestamp:`, so an Asterisk clock that is off (or a replayed recording) cannot
    /// close live calls early: ``tick(now:)`` compares with this host's clock.
    private var arrival: Double = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Calls being followed right now.
    public var liveCallCount: Int { calls.count }

    /// Whether a channel belongs to a call being followed.
    public func isTracked(_ uniqueid: String) -> Bool { callOfChannel[uniqueid] != nil }

    public mutating func removeOriginate(_ actionID: String) { originates[actionID] = nil }

    /// Registers an Originate this bridge sent, so its call carries `callID` and waits for the
    /// OriginateResponse (matched by `actionID`).
    public mutating func originateSent(actionID: String, callID: String, channel: String, at time: Double) {
        originates[actionID] = PendingOriginate(callID: callID, channel: channel, sentAt: time)
    }

    /// Asterisk refused an Originate outright (`Response: Error`): no `OriginateResponse` will
    /// follow, so the click-to-call completes now as an `originate_error`.
    public mutating func originateRejected(actionID: String, at time: Double) -> [CallUpdate] {
        arrival = time
        var updates: [CallUpdate] = []
        originateResponse(actionID: actionID, success: false, reason: 0, uniqueid: nil, channel: "", at: time, into: &updates)
        return updates
    }

    /// Feeds one AMI event; `time` is when it arrived (its `Timestamp:` header wins when present).
    public mutating func receive(_ message: AMIMessage, at time: Double) -> [CallUpdate] {
        let event = ChannelEvent(message)
        switch event {
        case .other, .cdr, .coreShowChannel: return []
        default: break
        }
        let eventTime = message["Timestamp"].flatMap(Double.init) ?? time
        return apply(event, at: eventTime, receivedAt: time)
    }

    /// `time`: when the event happened (its `Timestamp:` when it has one); `receivedAt`: when it
    /// arrived here (default `time`), for the idle and grace deadlines.
    public mutating func apply(_ event: ChannelEvent, at time: Double, receivedAt: Double? = nil) -> [CallUpdate] {
        arrival = receivedAt ?? time
        var updates: [CallUpdate] = []
        switch event {
        case .newChannel(let snapshot):
            newChannel(snapshot, at: time)
        case .newState(let snapshot):
            guard let key = touch(snapshot.uniqueid, at: time) else { break }
            update(snapshot, in: key)
            if let state = snapshot.state, let index = calls[key]?.legIndex(snapshot.uniqueid) {
                if state == 5 || state == 4, calls[key]!.legs[index].ringingAt == nil { calls[key]!.legs[index].ringingAt = time }
                if state == 6, calls[key]!.legs[index].answeredAt == nil { calls[key]!.legs[index].answeredAt = time }
            }
            announce(key, into: &updates)
        case .callerIDChanged(let snapshot):
            guard let key = touch(snapshot.uniqueid, at: time) else { break }
            update(snapshot, in: key)
        case .dialBegin(let caller, let destination, let dialString):
            if let caller { link(caller, destination, at: time) }
            guard let key = touch(destination, at: time), let index = calls[key]?.legIndex(destination) else { break }
            calls[key]!.legs[index].dialedBy = caller
            calls[key]!.legs[index].isOriginated = caller == nil
            if calls[key]!.legs[index].ringingAt == nil { calls[key]!.legs[index].ringingAt = time }
            if let dialString, calls[key]!.legs[index].dialString == nil {
                calls[key]!.legs[index].dialString = dialString
            }
            announce(key, into: &updates)
        case .dialEnd(let caller, let destination, let status):
            let target = destination ?? caller
            guard let target, let key = touch(target, at: time), var call = calls[key] else { break }
            // Asterisk 11 names only the caller: the status belongs to what the caller dialed.
            let indices = destination.flatMap { call.legIndex($0) }.map { [$0] }
                ?? call.legs.indices.filter { call.legs[$0].dialedBy == caller }
            for index in indices where call.legs[index].dialStatus == nil {
                call.legs[index].dialStatus = status
                call.legs[index].dialStatusAt = time
                if status == "ANSWER", call.legs[index].answeredAt == nil { call.legs[index].answeredAt = time }
            }
            calls[key] = call
            announce(key, into: &updates)
        case .linked(let first, let second):
            link(first, second, at: time)
            if let key = callOfChannel[first] { announce(key, into: &updates) }
        case .masquerade(let clone, let original):
            if let first = uniqueid(ofChannel: clone), let second = uniqueid(ofChannel: original) {
                link(first, second, at: time)
            }
        case .bridgeEnter(let uniqueid, _), .bridgeLeave(let uniqueid, _):
            if let key = touch(uniqueid, at: time) { announce(key, into: &updates) }
        case .hangupRequest(let uniqueid):
            guard let key = touch(uniqueid, at: time) else { break }
            if calls[key]!.firstHangup == nil { calls[key]!.firstHangup = uniqueid }
        case .hangup(let uniqueid, _, let cause, let causeText):
            guard let key = touch(uniqueid, at: time), let index = calls[key]?.legIndex(uniqueid) else { break }
            calls[key]!.legs[index].hungUpAt = time
            calls[key]!.legs[index].cause = cause
            calls[key]!.legs[index].causeText = causeText
            if calls[key]!.firstHangup == nil { calls[key]!.firstHangup = uniqueid }
            announce(key, into: &updates)
            completeIfOver(key, at: time, into: &updates)
        case .originateResponse(let actionID, let success, let reason, let uniqueid, let channel):
            originateResponse(actionID: actionID, success: success, reason: reason, uniqueid: uniqueid, channel: channel, at: time, into: &updates)
        case .variableSet(let uniqueid, let name, let value):
            guard name == configuration.callIDVariable, !value.isEmpty, let key = touch(uniqueid, at: time) else { break }
            if calls[key]!.callID == nil { calls[key]!.callID = value }
        case .rename(let uniqueid, let newName):
            if let key = touch(uniqueid, at: time), let index = calls[key]?.legIndex(uniqueid) {
                calls[key]!.legs[index].channel = newName
            }
        case .userEvent(let name, let uniqueid, let linkedid, let fields):
            let key = uniqueid.flatMap { callOfChannel[$0] } ?? linkedid.flatMap { calls[$0] != nil ? $0 : nil }
            var values: [String: String] = [:]
            for field in fields where !field.name.isEmpty && values[field.name] == nil { values[field.name] = field.value }
            updates.append(.userEvent(server: configuration.server, name: name, linkedid: key ?? linkedid, callID: key.flatMap { calls[$0]?.callID }, fields: values))
        case .cdr, .coreShowChannel, .other:
            break
        }
        return updates
    }

    /// Time passes: closes silent calls, gives up waiting for OriginateResponses.
    public mutating func tick(now: Double) -> [CallUpdate] {
        var updates: [CallUpdate] = []
        for (key, call) in calls {
            if let deadline = call.awaitingOriginateUntil, now >= deadline {
                complete(key, at: now, into: &updates)
            } else if now - call.lastEventAt >= configuration.idleTimeout {
                calls[key]!.announced = true
                complete(key, at: now, closedByTimeout: true, into: &updates)
            }
        }
        for (actionID, pending) in originates where now - pending.sentAt >= configuration.originateResponseTimeout {
            originates[actionID] = nil
            updates.append(.originateTimedOut(server: configuration.server, callID: pending.callID, actionID: actionID))
        }
        return updates
    }

    // MARK: - Building calls

    private mutating func newChannel(_ snapshot: ChannelSnapshot, at time: Double) {
        guard callOfChannel[snapshot.uniqueid] == nil else { return }
        let key = snapshot.linkedid.flatMap { callOfChannel[$0] ?? (calls[$0] != nil ? $0 : nil) } ?? snapshot.linkedid ?? snapshot.uniqueid
        let leg = CallLeg(uniqueid: snapshot.uniqueid, channel: snapshot.channel, createdAt: time,
                          callerIDNum: snapshot.callerIDNum, connectedLineNum: snapshot.connectedLineNum)
        if calls[key] == nil {
            calls[key] = TrackedCall(key: key, legs: [], startedAt: time, lastEventAt: arrival)
            // A click-to-call is known by the channel its Originate asked for.
            if let (actionID, pending) = originates.first(where: { snapshot.channel.hasPrefix($0.value.channel) && !isClaimed($0.key) }) {
                calls[key]!.callID = pending.callID
                calls[key]!.originateActionID = actionID
            }
        }
        calls[key]!.legs.append(leg)
        calls[key]!.lastEventAt = arrival
        callOfChannel[snapshot.uniqueid] = key
        update(snapshot, in: key)
    }

    /// The live channel with this name (names change with Rename; uniqueids do not).
    private func uniqueid(ofChannel name: String) -> String? {
        for call in calls.values {
            if let leg = call.legs.last(where: { $0.channel == name && $0.hungUpAt == nil }) { return leg.uniqueid }
        }
        return nil
    }

    private func isClaimed(_ actionID: String) -> Bool {
        calls.values.contains { $0.originateActionID == actionID }
    }

    /// Records the caller ID details of a snapshot, and the ViciDial caller code if it carries one.
    private mutating func update(_ snapshot: ChannelSnapshot, in key: String) {
        guard var call = calls[key], let index = call.legIndex(snapshot.uniqueid) else { return }
        if let number = snapshot.callerIDNum { call.legs[index].callerIDNum = number }
        if let number = snapshot.connectedLineNum { call.legs[index].connectedLineNum = number }
        if call.callerCode == nil {
            call.callerCode = snapshot.callerIDName.flatMap(ViciDialCallerCode.init) ?? snapshot.connectedLineName.flatMap(ViciDialCallerCode.init)
        }
        calls[key] = call
    }

    /// The call of a channel, with its last-event time moved on.
    private mutating func touch(_ uniqueid: String, at time: Double) -> String? {
        guard let key = callOfChannel[uniqueid] else { return nil }
        calls[key]?.lastEventAt = arrival
        return key
    }

    /// Joins the calls of two channels (Asterisk 11 relations; a no-op when they already share one).
    private mutating func link(_ first: String, _ second: String, at time: Double) {
        guard let firstKey = callOfChannel[first], let secondKey = callOfChannel[second], firstKey != secondKey,
              let firstCall = calls[firstKey], let secondCall = calls[secondKey] else { return }
        // The older call absorbs the newer one: its first channel is the call's origin.
        let (keep, absorb) = firstCall.startedAt <= secondCall.startedAt ? (firstKey, secondKey) : (secondKey, firstKey)
        guard let absorbed = calls.removeValue(forKey: absorb) else { return }
        for leg in absorbed.legs { callOfChannel[leg.uniqueid] = keep }
        calls[keep]!.legs += absorbed.legs
        calls[keep]!.lastEventAt = arrival
        calls[keep]!.callID = calls[keep]!.callID ?? absorbed.callID
        calls[keep]!.callerCode = calls[keep]!.callerCode ?? absorbed.callerCode
        if calls[keep]!.firstHangup == nil { calls[keep]!.firstHangup = absorbed.firstHangup }
    }

    /// Emits `started`, `answered` once the customer leg answers, and for a click-to-call each
    /// new stage.
    private mutating func announce(_ key: String, into updates: inout [CallUpdate]) {
        guard let call = calls[key] else { return }
        if !call.announced {
            calls[key]!.announced = true
            updates.append(.started(record(call)))
        }
        if call.callID != nil {
            let record = record(call)
            let stage = ClickToCallStage(live: record)
            if stage != call.stage {
                calls[key]!.stage = stage
                updates.append(.progressed(record, stage))
            }
        }
        if !call.answerAnnounced {
            let record = record(call)
            if let customer = record.customerLeg, customer.answeredAt != nil {
                calls[key]!.answerAnnounced = true
                updates.append(.answered(record))
            }
        }
    }

    private mutating func originateResponse(actionID: String?, success: Bool, reason: Int, uniqueid: String?, channel: String, at time: Double, into updates: inout [CallUpdate]) {
        let pending = actionID.flatMap { originates.removeValue(forKey: $0) }
        let result = OriginateResult(success: success, reason: reason)
        // The call: by the channel the response names, else by the click-to-call id, else by the
        // Originate's channel among calls still waiting for a response.
        let key = uniqueid.flatMap { callOfChannel[$0] }
            ?? pending.flatMap { pending in calls.first { $0.value.callID == pending.callID }?.key }
            ?? calls.first { $0.value.awaitingOriginateUntil != nil && $0.value.originateResult == nil && $0.value.legs.first?.channel.hasPrefix(channel) == true }?.key
        guard let key else {
            // An Originate that never created a channel (bad technology, unreachable peer).
            guard !success, let pending else { return }
            var call = TrackedCall(key: actionID ?? pending.callID, legs: [], startedAt: pending.sentAt, lastEventAt: time)
            call.callID = pending.callID
            call.originateActionID = actionID
            call.originateResult = result
            var record = record(call)
            record.endedAt = time
            updates.append(.completed(record))
            return
        }
        calls[key]!.originateResult = result
        calls[key]!.lastEventAt = arrival
        if calls[key]!.callID == nil { calls[key]!.callID = pending?.callID }
        if calls[key]!.awaitingOriginateUntil != nil {
            complete(key, at: time, into: &updates)
        }
    }

    private mutating func completeIfOver(_ key: String, at time: Double, into updates: inout [CallUpdate]) {
        guard let call = calls[key], call.legs.allSatisfy({ $0.hungUpAt != nil }) else { return }
        let expectsResponse = call.originateActionID.map { originates[$0] != nil } ?? false
            || (call.callID != nil && originates.values.contains { $0.callID == call.callID })
        if expectsResponse, call.originateResult == nil {
            calls[key]!.awaitingOriginateUntil = arrival + configuration.originateResponseGrace
            return
        }
        complete(key, at: time, into: &updates)
    }

    private mutating func complete(_ key: String, at time: Double, closedByTimeout: Bool = false, into updates: inout [CallUpdate]) {
        guard let call = calls.removeValue(forKey: key) else { return }
        for leg in call.legs { callOfChannel[leg.uniqueid] = nil }
        if let actionID = call.originateActionID { originates[actionID] = nil }
        var record = record(call)
        record.closedByTimeout = closedByTimeout
        record.endedAt = closedByTimeout ? call.lastEventAt : (call.legs.compactMap(\.hungUpAt).max() ?? time)
        if !call.announced { updates.append(.started(record)) }
        updates.append(.completed(record))
    }
}
