import AMIProtocol
import AMITestSupport
@testable import EventMapper
import Testing

/// Calls that change shape: pickups, transfers, channels that join another call's Linkedid.
/// Every recorded session completes every call it starts exactly once, and none stays open.
@Suite("Call shapes: pickups, transfers, Linkedid changes")
struct CallShapeTests {
    /// Every capture of the Asterisk versions with Linkedid, the project's and the shared ones.
    static let captures: [(folder: String, name: String)] = ["asterisk-20", "asterisk-13-synthetic"].flatMap { folder in
        ((try? AMICapture.names(in: folder)) ?? []).map { (folder, $0) }
    }

    struct Replayed {
        var completed: [CallRecord] = []
        var live = 0
        /// The Linkedid of every channel whose Newchannel the session shows.
        var linkedidsCreated: Set<String> = []
    }

    static func replay(_ folder: String, _ name: String) throws -> Replayed {
        let timeline = try CaptureTimeline(folder, name)
        var tracker = CallTracker(configuration: .init(server: "dialer1"))
        var replayed = Replayed()
        for item in timeline.items {
            switch item {
            case .message(let message, let time):
                if message.eventName == "Newchannel", let linkedid = message["Linkedid"] { replayed.linkedidsCreated.insert(linkedid) }
                for case .completed(let record) in tracker.receive(message, at: time) { replayed.completed.append(record) }
            case .originate(let actionID, let callID, let channel, let time):
                tracker.originateSent(actionID: actionID, callID: callID, channel: channel, at: time)
            }
        }
        // Time passes for OriginateResponse graces, not for the idle timeout (4 hours).
        for case .completed(let record) in tracker.tick(now: timeline.lastTime + 60) { replayed.completed.append(record) }
        replayed.live = tracker.liveCallCount
        return replayed
    }

    @Test("every capture: no call left open, every Linkedid created completes exactly once",
          arguments: captures.filter { !["asterisk-restart", "coreshowchannels-midcall"].contains($0.name) }.map { "\($0.folder)/\($0.name)" })
    func everyCapture(_ path: String) throws {
        let parts = path.split(separator: "/").map(String.init)
        let replayed = try Self.replay(parts[0], parts[1])
        #expect(replayed.live == 0, "calls left open")
        let keys = replayed.completed.map(\.linkedid)
        #expect(Set(keys).count == keys.count, "a Linkedid completed twice: \(keys.sorted())")
        #expect(replayed.linkedidsCreated.isSubset(of: Set(keys)), "never completed: \(replayed.linkedidsCreated.subtracting(keys).sorted())")
    }

    @Test("a pickup by phone: the ringing call is answered by the picker; the picker's own call continues in it")
    func pickupByPhone() throws {
        let replayed = try Self.replay("asterisk-20", "pickup-by-phone")
        let ringing = try #require(replayed.completed.first { $0.linkedid == "1795968325.56" })
        let picker = try #require(replayed.completed.first { $0.linkedid == "1795968327.59" })
        #expect(replayed.completed.count == 2)
        #expect(ringing.outcome == .answered)
        #expect(ringing.customerLeg?.channel == "SIP/1001-0000001f", "the picker takes the ringing channel's place")
        #expect(ringing.transfer != nil && ringing.transfer?.continuedIn == nil)
        #expect(picker.transfer?.continuedIn == "1795968325.56")
        // The picker's call ends when its channel moves, before the ringing call ends.
        #expect(try #require(picker.endedAt) < (try #require(ringing.endedAt)))
    }

    @Test("a directed pickup from a Local channel: the same, and no channel counted in both calls")
    func pickupDirected() throws {
        let replayed = try Self.replay("asterisk-20", "pickup-directed")
        #expect(replayed.completed.count == 2)
        let ringing = try #require(replayed.completed.first { $0.linkedid == "1795968203.51" })
        let picker = try #require(replayed.completed.first { $0.linkedid == "1795968205.54" })
        #expect(ringing.outcome == .answered)
        #expect(picker.transfer?.continuedIn == ringing.linkedid)
        let moved = "Local/1001@agents-0000000c;1"
        #expect(ringing.legs.filter { $0.channel == moved }.count == 1)
        #expect(picker.legs.filter { $0.channel == moved }.map(\.movedTo) == [ringing.linkedid])
    }

    @Test("a blonde transfer: one call, transferred to the consulted number, talk time of the customer")
    func blondeTransfer() throws {
        let replayed = try Self.replay("asterisk-20", "transfer-attended-blonde")
        let call = try #require(replayed.completed.first)
        #expect(replayed.completed.count == 1)
        #expect(call.transfer?.target == "1005")
        #expect(call.outcome == .answered)
        #expect(call.agentLeg?.channel == "SIP/1001-0000001c")
    }

    @Test("a channel event naming a Linkedid the bridge does not follow yet starts that call; it completes once")
    func unknownLinkedid() throws {
        var tracker = CallTracker(configuration: .init(server: "d"))
        func event(_ text: String) -> AMIMessage {
            AMIMessage(text.split(separator: "\n").map { line in
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                return (name: parts[0], value: parts.count > 1 ? parts[1] : "")
            })
        }
        _ = tracker.receive(event("Event: Newchannel\nChannel: SIP/1001-1\nUniqueid: 10.1\nLinkedid: 10.1\nChannelState: 4"), at: 10)
        _ = tracker.receive(event("Event: Newstate\nChannel: SIP/1001-1\nUniqueid: 10.1\nLinkedid: 10.1\nChannelState: 6"), at: 11)
        // Joins a call (Linkedid 5.0) that started before the bridge was watching.
        let moved = tracker.receive(event("Event: BridgeEnter\nChannel: SIP/1001-1\nUniqueid: 10.1\nLinkedid: 5.0\nBridgeUniqueid: b"), at: 12)
        let first = moved.compactMap { if case .completed(let record) = $0 { record } else { nil } }
        #expect(first.map(\.linkedid) == ["10.1"])
        #expect(first.first?.transfer?.continuedIn == "5.0")
        // An event written before the change still says 10.1: the channel does not go back.
        _ = tracker.receive(event("Event: BridgeLeave\nChannel: SIP/1001-1\nUniqueid: 10.1\nLinkedid: 10.1\nBridgeUniqueid: b"), at: 13)
        let end = tracker.receive(event("Event: Hangup\nChannel: SIP/1001-1\nUniqueid: 10.1\nLinkedid: 5.0\nCause: 16"), at: 14)
        let second = end.compactMap { if case .completed(let record) = $0 { record } else { nil } }
        #expect(second.map(\.linkedid) == ["5.0"])
        #expect(tracker.liveCallCount == 0)
    }

    @Test("RecentKeys forgets the oldest key beyond its capacity")
    func recentKeys() {
        var keys = RecentKeys(capacity: 3)
        for key in ["a", "b", "c", "a", "d"] { keys.insert(key) }
        #expect(!keys.contains("a") && keys.contains("b") && keys.contains("c") && keys.contains("d"))
    }
}
