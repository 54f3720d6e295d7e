import AMIProtocol

/// Turns one Asterisk server's events into calls. Pure logic: no I/O, no clock of its own (every
/// input carries its time), so tests replay recordings with their recorded timing.
///
/// A call is every channel sharing a Linkedid; on Asterisk 11, which has none, the channels joined
/// by Dial, Bridge, LocalBridge and Transfer relations. On Asterisk 13+ a channel's Linkedid
/// changes when it joins another call's bridge (pickups, transfers, queue members): the channel
/// then moves to that call, and a call whose channels have all hung up or moved on completes
/// (with ``CallTransfer/continuedIn``). Every Linkedid completes exactly once. A call starts on its first progress event,
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
            callIDVariable: String = ClickToCallStage.callIDVariable
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
        /// The Originate's `Channel:` (e.g. `SIP/1001`, `Local/1001@agents`).
        var channel: String
        /// The device the Originate dials: its channel's first leg is `<device>-<sequence>`.
        var device: Substring
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
        /// UserEvents seen on this call so far.
        var userEventCount = 0
        /// Every leg hung up; waiting until this time for the OriginateResponse.
        var awaitingOriginateUntil: Double?
        var transfer: CallTransfer?
    }

    /// Where a channel's leg is: its call's slot and its index among the call's legs.
    struct LegAddress: Sendable {
        var slot: Int
        var leg: Int
    }

    public let configuration: Configuration
    /// Live calls, each in a slot reused once it completes: an event finds its call and leg with
    /// one hash lookup of its uniqueid (``legOfChannel``) and changes it in place.
    var slots: [TrackedCall?] = []
    private var freeSlots: [Int] = []
    /// Call key (Linkedid, or first Uniqueid) → slot.
    var slotOfCall: [String: Int] = [:]
    /// Uniqueid → the slot of its call and its leg there.
    var legOfChannel: [String: LegAddress] = [:]
    private var originates: [String: PendingOriginate] = [:]
    /// ActionIDs of Originates whose channel a live call has claimed.
    private var claimedOriginates: Set<String> = []
    /// When the event being applied arrived here. Idle and grace deadlines use it, not the
    /// event's `Timestamp:`, so an Asterisk clock that is off (or a replayed recording) cannot
    /// close live calls early: ``tick(now:)`` compares with this host's clock.
    private var arrival: Double = 0
    /// Keys of calls completed lately: a channel that says it moved to one of these does not
    /// bring that call back (its `call_complete` went out; a Linkedid completes once).
    var completedKeys = RecentKeys(capacity: 10_000)

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Calls being followed right now.
    public var liveCallCount: Int { slotOfCall.count }

    /// Whether a channel belongs to a call being followed.
    public func isTracked(_ uniqueid: String) -> Bool { legOfChannel[uniqueid] != nil }

    public mutating func removeOriginate(_ actionID: String) { originates[actionID] = nil }

    /// Registers an Originate this bridge sent, so its call carries `callID` and waits for the
    /// OriginateResponse (matched by `actionID`). The call is the one whose first channel is on
    /// exactly the device `channel` names (`SIP/1001` claims `SIP/1001-0000000a`, never
    /// `SIP/10010-0000000b`).
    public mutating func originateSent(actionID: String, callID: String, channel: String, at time: Double) {
        originates[actionID] = PendingOriginate(callID: callID, channel: channel, device: ChannelDevice.of(channel), sentAt: time)
    }

    /// Asterisk refused an Originate outright (`Response: Error`): no `OriginateResponse` will
    /// follow, so the click-to-call completes now as an `originate_error`.
    public mutating func originateRejected(actionID: String, at time: Double) -> [CallUpdate] {
        arrival = time
        var updates: [CallUpdate] = []
        originateResponse(actionID: actionID, success: false, reason: 0, uniqueid: nil, channel: "", at: time, into: &updates)
        return updates
    }

    /// Feeds one AMI event; `time` is when it arrived (its `Timestamp:` header wins when present
    /// and a time).
    ///
    /// The hot path of the daemon: the event name is matched without making a string, the
    /// fields are read in one pass, and events that change no call (most of a dialer's traffic,
    /// and every `VarSet` of another variable than ``Configuration/callIDVariable``) stop there.
    public mutating func receive(_ message: AMIMessage, at time: Double) -> [CallUpdate] {
        guard let kind = ChannelEvent.Kind(message) else { return [] }
        switch kind {
        case .cdr, .coreShowChannel: return []
        default: break
        }
        let fields = kind.fields(of: message)
        if kind == .varSet, !fields.value(ChannelEvent.Field.variable.rawValue, equals: configuration.callIDVariable) { return [] }
        guard let event = ChannelEvent(kind, fields: fields, message: message, withChannelName: false) else { return [] }
        let eventTime = fields[.timestamp].flatMap(EventTimestamp.seconds).flatMap(Self.plausibleTime) ?? time
        // A channel whose Linkedid is no longer its call's has joined another call: move it first,
        // so the event applies where the channel now is.
        var moves: [CallUpdate] = []
        if kind != .newchannel, let linkedid = fields[.linkedid], let uniqueid = fields[.uniqueid] {
            follow(uniqueid, to: linkedid, at: eventTime, receivedAt: time, into: &moves)
        }
        if let linkedid = fields[.destLinkedid], let uniqueid = fields[.destUniqueid] {
            follow(uniqueid, to: linkedid, at: eventTime, receivedAt: time, into: &moves)
        }
        let updates = apply(event, at: eventTime, receivedAt: time)
        return moves.isEmpty ? updates : moves + updates
    }

    /// A `Timestamp:` that cannot be a time (not finite, before 1970, or past 10^11 s: the year
    /// 5138) is treated as missing: call times and the durations made from them stay numbers.
    static func plausibleTime(_ seconds: Double) -> Double? {
        seconds.isFinite && seconds >= 0 && seconds < 1e11 ? seconds : nil
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
            guard let address = touch(snapshot.uniqueid) else { break }
            update(snapshot, at: address)
            if let state = snapshot.state {
                modifyLeg(address) { leg in
                    if state == 5 || state == 4, leg.ringingAt == nil { leg.ringingAt = time }
                    if state == 6, leg.answeredAt == nil { leg.answeredAt = time }
                }
            }
            announce(address.slot, into: &updates)
        case .callerIDChanged(let snapshot):
            guard let address = touch(snapshot.uniqueid) else { break }
            update(snapshot, at: address)
        case .dialBegin(let caller, let destination, let dialString):
            if let caller { link(caller, destination) }
            guard let address = touch(destination) else { break }
            modifyLeg(address) { leg in
                leg.dialedBy = caller
                leg.isOriginated = caller == nil
                if leg.ringingAt == nil { leg.ringingAt = time }
                if let dialString, leg.dialString == nil { leg.dialString = dialString }
            }
            announce(address.slot, into: &updates)
        case .dialEnd(let caller, let destination, let status, let forward):
            let target = destination ?? caller
            guard let target, let address = touch(target) else { break }
            modifyCall(address.slot) { call in
                if let forward, destination != nil {
                    // The destination forwarded the call: Dial() dials `forward` next, and that
                    // new leg is the party the call reaches.
                    call.legs[address.leg].forwardedTo = forward
                    var transfer = call.transfer ?? CallTransfer()
                    transfer.target = forward
                    call.transfer = transfer
                }
                // Asterisk 11 names only the caller: the status belongs to what the caller dialed.
                let indices = destination != nil ? [address.leg] : call.legs.indices.filter { call.legs[$0].dialedBy == caller }
                for index in indices where call.legs[index].dialStatus == nil {
                    call.legs[index].dialStatus = status
                    call.legs[index].dialStatusAt = time
                    if status == "ANSWER", call.legs[index].answeredAt == nil { call.legs[index].answeredAt = time }
                }
            }
            announce(address.slot, into: &updates)
        case .linked(let first, let second):
            link(first, second)
            if let address = legOfChannel[first] { announce(address.slot, into: &updates) }
        case .masquerade(let clone, let original):
            if let first = uniqueid(ofChannel: clone), let second = uniqueid(ofChannel: original) {
                link(first, second)
            }
        case .bridgeEnter(let uniqueid, _), .bridgeLeave(let uniqueid, _):
            if let address = touch(uniqueid) { announce(address.slot, into: &updates) }
        case .hangupRequest(let uniqueid):
            guard let address = touch(uniqueid) else { break }
            modifyCall(address.slot) { call in
                if call.firstHangup == nil { call.firstHangup = uniqueid }
            }
        case .hangup(let uniqueid, _, let cause, let causeText):
            guard let address = touch(uniqueid) else { break }
            modifyCall(address.slot) { call in
                call.legs[address.leg].hungUpAt = time
                call.legs[address.leg].cause = cause
                call.legs[address.leg].causeText = causeText
                if call.firstHangup == nil { call.firstHangup = uniqueid }
            }
            announce(address.slot, into: &updates)
            completeIfOver(address.slot, at: time, into: &updates)
        case .originateResponse(let actionID, let success, let reason, let uniqueid, let channel):
            originateResponse(actionID: actionID, success: success, reason: reason, uniqueid: uniqueid, channel: channel, at: time, into: &updates)
        case .variableSet(let uniqueid, let name, let value):
            guard name == configuration.callIDVariable, !value.isEmpty, let address = touch(uniqueid) else { break }
            modifyCall(address.slot) { call in
                if call.callID == nil { call.callID = value }
            }
        case .rename(let uniqueid, let newName):
            if let address = touch(uniqueid) {
                modifyLeg(address) { $0.channel = newName }
            }
        case .userEvent(let name, let uniqueid, let linkedid, let fields):
            let slot = uniqueid.flatMap { legOfChannel[$0]?.slot } ?? linkedid.flatMap { slotOfCall[$0] }
            var values: [String: String] = [:]
            for field in fields where !field.name.isEmpty && values[field.name] == nil { values[field.name] = field.value }
            var sequence = 0
            var key: String?
            var callID: String?
            if let slot {
                modifyCall(slot) { call in
                    call.userEventCount += 1
                    sequence = call.userEventCount
                    key = call.key
                    callID = call.callID
                }
            }
            updates.append(.userEvent(
                server: configuration.server, name: name, linkedid: key ?? linkedid, callID: callID,
                fields: values, sequence: sequence
            ))
        case .pickup(let picker, let target, _):
            pickedUp(target: target, by: picker, at: time)
        case .transferred(let parties, let destination):
            let legs = legOfChannel
            guard let slot = parties.lazy.compactMap({ legs[$0]?.slot }).first else { break }
            slots[slot]!.lastEventAt = arrival
            modifyCall(slot) { call in
                var transfer = call.transfer ?? CallTransfer()
                transfer.target = destination ?? transfer.target ?? Self.consultedNumber(in: call.legs)
                call.transfer = transfer
            }
        case .cdr, .coreShowChannel, .other:
            break
        }
        return updates
    }

    /// An attended transfer's target: the number of the newest leg outside the customer's side
    /// (the consultation call: what its Dial() dialed, else a Local channel's extension).
    static func consultedNumber(in legs: [CallLeg]) -> String? {
        guard let customer = customerLegIndex(of: legs) else { return nil }
        let side = customerSide(of: legs, customer: customer)
        for index in legs.indices.reversed() where !side[index] && index > customer {
            if let number = dialedNumber(legs[index].dialString) ?? localExtension(legs[index].channel) { return number }
        }
        return nil
    }

    /// `Local/1005@xfer-targets-0000000a;1` → `1005`.
    static func localExtension(_ channel: String) -> String? {
        guard channel.hasPrefix("Local/"), let at = channel.firstIndex(of: "@") else { return nil }
        let exten = channel[channel.index(channel.startIndex, offsetBy: 6)..<at]
        return !exten.isEmpty && exten.allSatisfy(\.isNumber) ? String(exten) : nil
    }

    // MARK: - Channels moving between calls

    /// Moves the channel `uniqueid` into the call keyed `linkedid` when it is in another one.
    /// The call it leaves keeps the leg as history (ended at the move) and completes once every
    /// leg has hung up or moved on; the call it joins is created if this bridge does not follow
    /// it yet, unless it completed already (then the channel stays: a Linkedid completes once).
    mutating func follow(_ uniqueid: String, to linkedid: String, at time: Double, receivedAt: Double, into updates: inout [CallUpdate]) {
        arrival = receivedAt
        guard let address = legOfChannel[uniqueid], slots[address.slot]!.key != linkedid, !linkedid.isEmpty,
              !completedKeys.contains(linkedid) else { return }
        let existing = slotOfCall[linkedid]
        // Never back to a call the channel left: a Linkedid only moves on (an event written just
        // before the change can still carry the old one).
        if let existing, slots[existing]!.legs.contains(where: { $0.uniqueid == uniqueid && $0.movedTo != nil }) { return }
        let target = existing ?? insert(TrackedCall(key: linkedid, legs: [], startedAt: time, lastEventAt: arrival))
        move(address, to: target, linkedid: linkedid, at: time, into: &updates)
    }

    private mutating func move(_ address: LegAddress, to target: Int, linkedid: String, at time: Double, into updates: inout [CallUpdate]) {
        var leg = slots[address.slot]!.legs[address.leg]
        modifyCall(address.slot) { call in
            call.legs[address.leg].movedTo = linkedid
            call.legs[address.leg].movedAt = time
            var transfer = call.transfer ?? CallTransfer()
            transfer.continuedIn = linkedid
            call.transfer = transfer
        }
        leg.movedTo = nil
        leg.movedAt = nil
        // A picker takes the place of the ringing channel it picked up: the party the call dialed.
        if let ringing = slots[target]!.legs.first(where: { $0.pickedUpBy == leg.uniqueid }) {
            leg.dialedBy = leg.dialedBy ?? ringing.dialedBy
            leg.dialString = leg.dialString ?? ringing.dialString
        }
        let arrival = self.arrival
        legOfChannel[leg.uniqueid] = modifyCall(target) { call in
            call.legs.append(leg)
            call.lastEventAt = arrival
            if call.transfer == nil { call.transfer = CallTransfer() }
            return LegAddress(slot: target, leg: call.legs.count - 1)
        }
        announce(target, into: &updates)
        completeIfOver(address.slot, at: time, into: &updates)
    }

    /// `Pickup`: the picker answers in the ringing channel's place, which hangs up next and is
    /// no longer the party the call dialed. The picker moves into the call with its next event
    /// that carries the new Linkedid (the Pickup event's own fields still say the old one).
    private mutating func pickedUp(target: String, by picker: String, at time: Double) {
        guard let ringing = legOfChannel[target] else { return }
        modifyLeg(ringing) { $0.pickedUpBy = picker }
        modifyCall(ringing.slot) { call in
            if call.transfer == nil { call.transfer = CallTransfer() }
        }
    }

    /// Time passes: closes silent calls, gives up waiting for OriginateResponses.
    public mutating func tick(now: Double) -> [CallUpdate] {
        var updates: [CallUpdate] = []
        for slot in slots.indices {
            guard let call = slots[slot] else { continue }
            if let deadline = call.awaitingOriginateUntil, now >= deadline {
                complete(slot, at: now, into: &updates)
            } else if now - call.lastEventAt >= configuration.idleTimeout {
                slots[slot]!.announced = true
                complete(slot, at: now, closedByTimeout: true, into: &updates)
            }
        }
        for (actionID, pending) in originates where now - pending.sentAt >= configuration.originateResponseTimeout {
            originates[actionID] = nil
            updates.append(.originateTimedOut(server: configuration.server, callID: pending.callID, actionID: actionID))
        }
        return updates
    }

    // MARK: - The call table

    /// Changes a live call in place (no copy of its legs).
    private mutating func modifyCall<Result>(_ slot: Int, _ body: (inout TrackedCall) -> Result) -> Result {
        body(&slots[slot]!)
    }

    private mutating func modifyLeg(_ address: LegAddress, _ body: (inout CallLeg) -> Void) {
        body(&slots[address.slot]!.legs[address.leg])
    }

    private mutating func insert(_ call: TrackedCall) -> Int {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = call
        } else {
            slot = slots.count
            slots.append(call)
        }
        slotOfCall[call.key] = slot
        return slot
    }

    /// Takes a call out of the table, with its channels (not those that moved on to another
    /// call) and its claim on an Originate.
    mutating func remove(_ slot: Int) -> TrackedCall? {
        guard let call = slots[slot] else { return nil }
        slots[slot] = nil
        freeSlots.append(slot)
        slotOfCall[call.key] = nil
        for leg in call.legs where legOfChannel[leg.uniqueid]?.slot == slot { legOfChannel[leg.uniqueid] = nil }
        if let actionID = call.originateActionID { claimedOriginates.remove(actionID) }
        return call
    }

    // MARK: - Building calls

    private mutating func newChannel(_ snapshot: ChannelSnapshot, at time: Double) {
        guard legOfChannel[snapshot.uniqueid] == nil else { return }
        let slot: Int
        if let existing = snapshot.linkedid.flatMap({ legOfChannel[$0]?.slot ?? slotOfCall[$0] }) ?? slotOfCall[snapshot.linkedid ?? snapshot.uniqueid] {
            slot = existing
        } else {
            var call = TrackedCall(key: snapshot.linkedid ?? snapshot.uniqueid, legs: [], startedAt: time, lastEventAt: arrival)
            // A click-to-call is known by the device its Originate asked for; of several
            // Originates to one device, the oldest is answered first.
            if let (actionID, pending) = oldestUnclaimedOriginate(onDeviceOf: snapshot.channel) {
                call.callID = pending.callID
                call.originateActionID = actionID
                claimedOriginates.insert(actionID)
            }
            slot = insert(call)
        }
        let leg = CallLeg(uniqueid: snapshot.uniqueid, channel: snapshot.channel, createdAt: time,
                          callerIDNum: snapshot.callerIDNum, connectedLineNum: snapshot.connectedLineNum)
        let arrival = self.arrival
        let address = modifyCall(slot) { call in
            call.legs.append(leg)
            call.lastEventAt = arrival
            return LegAddress(slot: slot, leg: call.legs.count - 1)
        }
        legOfChannel[snapshot.uniqueid] = address
        update(snapshot, at: address)
    }

    private func oldestUnclaimedOriginate(onDeviceOf channel: String) -> (actionID: String, pending: PendingOriginate)? {
        guard !originates.isEmpty else { return nil }
        let device = ChannelDevice.of(channel)
        var oldest: (actionID: String, pending: PendingOriginate)?
        for (actionID, pending) in originates where pending.device == device && !claimedOriginates.contains(actionID) {
            if let current = oldest, (current.pending.sentAt, current.actionID) <= (pending.sentAt, actionID) { continue }
            oldest = (actionID, pending)
        }
        return oldest
    }

    /// The live channel with this name (names change with Rename; uniqueids do not).
    private func uniqueid(ofChannel name: String) -> String? {
        for case let call? in slots {
            if let leg = call.legs.last(where: { $0.channel == name && $0.endedAt == nil }) { return leg.uniqueid }
        }
        return nil
    }

    /// Records the caller ID details of a snapshot, and the ViciDial caller code if it carries one.
    private mutating func update(_ snapshot: ChannelSnapshot, at address: LegAddress) {
        modifyCall(address.slot) { call in
            if let number = snapshot.callerIDNum { call.legs[address.leg].callerIDNum = number }
            if let number = snapshot.connectedLineNum { call.legs[address.leg].connectedLineNum = number }
            if call.callerCode == nil {
                call.callerCode = snapshot.callerIDName.flatMap(ViciDialCallerCode.init) ?? snapshot.connectedLineName.flatMap(ViciDialCallerCode.init)
            }
        }
    }

    /// The leg of a channel, with its call's last-event time moved on.
    private mutating func touch(_ uniqueid: String) -> LegAddress? {
        guard let address = legOfChannel[uniqueid] else { return nil }
        slots[address.slot]!.lastEventAt = arrival
        return address
    }

    /// Joins the calls of two channels (Asterisk 11 relations; a no-op when they already share one).
    private mutating func link(_ first: String, _ second: String) {
        guard let firstSlot = legOfChannel[first]?.slot, let secondSlot = legOfChannel[second]?.slot, firstSlot != secondSlot,
              let firstStart = slots[firstSlot]?.startedAt, let secondStart = slots[secondSlot]?.startedAt else { return }
        // The older call absorbs the newer one: its first channel is the call's origin.
        let (keep, absorb) = firstStart <= secondStart ? (firstSlot, secondSlot) : (secondSlot, firstSlot)
        guard let absorbed = remove(absorb) else { return }
        let firstAbsorbedLeg = slots[keep]!.legs.count
        for (offset, leg) in absorbed.legs.enumerated() {
            legOfChannel[leg.uniqueid] = LegAddress(slot: keep, leg: firstAbsorbedLeg + offset)
        }
        let arrival = self.arrival
        modifyCall(keep) { call in
            call.legs += absorbed.legs
            call.lastEventAt = arrival
            call.callID = call.callID ?? absorbed.callID
            call.callerCode = call.callerCode ?? absorbed.callerCode
            if call.firstHangup == nil { call.firstHangup = absorbed.firstHangup }
        }
    }

    /// Emits `started`, `answered` once the customer leg answers, and for a click-to-call each
    /// new stage. Cheap on the many events that change none of these: the full record is only
    /// built for an update that carries it.
    private mutating func announce(_ slot: Int, into updates: inout [CallUpdate]) {
        if !slots[slot]!.announced {
            updates.append(.started(record(slots[slot]!)))
            slots[slot]!.announced = true
        }
        let legs = slots[slot]!.legs
        let customer = Self.customerLegIndex(of: legs)
        if slots[slot]!.callID != nil {
            let agent = Self.agentLegIndex(of: legs, key: slots[slot]!.key, customer: customer)
            let stage = ClickToCallStage(liveCustomer: customer.map { legs[$0] }, agent: agent.map { legs[$0] })
            if stage != slots[slot]!.stage {
                updates.append(.progressed(record(slots[slot]!), stage))
                slots[slot]!.stage = stage
            }
        }
        if !slots[slot]!.answerAnnounced, let customer, legs[customer].answeredAt != nil {
            updates.append(.answered(record(slots[slot]!)))
            slots[slot]!.answerAnnounced = true
        }
    }

    private mutating func originateResponse(actionID: String?, success: Bool, reason: Int, uniqueid: String?, channel: String, at time: Double, into updates: inout [CallUpdate]) {
        let pending = actionID.flatMap { originates.removeValue(forKey: $0) }
        let result = OriginateResult(success: success, reason: reason)
        // The call: by the channel the response names, else by the click-to-call id, else by the
        // Originate's device among calls still waiting for a response.
        let slot = uniqueid.flatMap { legOfChannel[$0]?.slot }
            ?? pending.flatMap { pending in slots.firstIndex { $0?.callID == pending.callID } }
            ?? slotAwaitingResponse(onDeviceOf: channel)
        guard let slot else {
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
        let arrival = self.arrival
        let awaiting = modifyCall(slot) { call in
            call.originateResult = result
            call.lastEventAt = arrival
            if call.callID == nil { call.callID = pending?.callID }
            return call.awaitingOriginateUntil != nil
        }
        if awaiting {
            complete(slot, at: time, into: &updates)
        }
    }

    /// A call whose legs all hung up, still waiting for its OriginateResponse, whose first channel
    /// is on the device `channel` names.
    private func slotAwaitingResponse(onDeviceOf channel: String) -> Int? {
        let device = ChannelDevice.of(channel)
        guard !device.isEmpty else { return nil }
        return slots.firstIndex { call in
            guard let call, call.awaitingOriginateUntil != nil, call.originateResult == nil, let first = call.legs.first else { return false }
            return ChannelDevice.of(first.channel) == device
        }
    }

    private mutating func completeIfOver(_ slot: Int, at time: Double, into updates: inout [CallUpdate]) {
        guard let call = slots[slot], call.legs.allSatisfy({ $0.endedAt != nil }) else { return }
        let expectsResponse = call.originateActionID.map { originates[$0] != nil } ?? false
            || (call.callID != nil && originates.values.contains { $0.callID == call.callID })
        if expectsResponse, call.originateResult == nil {
            slots[slot]!.awaitingOriginateUntil = arrival + configuration.originateResponseGrace
            return
        }
        complete(slot, at: time, into: &updates)
    }

    private mutating func complete(_ slot: Int, at time: Double, closedByTimeout: Bool = false, into updates: inout [CallUpdate]) {
        guard let call = remove(slot) else { return }
        completedKeys.insert(call.key)
        if let actionID = call.originateActionID { originates[actionID] = nil }
        var record = record(call)
        record.closedByTimeout = closedByTimeout
        record.endedAt = closedByTimeout ? call.lastEventAt : (call.legs.compactMap(\.endedAt).max() ?? time)
        if !call.announced { updates.append(.started(record)) }
        updates.append(.completed(record))
    }
}

/// A bounded set of the keys inserted last: the oldest is forgotten when it is full.
struct RecentKeys: Sendable {
    private var members: Set<String> = []
    private var order: [String] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ key: String) -> Bool { members.contains(key) }

    mutating func insert(_ key: String) {
        guard members.insert(key).inserted else { return }
        if order.count < capacity {
            order.append(key)
        } else {
            members.remove(order[next])
            order[next] = key
            next = (next + 1) % capacity
        }
    }
}
