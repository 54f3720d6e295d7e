import AMIProtocol
import Foundation
import NIOConcurrencyHelpers

/// The simulated dialer's state and decisions, without I/O: which agent takes the next call,
/// what is due now, what an action changes. The server calls it under a lock with the time and
/// runs what it returns: event text for every client, row writes for the database.
public struct SimulatorState: Sendable {
    public struct Configuration: Sendable {
        public var traffic = TrafficPlanner.Configuration()
        public var events = CallScriptGenerator.Configuration()
        /// `server_ip` of every row (the dialer's address in a ViciDial cluster).
        public var serverIP = "10.0.0.1"
        /// Stop generating after this many calls (Originates not counted); nil: no limit.
        public var maximumCalls: Int?
        /// Stop generating this many seconds after the start; nil: no limit.
        public var duration: Double?
        /// Plan rows (only when a database is configured).
        public var writesRows = false
        /// The number after the dot of the first uniqueid; nil: a fresh one per simulator in this
        /// process, from a random start, so simulators (and runs) sharing a database do not collide.
        public var firstUniqueSequence: Int?
        /// Generate no calls until ``SimulatorState/startTraffic(at:)``: a drill or test connects
        /// every client first, so each sees the whole stream.
        public var trafficStartsPaused = false

        public init() {}
    }

    /// What happened so far, for progress lines and tests.
    public struct Statistics: Sendable, Hashable {
        /// Generated calls placed, and Originates answered with a call.
        public var placed = 0
        public var originates = 0
        /// Planned outcomes of the calls placed (both kinds).
        public var outcomes: [SimulatedOutcome: Int] = [:]
        /// Calls whose last event went out.
        public var completed = 0
        /// Arrivals with every agent busy (ViciDial would not have dialed).
        public var skippedNoAgent = 0
        public var eventsSent = 0
        public var rowsPlanned = 0
        /// Calls and channels up right now.
        public var liveCalls = 0
        public var liveChannels = 0
    }

    /// What to do after an input: events to stream (concatenated text) and rows to write.
    public struct Output: Sendable {
        public var text = ""
        public var events = 0
        public var rows: [ViciDialRowWrite] = []
    }

    struct LiveCall: Sendable {
        var call: SimulatedCall
        var script: CallScript
        var agentIndex: Int?
        var targetIndex: Int?
    }

    public let configuration: Configuration
    var planner: TrafficPlanner
    var generator: CallScriptGenerator
    var timeline = Timeline()
    var calls: [Int: LiveCall] = [:]
    /// Live channels by uniqueid, with their call.
    var channels: [String: (channel: SimulatedChannel, call: Int)] = [:]
    let agents: [SimulatedAgent]
    var busy: [Bool]
    private var nextAgent = 0
    private var nextCallAt: Double
    private var startedAt: Double
    private var paused: Bool
    public internal(set) var statistics = Statistics()

    public init(configuration: Configuration, now: Double) {
        self.configuration = configuration
        planner = TrafficPlanner(configuration: configuration.traffic)
        generator = CallScriptGenerator(configuration: configuration.events, firstUniqueSequence: configuration.firstUniqueSequence ?? Self.uniqueSequenceBlocks.next())
        agents = configuration.traffic.agentList
        busy = Array(repeating: false, count: agents.count)
        startedAt = now
        nextCallAt = now
        paused = configuration.trafficStartsPaused
        nextCallAt += planner.interarrival()
    }

    /// Starts generating calls (after ``Configuration/trafficStartsPaused``); `--duration` counts from here.
    public mutating func startTraffic(at now: Double) {
        guard paused else { return }
        paused = false
        startedAt = now
        nextCallAt = now + planner.interarrival()
    }

    /// Agents log in (their rows); call once at the start.
    public func start(at now: Double) -> Output {
        var output = Output()
        if configuration.writesRows {
            output.rows = agents.map { .agentLogin($0, campaignID: configuration.traffic.campaignID, serverIP: configuration.serverIP, at: now) }
        }
        return output
    }

    /// Agents log out (their live rows go); call once at the end.
    public func stop() -> Output {
        var output = Output()
        if configuration.writesRows { output.rows = agents.map { .agentLogout(user: $0.user) } }
        return output
    }

    /// Generation is over (limit or duration reached), every call has ended and every row due
    /// after the calls (the last dispositions) is out.
    public var isFinished: Bool { !generating && calls.isEmpty && timeline.count == 0 }

    private var generating: Bool {
        if paused { return true }
        if let maximum = configuration.maximumCalls, statistics.placed >= maximum { return false }
        if let duration = configuration.duration, nextCallAt > startedAt + duration { return false }
        return configuration.traffic.callsPerSecond > 0
    }

    /// When something is next due (the server sleeps until then, or until an action arrives).
    public var nextDue: Double? {
        [timeline.nextDue, generating && !paused ? nextCallAt : nil].compactMap { $0 }.min()
    }

    /// Places the calls that arrived by `now` and returns everything due.
    public mutating func advance(to now: Double) -> Output {
        // Behind by more than a few seconds (a suspended process): skip the missed arrivals.
        if nextCallAt < now - 5 { nextCallAt = now }
        while generating, !paused, nextCallAt <= now {
            if let index = freeAgent() {
                let target = configuration.traffic.mix.weights[.transfer] != nil ? freeAgent(excluding: index) : nil
                let call = planner.call(agent: agents[index], transferTarget: target.map { agents[$0] }, at: nextCallAt)
                statistics.placed += 1
                schedule(call, agentIndex: index, targetIndex: call.transferTarget == nil ? nil : target)
            } else {
                statistics.skippedNoAgent += 1
            }
            nextCallAt += planner.interarrival()
        }
        var output = Output()
        while let entry = timeline.popDue(now) {
            switch entry.item {
            case .event(let event):
                output.text += event.text
                output.events += 1
                switch event.change {
                case .set(let channel)?: channels[channel.uniqueid] = (channel, entry.call)
                case .gone(let uniqueid)?: channels[uniqueid] = nil
                case nil: break
                }
            case .row(let write):
                output.rows.append(write)
            case .agentFree(let index):
                busy[index] = false
            case .callDone:
                calls[entry.call] = nil
                statistics.completed += 1
            }
        }
        statistics.eventsSent += output.events
        statistics.liveCalls = calls.count
        statistics.liveChannels = channels.count
        return output
    }

    private mutating func freeAgent(excluding excluded: Int? = nil) -> Int? {
        guard !agents.isEmpty else { return nil }
        for offset in 0..<agents.count {
            let index = (nextAgent + offset) % agents.count
            if !busy[index], index != excluded {
                if excluded == nil { nextAgent = index + 1 }
                return index
            }
        }
        return nil
    }

    mutating func schedule(_ call: SimulatedCall, agentIndex: Int?, targetIndex: Int?) {
        let script = generator.script(for: call)
        statistics.outcomes[call.outcome, default: 0] += 1
        for event in script.events { timeline.add(.event(event), at: event.at, call: call.sequence) }
        if configuration.writesRows {
            let rows = ViciDialRowPlan.writes(for: script, serverIP: configuration.serverIP)
            statistics.rowsPlanned += rows.count
            for (time, write) in rows { timeline.add(.row(write), at: time, call: call.sequence) }
        }
        let freeAt = script.endedAt + (call.outcome.customerAnswers ? (call.dispositionDelaySeconds ?? 5) + 0.2 : 1)
        for index in [agentIndex, targetIndex].compactMap({ $0 }) {
            busy[index] = true
            timeline.add(.agentFree(index: index), at: freeAt, call: call.sequence)
        }
        timeline.add(.callDone, at: script.endedAt, call: call.sequence)
        var stored = script
        stored.events = []
        calls[call.sequence] = LiveCall(call: call, script: stored, agentIndex: agentIndex, targetIndex: targetIndex)
    }
}

extension SimulatorState {
    /// Hands each simulator of the process its own block of uniqueid sequence numbers.
    final class SequenceBlocks: Sendable {
        private let first = NIOLockedValueBox(Int.random(in: 1...5_000) * 100_000)

        func next() -> Int {
            first.withLockedValue { value in
                defer { value += 10_000_000 }
                return value
            }
        }
    }

    static let uniqueSequenceBlocks = SequenceBlocks()
}
