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
        record.transfer = call.transfer
        let ended = call.legs.allSatisfy { $0.endedAt != nil } ? call.legs.compactMap(\.endedAt).max() : nil
        record.endedAt = ended

        if let customer {
            let ringStart = customer.ringingAt ?? customer.createdAt
            let ringEnd = customer.answeredAt ?? customer.dialStatusAt ?? customer.hungUpAt
            record.ringSeconds = ringEnd.map { Self.seconds($0 - ringStart) }
            if let answered = customer.answeredAt {
                // Talk ends when the first party leaves after the answer: a phone or trunk channel,
                // not a Local channel that Asterisk optimized away (when the call has parties).
                // A channel that gave its place away (picked up, forwarded) is not a party either.
                let stayed = call.legs.filter { $0.pickedUpBy == nil && $0.forwardedTo == nil }
                let parties = stayed.contains { !$0.isLocal } ? stayed.filter { !$0.isLocal } : stayed
                let firstHangup = parties.compactMap(\.endedAt).filter { $0 >= answered }.min()
                record.talkSeconds = firstHangup.map { Self.seconds($0 - answered) }
            }
            let side = Self.customerSide(of: call.legs, customer: customerIndex!)
            let cause = Self.customerCause(legs: call.legs, side: side, customer: customer)
            record.hangupCause = cause?.cause
            record.hangupCauseText = cause?.text
            if customer.answeredAt != nil, let first = call.firstHangup {
                let firstIsCustomerSide = call.legs.indices.contains { side[$0] && call.legs[$0].uniqueid == first }
                record.hungUpFirst = firstIsCustomerSide ? .customer : .agent
            }
            record.phoneNumber = Self.dialedNumber(customer.dialString) ?? customer.connectedLineNum ?? customer.callerIDNum
        }
        record.outcome = ended == nil && call.originateResult == nil ? nil : Self.outcome(call, customer: customer, agent: agent)
        return record
    }

    /// The customer: a leg created by a Dial() (not by the Originate), preferring a real trunk
    /// channel over a Local one; a ringing channel that was picked up gave its place to the picker.
    static func customerLeg(of legs: [CallLeg]) -> CallLeg? {
        customerLegIndex(of: legs).map { legs[$0] }
    }

    /// Where ``customerLeg(of:)`` is among the legs; looked at on every event of a call, so it
    /// makes nothing. Of several dialed legs (a queue's members, a ring group) the one that
    /// answered; legs that gave their place away (picked up, forwarded) are not the customer.
    static func customerLegIndex(of legs: [CallLeg]) -> Int? {
        var firstLocal: Int?
        var first: Int?
        var answeredLocal: Int?
        for index in legs.indices where legs[index].dialedBy != nil && legs[index].pickedUpBy == nil && legs[index].forwardedTo == nil {
            let answered = legs[index].answeredAt != nil
            if !legs[index].isLocal {
                if answered { return index }
                if first == nil { first = index }
            } else {
                if answered, answeredLocal == nil { answeredLocal = index }
                if firstLocal == nil { firstLocal = index }
            }
        }
        return first ?? answeredLocal ?? firstLocal
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

    /// The customer leg, its Local partner, and whatever they dialed in turn: a flag per leg.
    static func customerSide(of legs: [CallLeg], customer: Int) -> [Bool] {
        let pairNames = legs.map(\.localPairName)
        var side = [Bool](repeating: false, count: legs.count)
        side[customer] = true
        var changed = true
        while changed {
            changed = false
            for index in legs.indices where !side[index] {
                let partner = pairNames[index].map { name in legs.indices.contains { side[$0] && pairNames[$0] == name } } ?? false
                let dialedFromSide = legs[index].dialedBy.map { dialer in legs.indices.contains { side[$0] && legs[$0].uniqueid == dialer } } ?? false
                if partner || dialedFromSide {
                    side[index] = true
                    changed = true
                }
            }
        }
        return side
    }

    /// The customer's Q.850 cause: the trunk's own when it gave one, else the first non-zero cause
    /// on the customer side (a Local `;2` that ran `Busy()`), else the one its dial status implies.
    static func customerCause(legs: [CallLeg], side: [Bool], customer: CallLeg) -> (cause: Int, text: String)? {
        if let cause = customer.cause, cause != 0 { return (cause, customer.causeText ?? "") }
        let sideWithCause = legs.indices.filter { side[$0] && (legs[$0].cause ?? 0) != 0 }
        if let index = sideWithCause.first(where: { !legs[$0].isLocal }) ?? sideWithCause.first {
            return (legs[index].cause!, legs[index].causeText ?? "")
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
        if dialString.utf8.allSatisfy({ $0 < 0x80 }) { return asciiDialedNumber(dialString) }
        // The last non-empty `/` part, then the first non-empty `@` part of it (what splitting
        // would give), without making the arrays.
        var last = dialString[...]
        if let part = lastComponent(of: last, separatedBy: "/") { last = part }
        var number = last
        if let part = firstComponent(of: last, separatedBy: "@") { number = part }
        let digits = number.drop { $0 == "+" }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { return nil }
        return String(number)
    }

    /// ``dialedNumber(_:)`` of an ASCII dial string, byte by byte: the usual case, called for
    /// every record.
    private static func asciiDialedNumber(_ dialString: String) -> String? {
        let bytes = dialString.utf8
        let slash = UInt8(ascii: "/"), at = UInt8(ascii: "@")
        var last = bytes[...]
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == slash { end = bytes.index(before: end) }
        if end > bytes.startIndex {
            let start = bytes[..<end].lastIndex(of: slash).map { bytes.index(after: $0) } ?? bytes.startIndex
            last = bytes[start..<end]
        }
        var number = last
        if let start = last.firstIndex(where: { $0 != at }) {
            number = last[start...].prefix { $0 != at }
        }
        let digits = number.drop { $0 == UInt8(ascii: "+") }
        guard !digits.isEmpty, digits.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else { return nil }
        return String(Substring(number))
    }

    private static func lastComponent(of text: Substring, separatedBy separator: Character) -> Substring? {
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == separator { end = text.index(before: end) }
        guard end > text.startIndex else { return nil }
        let start = text[..<end].lastIndex(of: separator).map { text.index(after: $0) } ?? text.startIndex
        return text[start..<end]
    }

    private static func firstComponent(of text: Substring, separatedBy separator: Character) -> Substring? {
        guard let start = text.firstIndex(where: { $0 != separator }) else { return nil }
        return text[start...].prefix { $0 != separator }
    }

    /// Whole seconds, never negative. Total: an interval between event times that make no sense
    /// (not finite, or longer than any call) must not trap converting to `Int`.
    static func seconds(_ interval: Double) -> Int {
        guard interval.isFinite, interval > 0 else { return 0 }
        return Int(min(interval.rounded(), longestInterval))
    }

    /// 68 years: longer than any call, and far inside `Int`.
    static let longestInterval = Double(Int32.max)
}
