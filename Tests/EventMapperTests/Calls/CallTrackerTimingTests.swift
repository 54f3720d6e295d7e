import AMIProtocol
import EventMapper
import Testing

/// What time alone does to calls: silent calls close, missing OriginateResponses are reported.
@Suite("Call tracker over time")
struct CallTrackerTimingTests {
    /// The answered call up to (not including) its first hangup: a call whose Hangup was lost.
    static func unfinishedCall() throws -> (items: [(AMIMessage, Double)], last: Double) {
        let timeline = try CaptureTimeline("asterisk-20", "originate-answered")
        var items: [(AMIMessage, Double)] = []
        for case .message(let message, let time) in timeline.items {
            if ["Hangup", "HangupRequest", "SoftHangupRequest"].contains(message.eventName ?? "") { break }
            items.append((message, time))
        }
        return (items, items.last!.1)
    }

    @Test("a call with no event for the idle timeout is closed and reported as closed by timeout")
    func idleTimeout() throws {
        let (items, last) = try Self.unfinishedCall()
        var tracker = CallTracker(configuration: .init(server: "dialer1", idleTimeout: 600))
        for (message, time) in items { _ = tracker.receive(message, at: time) }
        #expect(tracker.liveCallCount == 1)
        // Not yet (the last events the tracker reads are within seconds of the recording's end).
        #expect(tracker.tick(now: last + 590).completed.isEmpty)
        let closed = tracker.tick(now: last + 600).completed
        #expect(closed.count == 1)
        #expect(closed.first?.closedByTimeout == true)
        // The end is the last sign of life, not the moment of the check.
        #expect(closed.first.flatMap(\.endedAt).map { $0 <= last && $0 > last - 10 } == true)
        #expect(tracker.liveCallCount == 0)
    }

    @Test("a click-to-call waits for its OriginateResponse after the last hangup, for the grace time only")
    func originateGrace() throws {
        // agent-busy: Asterisk sends the OriginateResponse after the channels are gone.
        let timeline = try CaptureTimeline("asterisk-20", "originate-agent-busy")
        var tracker = CallTracker(configuration: .init(server: "dialer1", originateResponseGrace: 5))
        var completed: [CallRecord] = []
        var lastHangup = 0.0
        for item in timeline.items {
            switch item {
            case .originate(let actionID, let callID, let channel, let time):
                tracker.originateSent(actionID: actionID, callID: callID, channel: channel, at: time)
            case .message(let message, let time):
                if message.eventName == "OriginateResponse" {
                    // Before the response: every channel is gone, yet the call is not complete.
                    #expect(completed.isEmpty)
                    #expect(tracker.liveCallCount == 1)
                }
                if message.eventName == "Hangup" { lastHangup = time }
                completed += tracker.receive(message, at: time).completed
            }
        }
        #expect(completed.count == 1)
        #expect(completed.first?.outcome == .agentBusy)
        #expect(completed.first?.originateReason == 5)

        // The same call without its OriginateResponse completes when the grace time is over.
        var withoutResponse = CallTracker(configuration: .init(server: "dialer1", originateResponseGrace: 5))
        for item in timeline.items {
            switch item {
            case .originate(let actionID, let callID, let channel, let time):
                withoutResponse.originateSent(actionID: actionID, callID: callID, channel: channel, at: time)
            case .message(let message, let time) where message.eventName != "OriginateResponse":
                #expect(withoutResponse.receive(message, at: time).completed.isEmpty)
            default:
                break
            }
        }
        #expect(withoutResponse.tick(now: lastHangup + 4.9).completed.isEmpty)
        let late = withoutResponse.tick(now: lastHangup + 5).completed
        #expect(late.count == 1)
        #expect(late.first?.outcome != nil)
    }

    @Test("a Timestamp hours behind this host's clock (or a replayed recording) does not close live calls at the next tick")
    func skewedAsteriskClock() throws {
        // The SIP recording carries Timestamp: headers; it arrives here ten hours after they say.
        let timeline = try CaptureTimeline("asterisk-20", "sip-originate-answered")
        let skew = 10.0 * 3600
        var tracker = CallTracker(configuration: .init(server: "dialer1", idleTimeout: 4 * 3600))
        var updates: [CallUpdate] = []
        var sawTimestamp = false
        for item in timeline.items {
            guard case .message(let message, let time) = item else { continue }
            sawTimestamp = sawTimestamp || message["Timestamp"] != nil
            updates += tracker.receive(message, at: time + skew)
            // A tick after every event, as the daemon's once-a-second tick may fall anywhere.
            updates += tracker.tick(now: time + skew)
        }
        #expect(sawTimestamp)
        let completed = updates.completed
        #expect(completed.count == 1)
        #expect(completed.first?.closedByTimeout == false)
        #expect(completed.first?.outcome == .answered)
    }

    @Test("an Originate that is never answered by an OriginateResponse is reported as timed out")
    func originateTimeout() {
        var tracker = CallTracker(configuration: .init(server: "dialer1", originateResponseTimeout: 180))
        tracker.originateSent(actionID: "a-1", callID: "c-1", channel: "SIP/1001", at: 1000)
        #expect(tracker.tick(now: 1179).isEmpty)
        #expect(tracker.tick(now: 1180) == [.originateTimedOut(server: tracker.configuration.server, callID: "c-1", actionID: "a-1")])
        // Reported once.
        #expect(tracker.tick(now: 2000).isEmpty)
    }

    @Test("dialplan UserEvents pass through with the call they belong to")
    func userEvent() throws {
        let timeline = try CaptureTimeline("asterisk-20", "command-and-misc")
        let userEvents = timeline.run().compactMap { update -> (String, [String: String])? in
            if case .userEvent(_, let name, _, _, let fields, _) = update { return (name, fields) }
            return nil
        }
        let crm = try #require(userEvents.first { $0.0 == "CRMEvent" })
        #expect(crm.1["event"] == "lead_note")
        #expect(crm.1["lead_id"] == "42")
        #expect(crm.1["note"] == "hello")
    }
}

@Suite("Asterisk 11 relations")
struct Asterisk11RelationTests {
    static func channel(_ event: String, _ uniqueid: String, _ name: String) -> AMIMessage {
        AMIMessage([("Event", event), ("Privilege", "call,all"), ("Channel", name), ("ChannelState", "0"), ("Uniqueid", uniqueid)])
    }

    @Test("Masquerade joins two channels' calls by name; the call ends with its last channel")
    func masquerade() {
        var tracker = CallTracker(configuration: .init(server: "pbx11"))
        _ = tracker.receive(Self.channel("Newchannel", "100.1", "SIP/1001-00000001"), at: 1)
        _ = tracker.receive(Self.channel("Newchannel", "100.2", "SIP/carrier-00000002"), at: 2)
        #expect(tracker.liveCallCount == 2)
        _ = tracker.receive(AMIMessage([("Event", "Masquerade"), ("Clone", "SIP/carrier-00000002"), ("CloneState", "Up"), ("Original", "SIP/1001-00000001"), ("OriginalState", "Up")]), at: 3)
        #expect(tracker.liveCallCount == 1)
        #expect(tracker.receive(AMIMessage([("Event", "Hangup"), ("Channel", "SIP/1001-00000001"), ("Uniqueid", "100.1"), ("Cause", "16")]), at: 4).completed.isEmpty)
        let done = tracker.receive(AMIMessage([("Event", "Hangup"), ("Channel", "SIP/carrier-00000002"), ("Uniqueid", "100.2"), ("Cause", "16")]), at: 5).completed
        #expect(done.count == 1)
        #expect(Set(done.first?.uniqueids ?? []) == ["100.1", "100.2"])
        #expect(done.first?.linkedid == "100.1")
    }
}

@Suite("Typed channel events")
struct ChannelEventTests {
    @Test("Asterisk 11 and 20 spellings map onto the same cases")
    func dialects() {
        let dial11 = AMIMessage([("Event", "Dial"), ("SubEvent", "Begin"), ("Channel", "SIP/1001-0000004a"), ("UniqueID", "1.1"), ("DestUniqueID", "1.2"), ("Dialstring", "carrier/18005551234")])
        let dial20 = AMIMessage([("Event", "DialBegin"), ("Channel", "SIP/1001-0000004a"), ("Uniqueid", "1.1"), ("DestUniqueid", "1.2"), ("DialString", "carrier/18005551234")])
        #expect(ChannelEvent(dial11) == ChannelEvent(dial20))
        #expect(ChannelEvent(dial20) == .dialBegin(caller: "1.1", destination: "1.2", dialString: "carrier/18005551234"))
        let bridge11 = AMIMessage([("Event", "Bridge"), ("Bridgestate", "Link"), ("Uniqueid1", "1.1"), ("Uniqueid2", "1.2")])
        #expect(ChannelEvent(bridge11) == .linked("1.1", "1.2"))
        let cdr = AMIMessage([("Event", "Cdr"), ("UniqueID", "1.1"), ("Disposition", "ANSWERED"), ("BillableSeconds", "12")])
        #expect(ChannelEvent(cdr) == .cdr(uniqueid: "1.1", disposition: "ANSWERED", billableSeconds: 12))
        let item = AMIMessage([("Event", "CoreShowChannel"), ("Channel", "SIP/1001-0000004a"), ("Uniqueid", "1.1"), ("Linkedid", "1.1"), ("Duration", "01:02:03")])
        guard case .coreShowChannel(let snapshot, let seconds) = ChannelEvent(item) else { Issue.record("not a CoreShowChannel"); return }
        #expect(snapshot.linkedid == "1.1")
        #expect(seconds == 3723)
        // Asterisk 11's empty and <null> values mean unknown, like 20's <unknown>.
        let empty = AMIMessage([("Event", "Newchannel"), ("Channel", "SIP/x"), ("Uniqueid", "1.3"), ("CallerIDNum", ""), ("CallerIDName", "<null>")])
        guard case .newChannel(let channel) = ChannelEvent(empty) else { Issue.record("not a Newchannel"); return }
        #expect(channel.callerIDNum == nil && channel.callerIDName == nil)
        #expect(ChannelEvent(AMIMessage([("Event", "DeviceStateChange"), ("Device", "SIP/1001")])) == .other("DeviceStateChange"))
    }
}
