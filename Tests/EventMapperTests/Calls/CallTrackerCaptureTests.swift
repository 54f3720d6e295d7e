import AMIProtocol
import EventMapper
import Testing

/// Every recorded session through the tracker gives exactly the calls it holds.
@Suite("Call tracker on the recorded sessions")
struct CallTrackerCaptureTests {
    struct Expectation: Sendable, CustomTestStringConvertible {
        var capture: String
        var folder = "asterisk-20"
        var outcome: CallOutcome
        var cause: Int? = nil
        var hungUpFirst: CallSide? = nil
        var talk: ClosedRange<Int>? = nil
        var customerChannelPrefix: String? = nil
        var phoneNumber: String? = nil
        var testDescription: String { "\(folder)/\(capture)" }
    }

    static let expectations: [Expectation] = [
        .init(capture: "originate-answered", outcome: .answered, cause: 16, hungUpFirst: .customer, talk: 2...4, customerChannelPrefix: "Local/18005551234@pstn", phoneNumber: "18005551234"),
        .init(capture: "originate-agent-busy", outcome: .agentBusy),
        .init(capture: "originate-agent-noanswer", outcome: .agentNoAnswer),
        .init(capture: "originate-customer-busy", outcome: .customerBusy, cause: 17, phoneNumber: "18006661234"),
        .init(capture: "originate-customer-noanswer", outcome: .customerNoAnswer, phoneNumber: "18007771234"),
        .init(capture: "originate-customer-congestion", outcome: .congestion, cause: 34),
        .init(capture: "agent-hangs-up-first", outcome: .answered, cause: 16, hungUpFirst: .agent),
        .init(capture: "coreshowchannels-midcall", outcome: .answered, cause: 16),
        .init(capture: "originate-vicidial-callercode-timestamps", outcome: .answered, cause: 16, talk: 2...4),
        .init(capture: "sip-originate-answered", outcome: .answered, cause: 16, hungUpFirst: .customer, talk: 2...4, customerChannelPrefix: "SIP/carrier-answer", phoneNumber: "18005551234"),
        .init(capture: "sip-originate-customer-busy", outcome: .customerBusy, cause: 17, customerChannelPrefix: "SIP/carrier-busy"),
        .init(capture: "sip-originate-customer-noanswer", outcome: .customerNoAnswer, cause: 16, customerChannelPrefix: "SIP/carrier-noanswer"),
        .init(capture: "sip-originate-vicidial-callercode", outcome: .answered, cause: 16, customerChannelPrefix: "SIP/carrier-answer"),
        .init(capture: "originate-answered", folder: "asterisk-11-synthetic", outcome: .answered, cause: 16, hungUpFirst: .customer, talk: 11...13, customerChannelPrefix: "SIP/carrier", phoneNumber: "18005551234"),
        .init(capture: "originate-customer-busy", folder: "asterisk-11-synthetic", outcome: .customerBusy, cause: 17, customerChannelPrefix: "SIP/carrier"),
    ]

    @Test("one call with the recorded outcome", arguments: expectations)
    func singleCall(expected: Expectation) throws {
        let updates = try CaptureTimeline(expected.folder, expected.capture).run()
        let completed = updates.completed
        try #require(completed.count == 1, "calls: \(completed.map { "\($0.linkedid) \(String(describing: $0.outcome))" })")
        let call = completed[0]
        #expect(call.outcome == expected.outcome)
        #expect(updates.started.count == 1)
        #expect(updates.answered.count == (expected.outcome == .answered ? 1 : 0))
        if let cause = expected.cause { #expect(call.hangupCause == cause) }
        if let side = expected.hungUpFirst { #expect(call.hungUpFirst == side) }
        if let talk = expected.talk { #expect(call.talkSeconds.map(talk.contains) == true, "talk \(String(describing: call.talkSeconds))") }
        if let prefix = expected.customerChannelPrefix { #expect(call.customerLeg?.channel.hasPrefix(prefix) == true, "customer \(String(describing: call.customerLeg?.channel))") }
        if let number = expected.phoneNumber { #expect(call.phoneNumber == number) }
        // Every channel of the call, and nothing left behind.
        #expect(call.endedAt != nil)
        #expect(!call.closedByTimeout)
        #expect(call.callID != nil, "a click-to-call carries its id")
        #expect(call.legs.allSatisfy { $0.hungUpAt != nil })
    }

    @Test("burst: 20 interleaved calls, 20 completes, each with its own numbers")
    func burst() throws {
        let completed = try CaptureTimeline("asterisk-20", "burst-20-calls").run().completed
        #expect(completed.count == 20)
        #expect(completed.allSatisfy { $0.outcome == .answered })
        #expect(Set(completed.map(\.linkedid)).count == 20)
        #expect(Set(completed.compactMap(\.phoneNumber)) == Set((0..<20).map { "180055510\(String(format: "%02d", $0))" }))
        #expect(Set(completed.compactMap(\.callID)).count == 20)
        // Each call's legs are its own: four channels, none shared.
        #expect(completed.allSatisfy { $0.legs.count == 4 })
        #expect(Set(completed.flatMap(\.uniqueids)).count == 80)
    }

    @Test("the ViciDial caller code decodes to the lead", arguments: [
        ("originate-vicidial-callercode-timestamps", 1234),
        ("sip-originate-vicidial-callercode", 4242),
    ])
    func callerCode(capture: String, lead: Int) throws {
        let call = try #require(try CaptureTimeline("asterisk-20", capture).run().completed.first)
        #expect(call.callerCode?.leadID == lead)
        #expect(call.callerCode?.type == "M")
    }

    @Test("an Originate to a missing technology fails without channels; the next one is a call")
    func badChannel() throws {
        let completed = try CaptureTimeline("asterisk-20", "originate-bad-channel").run().completed
        #expect(completed.count == 2)
        #expect(completed.first?.outcome == .originateError)
        #expect(completed.first?.legs.isEmpty == true)
        #expect(completed.last?.outcome == .answered)
    }

    @Test("without the Originate registered, calls still complete with the outcome their events show")
    func unregisteredOriginates() throws {
        let completed = try CaptureTimeline("asterisk-20", "originate-customer-busy").run(registerOriginates: false).completed
        #expect(completed.count == 1)
        #expect(completed.first?.outcome == .customerBusy)
        // The CRM_CALL_ID channel variable names the call even without the registration.
        #expect(completed.first?.callID == "c2c-orig-4")
    }

    @Test("the tracker forgets finished calls")
    func releasesCalls() throws {
        let timeline = try CaptureTimeline("asterisk-20", "burst-20-calls")
        var tracker = CallTracker(configuration: .init(server: "dialer1"))
        var peak = 0
        for item in timeline.items {
            if case .message(let message, let time) = item {
                _ = tracker.receive(message, at: time)
                peak = max(peak, tracker.liveCallCount)
            }
        }
        #expect(peak >= 10)
        #expect(tracker.liveCallCount == 0)
    }
}
