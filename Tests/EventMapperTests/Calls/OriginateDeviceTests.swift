import AMIProtocol
@testable import EventMapper
import Testing

/// An Originate claims the call whose first channel is on exactly the device it dialed.
@Suite("Originate device matching")
struct OriginateDeviceTests {
    @Test("a channel's device: up to its sequence suffix, Local halves and options dropped", arguments: [
        ("SIP/1001-0000000a", "SIP/1001"),
        ("PJSIP/1001-000000ff", "PJSIP/1001"),
        ("SIP/carrier-answer-0000000d", "SIP/carrier-answer"),
        ("Local/1001@agents-00000001;1", "Local/1001@agents"),
        ("Local/1001@agents-0000001f;2", "Local/1001@agents"),
        ("SIP/1001", "SIP/1001"),
        ("SIP/carrier-answer", "SIP/carrier-answer"),
        ("Local/1001@agents", "Local/1001@agents"),
        ("Local/1001@agents/n", "Local/1001@agents"),
        ("", ""),
    ])
    func device(channel: String, device: String) {
        #expect(ChannelDevice.of(channel) == device[...])
    }

    /// Newchannel then Newstate (ringing) of one channel: the call starts.
    static func ringing(_ channel: String, uniqueid: String) -> [AMIMessage] {
        let fields = [("Channel", channel), ("Uniqueid", uniqueid), ("Linkedid", uniqueid)]
        return [
            AMIMessage([("Event", "Newchannel")] + fields + [("ChannelState", "0")]),
            AMIMessage([("Event", "Newstate")] + fields + [("ChannelState", "5")]),
        ]
    }

    static func startedCallIDs(originateTo device: String, channel: String) -> [String?] {
        var tracker = CallTracker(configuration: .init(server: "dialer1"))
        tracker.originateSent(actionID: "a-1", callID: "c-1", channel: device, at: 1000)
        return ringing(channel, uniqueid: "1000.1").flatMap { tracker.receive($0, at: 1001) }.compactMap { update in
            if case .started(let record) = update { return record.callID }
            return nil
        }
    }

    @Test("SIP/100 does not claim SIP/1001-...; SIP/1001 does")
    func exactDevice() {
        #expect(Self.startedCallIDs(originateTo: "SIP/100", channel: "SIP/1001-00000001") == [nil])
        #expect(Self.startedCallIDs(originateTo: "SIP/1001", channel: "SIP/1001-00000001") == ["c-1"])
        #expect(Self.startedCallIDs(originateTo: "Local/100@agents", channel: "Local/1001@agents-00000001;1") == [nil])
        #expect(Self.startedCallIDs(originateTo: "Local/1001@agents", channel: "Local/1001@agents-00000001;1") == ["c-1"])
    }

    @Test("a failed Originate's response names its device: it completes the waiting call on that device only")
    func responseMatchesDevice() {
        for responseChannel in ["SIP/100", "SIP/1001"] {
            var tracker = CallTracker(configuration: .init(server: "dialer1"))
            // Sent with another ActionID than the response carries: only the device can match them.
            tracker.originateSent(actionID: "a-1", callID: "c-1", channel: "SIP/1001", at: 1000)
            var updates = Self.ringing("SIP/1001-00000001", uniqueid: "1000.1").flatMap { tracker.receive($0, at: 1001) }
            updates += tracker.receive(AMIMessage([("Event", "Hangup"), ("Channel", "SIP/1001-00000001"), ("Uniqueid", "1000.1"), ("Cause", "16")]), at: 1002)
            #expect(updates.completed.isEmpty, "waiting for the OriginateResponse")
            updates += tracker.receive(AMIMessage([
                ("Event", "OriginateResponse"), ("ActionID", "other"), ("Response", "Failure"),
                ("Channel", responseChannel), ("Reason", "5"), ("Uniqueid", "<null>"),
            ]), at: 1003)
            if responseChannel == "SIP/1001" {
                // The response's busy (Reason 5) decides the outcome.
                #expect(updates.completed.map(\.outcome) == [.agentBusy])
                #expect(updates.completed.map(\.originateReason) == [5])
            } else {
                #expect(updates.completed.isEmpty, "SIP/100 is another device")
                // The grace time runs out: completed without a response, by its own hangup.
                let completed = tracker.tick(now: 1002 + 5).completed
                #expect(completed.map(\.outcome) == [.agentNoAnswer])
                #expect(completed.map(\.originateReason) == [nil])
            }
        }
    }
}
