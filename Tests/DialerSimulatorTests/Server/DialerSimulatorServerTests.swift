import Foundation
import AMIProtocol
import AMITestSupport
import DialerSimulator
import EventMapper
import Testing

/// The simulator as an AMI server, through the product's own AMI client over real TCP.
@Suite struct DialerSimulatorServerTests {
    static let everyOutcome = OutcomeMix(weights: [.answered: 2, .customerBusy: 1, .customerNoAnswer: 1, .congestion: 1, .agentHangsUpFirst: 1, .transfer: 1])

    @Test("two clients (plain and MD5 login) receive the same event stream: the same calls, event for event")
    func twoClientsSameStream() async throws {
        var settings = DialerSimulator.Configuration.quick(agents: 6, rate: 8, mix: Self.everyOutcome, calls: 12)
        settings.state.trafficStartsPaused = true
        let configuration = settings
        try await withDeadline(.seconds(60)) {
            try await DialerSimulator.withSimulator(configuration: configuration) { simulator in
                let clients = [SimulatorClient(port: simulator.port), SimulatorClient(port: simulator.port, authentication: .md5)]
                let seen = try await withThrowingTaskGroup(of: [String].self) { group in
                    for client in clients {
                        group.addTask {
                            try await client.run { _, iterator in
                                var tracker = CallTracker(configuration: .init(server: "sim"))
                                let (events, completed) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { completed, _ in completed.count == 12 }
                                #expect(tracker.liveCallCount == 0)
                                #expect(Set(completed.map(\.linkedid)).count == 12)
                                return events.map { "\($0.name ?? "") \($0.message["Uniqueid"] ?? $0.message["DestUniqueid"] ?? "") \($0.message["Timestamp"] ?? "")" }
                            }
                        }
                    }
                    // Both logged in before the first call: each sees the whole stream.
                    while simulator.loggedInClients < 2 { try await Task.sleep(for: .milliseconds(10)) }
                    simulator.startTraffic()
                    var all: [[String]] = []
                    for try await events in group { all.append(events) }
                    return all
                }
                #expect(seen.count == 2)
                #expect(seen[0].count > 12 * 20)
                // The stream after each client's 12th call: the same events in the same order.
                let shorter = min(seen[0].count, seen[1].count)
                #expect(Array(seen[0].prefix(shorter)) == Array(seen[1].prefix(shorter)))
            }
        }
    }

    @Test("a wrong secret is refused and the connection closed, as Asterisk does")
    func wrongSecret() async throws {
        try await withDeadline(.seconds(30)) {
            try await DialerSimulator.withSimulator(configuration: .quick(agents: 1, rate: 0, mix: .default)) { simulator in
                let client = SimulatorClient(port: simulator.port, secret: "wrong")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await client.client.run() }
                    defer {
                        client.client.shutdown(logoff: false)
                        group.cancelAll()
                    }
                    var iterator = client.events.makeAsyncIterator()
                    while let element = await iterator.next() {
                        if case .disconnected(_, let reason) = element {
                            #expect(reason.code == .loginRejected)
                            break
                        }
                        if case .loggedIn = element { Issue.record("logged in with a wrong secret") }
                    }
                    #expect(simulator.loggedInClients == 0)
                }
            }
        }
    }

    @Test("Originate: queued, then the click-to-call's channel events and OriginateResponse; a second one to the busy agent fails busy")
    func originate() async throws {
        let configuration = DialerSimulator.Configuration.quick(agents: 2, rate: 0, mix: OutcomeMix(weights: [.answered: 1]), talk: 1...1.5)
        try await withDeadline(.seconds(60)) {
            try await DialerSimulator.withSimulator(configuration: configuration) { simulator in
                try await SimulatorClient(port: simulator.port).run { session, iterator in
                    var tracker = CallTracker(configuration: .init(server: "sim"))
                    let now = Date.now.timeIntervalSince1970
                    let originate = AMIAction.originate(channel: "SIP/1001", context: "default", exten: "18005554242", timeout: .seconds(30),
                                                        callerID: "\"M5251411420000004242\" <3125551212>", variables: [("CRM_CALL_ID", "c2c-1")])
                    tracker.originateSent(actionID: "c2c-1", callID: "c2c-1", channel: "SIP/1001", at: now)
                    let queued = try await session.client.send(originate, actionID: "c2c-1")
                    #expect(queued.isSuccess)
                    #expect(queued.message["Message"] == "Originate successfully queued")
                    // Wait for the agent leg to be up, then ring the same agent again: busy.
                    var (events, completed) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { _, events in
                        events.contains { $0.name == "OriginateResponse" }
                    }
                    tracker.originateSent(actionID: "c2c-2", callID: "c2c-2", channel: "SIP/1001", at: now)
                    #expect(try await session.client.send(originate, actionID: "c2c-2").isSuccess)
                    let rest = try await SimulatorClient.follow(&iterator, tracker: &tracker) { completed, _ in completed.count == 2 }
                    events += rest.events
                    completed += rest.completed
                    let responses = events.filter { $0.name == "OriginateResponse" }
                    #expect(responses.map { $0.message["ActionID"] } == ["c2c-1", "c2c-2"])
                    #expect(responses.map { $0.message["Reason"] } == ["4", "5"])
                    let answered = try #require(completed.first { $0.callID == "c2c-1" })
                    #expect(answered.outcome == .answered)
                    #expect(answered.originateReason == 4)
                    #expect(answered.callerCode?.leadID == 4242)
                    #expect(answered.phoneNumber == "18005554242")
                    #expect(answered.agentLeg?.channel.hasPrefix("SIP/1001-") == true)
                    let busy = try #require(completed.first { $0.callID == "c2c-2" })
                    #expect(busy.outcome == .agentBusy)
                    #expect(events.contains { $0.name == "VarSet" && $0.message["Variable"] == "CRM_CALL_ID" && $0.message["Value"] == "c2c-1" })
                }
            }
        }
    }

    @Test("CoreShowChannels lists the live channels; Hangup ends the call: Hangup events follow and the list is empty")
    func coreShowChannelsAndHangup() async throws {
        let configuration = DialerSimulator.Configuration.quick(agents: 1, rate: 0, mix: OutcomeMix(weights: [.answered: 1]), talk: 600...600)
        try await withDeadline(.seconds(60)) {
            try await DialerSimulator.withSimulator(configuration: configuration) { simulator in
                try await SimulatorClient(port: simulator.port).run { session, iterator in
                    var tracker = CallTracker(configuration: .init(server: "sim"))
                    let originate = AMIAction.originate(channel: "SIP/1001", context: "default", exten: "18005550001")
                    #expect(try await session.client.send(originate).isSuccess)
                    // The call is up once both legs are in the bridge.
                    let (events, _) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { _, events in
                        events.filter { $0.name == "BridgeEnter" }.count == 2
                    }
                    let created = events.filter { $0.name == "Newchannel" }.compactMap { $0.message["Channel"] }
                    #expect(created.count == 2)
                    let listed = try await session.client.send(.coreShowChannels)
                    #expect(Set(listed.listItems.compactMap { $0["Channel"] }) == Set(created))
                    #expect(listed.listComplete?["ListItems"] == "2")
                    #expect(listed.listItems.allSatisfy { $0["ChannelStateDesc"] == "Up" && $0["BridgeId"]?.isEmpty == false })

                    let agent = try #require(created.first)
                    let hungUp = try await session.client.send(.hangup(channel: agent, cause: 16))
                    #expect(hungUp.isSuccess)
                    let (after, completed) = try await SimulatorClient.follow(&iterator, tracker: &tracker) { completed, _ in completed.count == 1 }
                    #expect(Set(after.filter { $0.name == "Hangup" }.compactMap { $0.message["Channel"] }) == Set(created))
                    #expect(completed.first?.hungUpFirst == .agent)
                    #expect(completed.first?.outcome == .answered)
                    let empty = try await session.client.send(.coreShowChannels)
                    #expect(empty.listItems.isEmpty)
                    #expect(try await session.client.send(.hangup(channel: agent)).isSuccess == false)
                    // A regex Hangup answers with the list Asterisk 20 sends (here: nothing left to hang up).
                    let regex = try await session.client.send(.hangup(channel: "/^SIP\\/1001-.*$/"))
                    #expect(regex.isSuccess)
                    #expect(regex.listComplete?["ListItems"] == "0")
                }
            }
        }
    }

    @Test("Command answers like Asterisk's CLI: core show channels counts the live calls; an unknown command is an error")
    func command() async throws {
        try await withDeadline(.seconds(30)) {
            try await DialerSimulator.withSimulator(configuration: .quick(agents: 1, rate: 0, mix: .default)) { simulator in
                try await SimulatorClient(port: simulator.port).run { session, _ in
                    let channels = try await session.client.send(.command("core show channels"))
                    #expect(channels.isSuccess)
                    #expect(channels.message.values(for: "Output").contains("0 active calls"))
                    let unknown = try await session.client.send(.command("no such thing"))
                    #expect(unknown.isSuccess == false)
                }
            }
        }
    }
}
