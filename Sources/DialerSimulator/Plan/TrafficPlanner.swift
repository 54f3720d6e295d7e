import Foundation

/// Decides calls: the next arrival, which outcome, how long each part lasts, which lead. Pure and
/// seeded, so a seed replays the same traffic and tests know what each call will do.
public struct TrafficPlanner: Sendable {
    /// What the generated traffic looks like. Defaults suit a demo: a call or two per second on
    /// ten agents, calls lasting seconds rather than minutes, so webhooks arrive while you watch.
    public struct Configuration: Sendable {
        /// Agents logged in (users `<agentPrefix>001`..., phones `SIP/<firstExtension + n>`). Default 10.
        public var agents: Int = 10
        public var agentPrefix: String = "agent"
        public var firstExtension: Int = 1001
        /// New calls per second (Poisson arrivals); 0 for none (only Originates). Default 1.
        public var callsPerSecond: Double = 1
        public var mix: OutcomeMix = .default
        public var seed: UInt64 = 1
        /// `vicidial_log.campaign_id` (at most 8 characters). Default `SIMCAMP`.
        public var campaignID: String = "SIMCAMP"
        public var listID: Int = 9999
        /// The campaign's caller ID number.
        public var callerIDNumber: String = "3125551212"
        /// The first lead_id this simulator gives out (leads are numbered from here).
        public var firstLeadID: Int = 1_000_000
        /// Seconds ranges of each part of a call.
        public var agentRing: ClosedRange<Double> = 0.3...1.5
        public var customerRing: ClosedRange<Double> = 1...5
        /// How long an unanswered customer line rings before `Dial` gives up (NOANSWER).
        public var dialTimeout: Double = 8
        /// How long an unanswered agent phone rings before the Originate gives up.
        public var originateTimeout: Double = 10
        public var talk: ClosedRange<Double> = 4...20
        /// Seconds after the hangup until the agent's disposition.
        public var dispositionDelay: ClosedRange<Double> = 2...12
        /// Percent of answered calls the agent never disposes of (a closed browser). Default 10.
        public var neverDisposedPercent: Int = 10
        /// Dispositions agents pick, with weights.
        public var dispositions: [(status: String, weight: Int)] = [("SALE", 2), ("NI", 4), ("CALLBK", 2), ("A", 1), ("DNC", 1)]

        public init() {}

        /// The logged-in agents.
        public var agentList: [SimulatedAgent] {
            (0..<agents).map { index in
                SimulatedAgent(user: agentPrefix + TrafficPlanner.zeroPadded(index + 1, width: 3), phoneExtension: String(firstExtension + index))
            }
        }
    }

    public let configuration: Configuration
    private var random: SeededRandom
    private var nextSequence = 0
    private var nextLeadID: Int
    private static let firstNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Dennis"]
    private static let lastNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Ritchie"]

    public init(configuration: Configuration) {
        self.configuration = configuration
        random = SeededRandom(seed: configuration.seed)
        nextLeadID = configuration.firstLeadID
    }

    /// Seconds until the next generated call.
    public mutating func interarrival() -> Double {
        configuration.callsPerSecond > 0 ? random.exponential(rate: configuration.callsPerSecond) : .infinity
    }

    /// A generated call for `agent` starting at `time`, with an outcome drawn from the mix (or `outcome`).
    public mutating func call(agent: SimulatedAgent, transferTarget: SimulatedAgent?, at time: Double, outcome: SimulatedOutcome? = nil) -> SimulatedCall {
        var outcome = outcome ?? drawOutcome()
        if outcome == .transfer, transferTarget == nil { outcome = .answered }
        let leadID = nextLeadID
        nextLeadID += 1
        let phone = "1800" + Self.zeroPadded(Int(random.next() % 10_000_000), width: 7)
        let code = Self.callerCode(type: "V", leadID: leadID, at: time)
        return plan(agent: agent, transferTarget: outcome == .transfer ? transferTarget : nil, leadID: leadID, ownsLead: true,
                    phone: phone, callerIDName: code, callerIDNumber: configuration.callerIDNumber, outcome: outcome, at: time, originate: nil)
    }

    /// The call an `Originate` makes: the agent and number it names, the outcome drawn from the
    /// mix unless `outcome` is given (an agent already on a call is busy). A caller code in the
    /// Caller ID name (a CRM's click-to-call with a lead) is kept, so its rows join.
    public mutating func call(for request: OriginateRequest, agent: SimulatedAgent, callerID: (name: String?, number: String?),
                              at time: Double, outcome: SimulatedOutcome? = nil) -> SimulatedCall {
        var outcome = outcome ?? drawOutcome()
        if outcome == .transfer { outcome = .answered }
        let name = callerID.name ?? "Click2Call"
        let leadID = Self.leadID(ofCallerCode: name) ?? 0
        return plan(agent: agent, transferTarget: nil, leadID: leadID, ownsLead: false, phone: request.exten, callerIDName: name,
                    callerIDNumber: callerID.number ?? configuration.callerIDNumber, outcome: outcome, at: time, originate: request)
    }

    private mutating func drawOutcome() -> SimulatedOutcome {
        let total = configuration.mix.total
        return configuration.mix.outcome(forRoll: total > 0 ? Int(random.next() % UInt64(total)) : 0)
    }

    private mutating func plan(agent: SimulatedAgent, transferTarget: SimulatedAgent?, leadID: Int, ownsLead: Bool, phone: String,
                               callerIDName: String, callerIDNumber: String, outcome: SimulatedOutcome, at time: Double,
                               originate: OriginateRequest?) -> SimulatedCall {
        let sequence = nextSequence
        nextSequence += 1
        let talk = random.uniform(configuration.talk)
        let disposed = Int(random.next() % 100) >= configuration.neverDisposedPercent
        let disposition: String
        switch outcome {
        case .customerBusy: disposition = "B"
        case .customerNoAnswer: disposition = "NA"
        case .congestion: disposition = "DC"
        case .agentBusy, .agentNoAnswer: disposition = "NA"
        case .transfer: disposition = "XFER"
        case .answered, .agentHangsUpFirst: disposition = drawDisposition()
        }
        return SimulatedCall(
            sequence: sequence, agent: agent, transferTarget: transferTarget, leadID: leadID, listID: configuration.listID,
            campaignID: configuration.campaignID, phoneNumber: phone, callerIDName: callerIDName, callerIDNumber: callerIDNumber,
            outcome: outcome, startedAt: time,
            agentRingSeconds: outcome == .agentNoAnswer ? configuration.originateTimeout : random.uniform(configuration.agentRing),
            customerRingSeconds: outcome == .customerNoAnswer ? configuration.dialTimeout : random.uniform(configuration.customerRing),
            talkSeconds: talk, transferAfterSeconds: talk * random.uniform(0.2...0.5),
            dispositionDelaySeconds: outcome.customerAnswers && !disposed ? nil : random.uniform(configuration.dispositionDelay),
            disposition: disposition, originate: originate, ownsLead: ownsLead,
            firstName: Self.firstNames[Int(random.next() % UInt64(Self.firstNames.count))],
            lastName: Self.lastNames[Int(random.next() % UInt64(Self.lastNames.count))]
        )
    }

    private mutating func drawDisposition() -> String {
        let total = configuration.dispositions.reduce(0) { $0 + $1.weight }
        guard total > 0 else { return "SALE" }
        var roll = Int(random.next() % UInt64(total))
        for (status, weight) in configuration.dispositions {
            if roll < weight { return status }
            roll -= weight
        }
        return "SALE"
    }

    /// ViciDial's caller code: the type letter, `mdHis` (UTC here) without its first character,
    /// and the lead_id zero-padded to 10 digits.
    public static func callerCode(type: Character, leadID: Int, at time: Double) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: time))
        let stamp = [parts.month, parts.day, parts.hour, parts.minute, parts.second].map { zeroPadded($0 ?? 0, width: 2) }.joined().dropFirst()
        return String(type) + stamp + zeroPadded(leadID % 10_000_000_000, width: 10)
    }

    /// `value` in decimal with leading zeros to `width` digits (String(format:)'s `%d` is 32-bit on Linux).
    static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The lead_id of a 20-character caller code (a letter and 19 digits); nil for any other name.
    public static func leadID(ofCallerCode name: String) -> Int? {
        let utf8 = Array(name.utf8)
        guard utf8.count == 20, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(utf8[0]),
              utf8.dropFirst().allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return Int(name.suffix(10))
    }
}
