import AMIProtocol
import Foundation

/// The AMI actions that change or read the simulated calls: Originate, Hangup, CoreShowChannels, Command.
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
            line.split(separator: ",").compactMap { pair -> OriginateRequest.Variable? in
                guard let equals = pair.firstIndex(of: "=") else { return nil }
                return OriginateRequest.Variable(String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
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

    /// `"Name" <3125551212>`, `Name <3125551212>`, `"Name"` or a bare number.
    static func callerID(_ text: String?) -> (name: String?, number: String?) {
        guard let text, !text.isEmpty else { return (nil, nil) }
        guard let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else {
            // `"Name"` alone (a CRM without a caller ID number) or a bare number.
            let bare = text.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            guard !bare.isEmpty else { return (nil, nil) }
            return bare.allSatisfy(\.isNumber) ? (nil, bare) : (bare, nil)
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
                + ended.map { "Event: ChannelHungup\r\nChannel: \($0)\r\n\(id)\r\n" }.joined()
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
