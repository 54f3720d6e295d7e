import Foundation

/// What happens to one simulated call: the outcomes the bridge reports (`CallOutcome`), plus the
/// two ways an answered call ends that change its webhooks (who hung up first, a transfer).
public enum SimulatedOutcome: String, Sendable, Hashable, CaseIterable {
    /// The customer answers, talks, and hangs up first.
    case answered
    case customerBusy = "customer_busy"
    case customerNoAnswer = "customer_no_answer"
    case congestion
    /// The customer answers; the agent ends the call.
    case agentHangsUpFirst = "agent_hangs_up_first"
    /// The customer answers; the agent transfers them to another agent and leaves.
    case transfer
    /// The agent's phone is busy: no customer is dialed.
    case agentBusy = "agent_busy"
    /// The agent's phone rings until the Originate's timeout.
    case agentNoAnswer = "agent_no_answer"

    /// The customer leg answers.
    public var customerAnswers: Bool {
        switch self {
        case .answered, .agentHangsUpFirst, .transfer: true
        case .customerBusy, .customerNoAnswer, .congestion, .agentBusy, .agentNoAnswer: false
        }
    }

    /// The agent's phone answers (so a customer is dialed).
    public var agentAnswers: Bool {
        switch self {
        case .agentBusy, .agentNoAnswer: false
        case .answered, .customerBusy, .customerNoAnswer, .congestion, .agentHangsUpFirst, .transfer: true
        }
    }
}

/// How often each outcome happens, as integer weights (`answered=60,customer_busy=10,...`).
public struct OutcomeMix: Sendable, Hashable, CustomStringConvertible {
    /// Weight per outcome; outcomes left out never happen.
    public private(set) var weights: [SimulatedOutcome: Int]

    /// The mix: mostly answered calls, with every failure and both answered endings.
    public static let `default` = OutcomeMix(weights: [
        .answered: 60, .customerBusy: 10, .customerNoAnswer: 15, .congestion: 5, .agentHangsUpFirst: 5, .transfer: 5,
    ])

    public init(weights: [SimulatedOutcome: Int]) {
        self.weights = weights.filter { $0.value > 0 }
    }

    /// Parses `name=weight` pairs separated by commas; throws a one-line reason naming the bad pair.
    public init(parsing text: String) throws {
        var weights: [SimulatedOutcome: Int] = [:]
        for pair in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let outcome = SimulatedOutcome(rawValue: parts[0]), let weight = Int(parts[1]), weight >= 0 else {
                let names = SimulatedOutcome.allCases.map(\.rawValue).joined(separator: ", ")
                throw SimulatorError("--mix: '\(pair)' is not outcome=weight with outcome one of \(names) and weight a whole number >= 0")
            }
            weights[outcome] = weight
        }
        guard weights.values.contains(where: { $0 > 0 }) else { throw SimulatorError("--mix: every weight is 0") }
        self.init(weights: weights)
    }

    public var total: Int { weights.values.reduce(0, +) }

    /// The outcome of a roll in `0..<total`, outcomes in their declared order.
    func outcome(forRoll roll: Int) -> SimulatedOutcome {
        var remaining = roll
        for outcome in SimulatedOutcome.allCases {
            let weight = weights[outcome] ?? 0
            if remaining < weight { return outcome }
            remaining -= weight
        }
        return .answered
    }

    public var description: String {
        SimulatedOutcome.allCases.compactMap { outcome in weights[outcome].map { "\(outcome.rawValue)=\($0)" } }.joined(separator: ",")
    }
}

/// A simulator setting or input that cannot be used, said in one line.
public struct SimulatorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
