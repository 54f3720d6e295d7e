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
    private var planner: TrafficPlanner
    private var generator: CallScriptGenerator
    private var timeline = Timeline()
    private var calls: [Int: LiveCall] = [:]
    /// Live channels by uniqueid, with their call.
    private var channels: [String: (channel: SimulatedChannel, call: Int)] = [:]
    private let agents: [SimulatedAgent]
    private var busy: [Bool]
    private var nextAgent = 0
    private var nextCallAt: Double
    private var startedAt: Double
    private var paused: Bool
    public private(set) var statistics = Statistics()

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

    /// Generation is over (limit or duration reached) and every call has ended.
    public var isFinished: Bool { !generating && calls.isEmpty }

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

    private mutating func schedule(_ call: SimulatedCall, agentIndex: Int?, targetIndex: Int?) {
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

// MARK: - Actions

extension SimulatorState {
    /// `Originate`: queued at once; the call's events (its outcome drawn from the mix, or
    /// agent_busy when the named agent is on a call) follow, OriginateResponse included.
    public mutating func originate(_ action: AMIMessage, at now: Double) -> String {
        let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
        guard let channel = action["Channel"], !channel.isEmpty else {
            return "Response: Error\r\n\(id)Message: Channel not specified\r\n\r\n"
        }
        guard let exten = action["Exten"], !exten.isEmpty else {
            return "Response: Error\r\n\(id)Message: Exten not specified\r\n\r\n"
        }
        let variables = action.values(for: "Variable").flatMap { line in
            line.split(separator: ",").compactMap { pair -> (name: String, value: String)? in
                guard let equals = pair.firstIndex(of: "=") else { return nil }
                return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
            }
        }
        let request = OriginateRequest(actionID: action.actionID, channel: channel, context: action["Context"] ?? "default",
                                       exten: exten, variables: variables)
        let device = Self.device(of: channel)
        let index = agents.firstIndex { $0.phoneExtension == device }
        let agent = index.map { agents[$0] } ?? SimulatedAgent(user: device, phoneExtension: device)
        let outcome: SimulatedOutcome? = index.map { busy[$0] } == true ? .agentBusy : nil
        let call = planner.call(for: request, agent: agent, callerID: Self.callerID(action["CallerID"]), at: now + 0.005, outcome: outcome)
        statistics.originates += 1
        schedule(call, agentIndex: outcome == .agentBusy ? nil : index, targetIndex: nil)
        return "Response: Success\r\n\(id)Message: Originate successfully queued\r\n\r\n"
    }

    /// `SIP/1001` → `1001`; `Local/1001@agents/n` → `1001`.
    static func device(of channel: String) -> String {
        let afterTech = channel.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? channel
        return String(afterTech.prefix { $0 != "@" && $0 != "/" })
    }

    /// `"Name" <3125551212>`, `Name <3125551212>` or a bare number.
    static func callerID(_ text: String?) -> (name: String?, number: String?) {
        guard let text, !text.isEmpty else { return (nil, nil) }
        guard let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else {
            return text.allSatisfy(\.isNumber) ? (nil, text) : (text, nil)
        }
        let number = String(text[text.index(after: open)..<close])
        let name = text[..<open].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return (name.isEmpty ? nil : name, number.isEmpty ? nil : number)
    }

    /// `CoreShowChannels`: the channels up now, as Asterisk 20 lists them.
    public func coreShowChannels(_ action: AMIMessage, at now: Double) -> String {
        let actionID = action.actionID
        let id = actionID.map { "ActionID: \($0)\r\n" } ?? ""
        let live = channels.values.map(\.channel).sorted { ($0.createdAt, $0.uniqueid) < ($1.createdAt, $1.uniqueid) }
        return "Response: Success\r\n\(id)EventList: start\r\nMessage: Channels will follow\r\n\r\n"
            + live.map { $0.coreShowChannel(actionID: actionID, at: now) }.joined()
            + "Event: CoreShowChannelsComplete\r\n\(id)EventList: Complete\r\nListItems: \(live.count)\r\n\r\n"
    }

    /// The live channel names matching a Hangup's `Channel:` (a name, or `/regex/`).
    func channels(matching pattern: String) -> [SimulatedChannel] {
        if pattern.count > 2, pattern.hasPrefix("/"), pattern.hasSuffix("/") {
            guard let regex = try? NSRegularExpression(pattern: String(pattern.dropFirst().dropLast())) else { return [] }
            return channels.values.map(\.channel).filter { channel in
                regex.firstMatch(in: channel.name, range: NSRange(channel.name.startIndex..., in: channel.name)) != nil
            }
        }
        return channels.values.map(\.channel).filter { $0.name == pattern }
    }

    /// `Hangup`: ends the call of each matching channel now. Its remaining events and rows are
    /// dropped; the live channels hang up (the named one first), and an answered call gets
    /// ViciDial's hangup rows as if the agent had hung up.
    public mutating func hangup(_ action: AMIMessage, at now: Double) -> String {
        let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
        guard let pattern = action["Channel"], !pattern.isEmpty else {
            return "Response: Error\r\n\(id)Message: No channel specified\r\n\r\n"
        }
        let cause = action["Cause"].flatMap { Int($0) } ?? 16
        let matched = channels(matching: pattern)
        var ended: [String] = []
        for channel in matched {
            guard let call = channels[channel.uniqueid]?.call, calls[call] != nil else { continue }
            end(call: call, first: channel, cause: cause, at: now)
            ended.append(channel.name)
        }
        let isRegex = pattern.count > 2 && pattern.hasPrefix("/") && pattern.hasSuffix("/")
        if isRegex {
            return "Response: Success\r\n\(id)EventList: start\r\nMessage: Channels hung up will follow\r\n\r\n"
                + ended.map { "Event: ChannelHungup\r\n\(id)Channel: \($0)\r\n\r\n" }.joined()
                + "Event: ChannelsHungupListComplete\r\n\(id)EventList: Complete\r\nListItems: \(ended.count)\r\n\r\n"
        }
        return ended.isEmpty ? "Response: Error\r\n\(id)Message: No such channel\r\n\r\n" : "Response: Success\r\n\(id)Message: Channel Hungup\r\n\r\n"
    }

    private mutating func end(call sequence: Int, first: SimulatedChannel, cause: Int, at now: Double) {
        guard let live = calls[sequence] else { return }
        let removed = timeline.remove(call: sequence)
        let pendingResponse = removed.contains { entry in
            if case .event(let event) = entry.item { return event.text.hasPrefix("Event: OriginateResponse") }
            return false
        }
        var w = ScriptWriter(time: now)
        var bridge: SimulatedBridge?
        let up = channels.values.filter { $0.call == sequence }.map(\.channel)
            .sorted { ($0.uniqueid == first.uniqueid ? 0 : 1, $0.createdAt) < ($1.uniqueid == first.uniqueid ? 0 : 1, $1.createdAt) }
        bridge = up.compactMap { $0.bridgeID }.first.map { SimulatedBridge(id: $0, channels: up.filter { $0.bridgeID != nil }.count) }
        for var channel in up {
            if channel.uniqueid == first.uniqueid { w.channelEvent("SoftHangupRequest", channel, extra: "Cause: \(cause)\r\n") }
            if channel.bridgeID != nil, var current = bridge {
                w.leave(&current, &channel)
                bridge = current
            }
            if channel.uniqueid != first.uniqueid { w.channelEvent("SoftHangupRequest", channel, extra: "Cause: 16\r\n") }
            w.hangup(&channel, cause: channel.uniqueid == first.uniqueid ? cause : 16, text: "Normal Clearing")
        }
        if let bridge { w.emit("BridgeDestroy", bridge.fields) }
        if pendingResponse {
            w.originateResponse(live.call, success: false, reason: 1, channel: live.call.originate?.channel ?? first.name, uniqueid: nil)
        }
        for event in w.events { timeline.add(.event(event), at: event.at, call: sequence) }
        let endedAt = w.time
        let answeredAt = live.script.customerAnsweredAt.flatMap { $0 <= now ? $0 : nil }
        if configuration.writesRows, answeredAt != nil {
            // What ViciDial writes when the agent ends the call from the agent screen: the
            // hangup update and what follows it (the answer's rows are already written).
            var script = live.script
            script.endedAt = endedAt
            script.hungUpFirst = .agent
            let rows = ViciDialRowPlan.writes(for: script, serverIP: configuration.serverIP).filter { $0.at >= endedAt }
            for (time, write) in rows { timeline.add(.row(write), at: time, call: sequence) }
        }
        let freeAt = endedAt + (answeredAt != nil ? (live.call.dispositionDelaySeconds ?? 5) + 0.2 : 0.5)
        for index in [live.agentIndex, live.targetIndex].compactMap({ $0 }) {
            timeline.add(.agentFree(index: index), at: freeAt, call: sequence)
        }
        timeline.add(.callDone, at: endedAt, call: sequence)
    }

    /// `Command`: the few CLI commands a client asks a dialer for; others as Asterisk answers them.
    public func command(_ action: AMIMessage) -> String {
        let id = action.actionID.map { "ActionID: \($0)\r\n" } ?? ""
        let command = (action["Command"] ?? "").trimmingCharacters(in: .whitespaces)
        let output: [String]
        switch command.lowercased() {
        case "core show version":
            output = ["Asterisk 20.20.1 built by amibridge simulate (a simulated ViciDial dialer)"]
        case "core show channels", "core show channels concise":
            output = ["Channel                                                          Location                         State   Application(Data)             "]
                + channels.values.map(\.channel).sorted { $0.createdAt < $1.createdAt }.map { channel in
                    "\(channel.name.padding(toLength: 64, withPad: " ", startingAt: 0)) \("\(channel.exten)@\(channel.context):\(channel.priority)".padding(toLength: 32, withPad: " ", startingAt: 0)) \(channel.state.text.padding(toLength: 7, withPad: " ", startingAt: 0)) \(channel.application)(\(channel.applicationData))"
                }
                + ["\(channels.count) active channels", "\(calls.count) active calls", "\(statistics.completed) calls processed"]
        default:
            return "Response: Error\r\n\(id)Message: Command output follows\r\nOutput: No such command '\(command)' (type 'core show help \(command)' for other possible commands)\r\n\r\n"
        }
        return "Response: Success\r\n\(id)Message: Command output follows\r\n" + output.map { "Output: \($0)\r\n" }.joined() + "\r\n"
    }
}
