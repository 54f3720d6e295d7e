import AMIProtocol
import DialerSimulator
import EventMapper
import NIOCore
import Testing

/// The generated events, read by the bridge's own call tracker, give exactly the planned calls.
@Suite struct CallScriptGeneratorTests {
    /// Every outcome, weighted equally.
    static let everyOutcome = OutcomeMix(weights: Dictionary(uniqueKeysWithValues: SimulatedOutcome.allCases.map { ($0, 1) }))

    /// `count` calls from a seeded planner, overlapping (one starts every 0.7 s, each lasts
    /// seconds), each with its own agent and transfer target.
    static func scripts(count: Int, seed: UInt64) -> [CallScript] {
        var traffic = TrafficPlanner.Configuration()
        traffic.mix = everyOutcome
        traffic.seed = seed
        traffic.agents = 2 * count
        var planner = TrafficPlanner(configuration: traffic)
        var generator = CallScriptGenerator(firstUniqueSequence: 7)
        let agents = traffic.agentList
        return (0..<count).map { index in
            let call = planner.call(agent: agents[2 * index], transferTarget: agents[2 * index + 1], at: 1_795_000_000 + 0.7 * Double(index))
            return generator.script(for: call)
        }
    }

    /// All scripts' events in time order (interleaved as concurrent calls are), as AMI messages.
    static func messages(of scripts: [CallScript]) throws -> [(message: AMIMessage, at: Double)] {
        let events = scripts.flatMap(\.events).enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        var decoder = AMIFrameDecoder()
        return try events.map { event in
            var buffer = ByteBuffer(string: event.text)
            guard case .message(let message)? = try decoder.decode(buffer: &buffer), buffer.readableBytes == 0 else {
                throw SimulatorError("not exactly one AMI message: \(event.text)")
            }
            return (message, event.at)
        }
    }

    @Test("a seeded plan of every outcome: the real CallTracker completes each call once, with its planned outcome, side and lead")
    func trackerSeesThePlannedCalls() throws {
        let scripts = Self.scripts(count: 160, seed: 42)
        #expect(Set(scripts.map(\.call.outcome)) == Set(SimulatedOutcome.allCases))
        var tracker = CallTracker(configuration: .init(server: "sim"))
        var completed: [String: [CallRecord]] = [:]
        for (message, time) in try Self.messages(of: scripts) {
            for update in tracker.receive(message, at: time) {
                if case .completed(let record) = update { completed[record.linkedid, default: []].append(record) }
            }
        }
        #expect(tracker.liveCallCount == 0)
        #expect(completed.count == scripts.count)
        for script in scripts {
            let call = script.call
            guard let records = completed[script.linkedid], records.count == 1, let record = records.first else {
                Issue.record("call \(call.sequence) (\(call.outcome)) completed \(completed[script.linkedid]?.count ?? 0) times")
                continue
            }
            let expected: CallOutcome = switch call.outcome {
            case .answered, .agentHangsUpFirst, .transfer: .answered
            case .customerBusy: .customerBusy
            case .customerNoAnswer: .customerNoAnswer
            case .congestion: .congestion
            case .agentBusy: .agentBusy
            case .agentNoAnswer: .agentNoAnswer
            }
            #expect(record.outcome == expected, "call \(call.sequence) planned \(call.outcome)")
            #expect(record.callerCode?.leadID == call.leadID)
            #expect(record.agentLeg?.channel == script.agentChannel)
            switch call.outcome {
            case .answered:
                #expect(record.hungUpFirst == .customer)
                #expect(record.talkSeconds == Int(call.talkSeconds.rounded()))
            case .agentHangsUpFirst, .transfer:
                #expect(record.hungUpFirst == .agent, "call \(call.sequence) planned \(call.outcome)")
            default:
                #expect(record.hungUpFirst == nil)
            }
            if call.outcome.agentAnswers {
                #expect(record.customerLeg?.uniqueid == script.customerUniqueid)
                #expect(record.phoneNumber == call.phoneNumber)
            } else {
                #expect(record.customerLeg == nil)
            }
            if call.outcome == .customerBusy { #expect(record.hangupCause == 17) }
            if call.outcome == .congestion { #expect(record.hangupCause == 34) }
            if call.outcome == .transfer { #expect(record.legs.count == 3) }
        }
    }

    @Test("uniqueids are fresh across calls, Linkedids are the first channel's, caller codes carry the lead")
    func freshIdentifiers() throws {
        let scripts = Self.scripts(count: 50, seed: 7)
        let messages = try Self.messages(of: scripts)
        var owners: [String: String] = [:]
        for (message, _) in messages where message.eventName == "Newchannel" {
            let uniqueid = try #require(message["Uniqueid"])
            #expect(owners[uniqueid] == nil, "uniqueid \(uniqueid) made twice")
            owners[uniqueid] = message["Linkedid"]
        }
        #expect(Set(owners.values) == Set(scripts.map(\.linkedid)))
        for script in scripts {
            #expect(script.call.callerIDName.count == 20)
            #expect(script.call.callerIDName.hasPrefix("V"))
            #expect(TrafficPlanner.leadID(ofCallerCode: script.call.callerIDName) == script.call.leadID)
        }
        // The noise the captures have is there: dialplan VarSets, RTP quality, CDRs, device states.
        let names = Set(messages.compactMap { $0.message.eventName })
        #expect(names.isSuperset(of: ["VarSet", "Newexten", "NewCallerid", "NewConnectedLine", "DialState", "DeviceStateChange", "Cdr",
                                      "BridgeCreate", "BridgeEnter", "BridgeLeave", "BridgeDestroy", "HangupRequest", "SoftHangupRequest",
                                      "OriginateResponse", "AttendedTransfer", "Hold"]))
        #expect(messages.allSatisfy { $0.message["Timestamp"] != nil && $0.message["Privilege"] != nil })
    }

    @Test("the same seed plans the same traffic; another seed another")
    func seeded() {
        let first = Self.scripts(count: 20, seed: 5).map { $0.events.map(\.text) }
        let again = Self.scripts(count: 20, seed: 5).map { $0.events.map(\.text) }
        let other = Self.scripts(count: 20, seed: 6).map { $0.events.map(\.text) }
        #expect(first == again)
        #expect(first != other)
    }
}
