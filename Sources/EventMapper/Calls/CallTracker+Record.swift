/// Reading a call's legs: which is the agent, which the customer, and what happened to them.
extension CallTracker {
    func record(_ call: TrackedCall) -> CallRecord {
        let customerIndex = Self.customerLegIndex(of: call.legs)
        let customer = customerIndex.map { call.legs[$0] }
        let agent = Self.agentLegIndex(of: call.legs, key: call.key, customer: customerIndex).map { call.legs[$0] }
        var record = CallRecord(server: configuration.server, linkedid: call.key, legs: call.legs, startedAt: call.startedAt)
        record.callID = call.callID
        record.agentLeg = agent
        record.customerLeg = customer
        record.callerCode = call.callerCode
        record.originateReason = call.originateResult?.reason
        record.answeredAt = customer?.answeredAt
        let ended = call.legs.allSatisfy { $0.hungUpAt != nil } ? call.legs.compactMap(\.hungUpAt).max() : nil
        record.endedAt = ended

        if let customer {
            let ringStart = customer.ringingAt ?? customer.createdAt
            let ringEnd = customer.answeredAt ?? customer.dialStatusAt ?? customer.hungUpAt
            record.ringSeconds = ringEnd.map { Self.seconds($0 - ringStart) }
            if let answered = customer.answeredAt {
                // Talk ends when the first party leaves after the answer.
                let firstHangup = call.legs.compactMap(\.hungUpAt).filter { $0 >= answered }.min()
                record.talkSeconds = firstHangup.map { Self.seconds($0 - answered) }
            }
            let side = Self.customerSide(of: call.legs, customer: customer)
            let cause = Self.customerCause(legs: call.legs, side: side, customer: customer)
            record.hangupCause = cause?.cause
            record.hangupCauseText = cause?.text
            if customer.answeredAt != nil, let first = call.firstHangup {
                record.hungUpFirst = side.contains(first) ? .customer : .agent
            }
            record.phoneNumber = Self.dialedNumber(customer.dialString) ?? customer.connectedLineNum ?? customer.callerIDNum
        }
        record.outcome = ended == nil && call.originateResult == nil ? nil : Self.outcome(call, customer: customer, agent: agent)
        return record
    }

    /// The customer: a leg created by a Dial() (not by the Originate), preferring a real trunk
    /// channel over a Local one.
    static func customerLeg(of legs: [CallLeg]) -> CallLeg? {
        customerLegIndex(of: legs).map { legs[$0] }
    }

    /// Where ``customerLeg(of:)`` is among the legs; looked at on every event of a call, so it
    /// makes nothing.
    static func customerLegIndex(of legs: [CallLeg]) -> Int? {
        var firstLocal: Int?
        for index in legs.indices where legs[index].dialedBy != nil {
            if !legs[index].isLocal { return index }
            if firstLocal == nil { firstLocal = index }
        }
        return firstLocal
    }

    /// The agent: the channel the Originate created, else the call's first channel.
    static func agentLeg(of legs: [CallLeg], key: String, customer: CallLeg?) -> CallLeg? {
        agentLegIndex(of: legs, key: key, customer: customer.flatMap { customer in legs.firstIndex { $0.uniqueid == customer.uniqueid } })
            .map { legs[$0] }
    }

    /// Where ``agentLeg(of:key:customer:)`` is, given where the customer is.
    static func agentLegIndex(of legs: [CallLeg], key: String, customer: Int?) -> Int? {
        let customerID = customer.map { legs[$0].uniqueid }
        if let originated = legs.firstIndex(where: \.isOriginated), legs[originated].uniqueid != customerID { return originated }
        return legs.firstIndex { $0.uniqueid == key && $0.uniqueid != customerID } ?? legs.firstIndex { $0.uniqueid != customerID }
    }

    /// The customer leg, its Local partner, and whatever they dialed in turn.
    static func customerSide(of legs: [CallLeg], customer: CallLeg) -> Set<String> {
        var side: Set<String> = [customer.uniqueid]
        var pairNames = Set([customer.localPairName].compactMap { $0 })
        var changed = true
        while changed {
            changed = false
            for leg in legs where !side.contains(leg.uniqueid) {
                let partner = leg.localPairName.map { pairNames.contains($0) } ?? false
                let dialedFromSide = leg.dialedBy.map { side.contains($0) } ?? false
                if partner || dialedFromSide {
                    side.insert(leg.uniqueid)
                    if let name = leg.localPairName { pairNames.insert(name) }
                    changed = true
                }
            }
        }
        return side
    }

    /// The customer's Q.850 cause: the trunk's own when it gave one, else the first non-zero cause
    /// on the customer side (a Local `;2` that ran `Busy()`), else the one its dial status implies.
    static func customerCause(legs: [CallLeg], side: Set<String>, customer: CallLeg) -> (cause: Int, text: String)? {
        if let cause = customer.cause, cause != 0 { return (cause, customer.causeText ?? "") }
        let sideLegs = legs.filter { side.contains($0.uniqueid) }
        if let leg = sideLegs.first(where: { !$0.isLocal && ($0.cause ?? 0) != 0 }) ?? sideLegs.first(where: { ($0.cause ?? 0) != 0 }) {
            return (leg.cause!, leg.causeText ?? "")
        }
        guard customer.hungUpAt != nil else { return nil }
        switch customer.dialStatus {
        case "BUSY": return (17, "User busy")
        case "NOANSWER", "CANCEL": return (19, "No answer")
        case "CONGESTION": return (34, "Circuit/channel congestion")
        case "CHANUNAVAIL": return (20, "Subscriber absent")
        default: return customer.answeredAt != nil ? (16, "Normal Clearing") : nil
        }
    }

    static func outcome(_ call: CallTracker.TrackedCall, customer: CallLeg?, agent: CallLeg?) -> CallOutcome {
        if let result = call.originateResult, !result.success {
            switch result.reason {
            case 5: return .agentBusy
            case 1, 3: return .agentNoAnswer
            case 8: return .congestion
            default: return .originateError
            }
        }
        guard let customer else {
            if call.legs.contains(where: { $0.answeredAt != nil }) {
                return call.callID != nil ? .notDialed : .answered
            }
            return outcome(cause: call.legs.first?.cause, status: nil, customer: false)
        }
        if customer.answeredAt != nil { return .answered }
        return outcome(cause: customer.cause, status: customer.dialStatus, customer: true)
    }

    static func outcome(cause: Int?, status: String?, customer: Bool) -> CallOutcome {
        switch status {
        case "BUSY": return customer ? .customerBusy : .agentBusy
        case "CONGESTION", "CHANUNAVAIL": return .congestion
        case "NOANSWER", "CANCEL": return customer ? .customerNoAnswer : .agentNoAnswer
        default: break
        }
        switch cause {
        case 17: return customer ? .customerBusy : .agentBusy
        case 34, 38, 41, 42, 44: return .congestion
        default: return customer ? .customerNoAnswer : .agentNoAnswer
        }
    }

    /// `SIP/carrier/18005551234` → `18005551234`; `18005551234@pstn` → `18005551234`.
    static func dialedNumber(_ dialString: String?) -> String? {
        guard let dialString else { return nil }
        let last = dialString.split(separator: "/").last.map(String.init) ?? dialString
        let number = last.split(separator: "@").first.map(String.init) ?? last
        let digits = number.drop { $0 == "+" }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { return nil }
        return number
    }

    static func seconds(_ interval: Double) -> Int {
        max(0, Int(interval.rounded()))
    }
}
