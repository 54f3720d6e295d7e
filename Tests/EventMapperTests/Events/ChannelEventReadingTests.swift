import AMIProtocol
import AMITestSupport
@testable import EventMapper
import struct NIOCore.ByteBuffer
import Testing

/// The one-pass reader of tracker events gives exactly what reading each header by name gave
/// (the reader it replaced, kept here as the reference), for every message of every recording.
@Suite("Channel events read in one pass")
struct ChannelEventReadingTests {
    @Test("every recorded message reads as it did header by header", arguments: ["asterisk-20", "asterisk-11-synthetic", "asterisk-13-synthetic"])
    func sameAsHeaderByHeader(folder: String) async throws {
        var compared = 0
        var differing: [String] = []
        for name in try AMICapture.names(in: folder) {
            // Long loops give the shared task pool back between recordings: network tests wait on it.
            await Task.yield()
            for message in try Self.messages(folder, name) where ChannelEvent(message) != Self.reference(message) {
                differing.append("\(name): \(message.wireText)")
            }
            compared += try Self.messages(folder, name).count
        }
        #expect(differing.isEmpty, "\(differing.prefix(3))")
        #expect(compared > 100)
    }

    @Test("Asterisk 11 spellings, missing fields and unknown values read as before", arguments: [
        [("Event", "Dial"), ("SubEvent", "Begin"), ("UniqueID", "1.1"), ("DestUniqueID", "1.2"), ("Dialstring", "SIP/carrier/18005551234")],
        [("Event", "Dial"), ("SubEvent", "End"), ("UniqueID", "1.1"), ("DialStatus", "BUSY")],
        [("Event", "Dial"), ("SubEvent", "Middle"), ("UniqueID", "1.1")],
        [("Event", "Bridge"), ("Bridgestate", "Link"), ("Uniqueid1", "1.1"), ("Uniqueid2", "1.2")],
        [("Event", "Bridge"), ("Bridgestate", "Unlink"), ("Uniqueid1", "1.1"), ("Uniqueid2", "1.2")],
        [("Event", "LocalBridge"), ("LocalOneUniqueid", "1.1"), ("LocalTwoUniqueid", "1.2")],
        [("Event", "Masquerade"), ("Clone", "SIP/1-1"), ("Original", "SIP/2-2")],
        [("Event", "Transfer"), ("Uniqueid", "1.1"), ("TargetUniqueid", "1.3")],
        [("Event", "Newchannel"), ("uniqueid", "1.1"), ("CHANNEL", "SIP/1-1"), ("CallerIDNum", "<unknown>"), ("CallerIDName", "")],
        [("Event", "Newchannel"), ("Uniqueid", "1.1")],
        [("Event", "Newstate"), ("Channel", "SIP/1-1"), ("Uniqueid", "1.1"), ("Uniqueid", "1.9"), ("ChannelState", "x")],
        [("Event", "Hangup"), ("Uniqueid", "1.1"), ("Cause", "17"), ("Cause-txt", "User busy")],
        [("Event", "OriginateResponse"), ("Response", "Failure"), ("Uniqueid", "<null>"), ("Reason", "5"), ("Channel", "SIP/1001")],
        [("Event", "VarSet"), ("Uniqueid", "1.1"), ("Variable", "CRM_CALL_ID")],
        [("Event", "UserEvent"), ("UserEvent", "CRMEvent"), ("Uniqueid", "1.1"), ("", "free text")],
        [("Event", "Cdr"), ("UniqueID", "1.1"), ("BillableSeconds", "12")],
        [("Event", "CoreShowChannel"), ("Uniqueid", "1.1"), ("Channel", "SIP/1-1"), ("Duration", "00:01:05")],
        [("Event", "newchannel"), ("Uniqueid", "1.1"), ("Channel", "SIP/1-1")],
        [("Event", "Newexten"), ("Uniqueid", "1.1")],
        [("Response", "Success"), ("Message", "no event")],
    ])
    func handMade(fields: [(String, String)]) {
        let message = AMIMessage(fields.map { (name: $0.0, value: $0.1) })
        #expect(ChannelEvent(message) == Self.reference(message))
    }

    @Test("receive, with its shortcuts, updates calls exactly as apply(ChannelEvent(message)) does", arguments: ["asterisk-20", "asterisk-11-synthetic", "asterisk-13-synthetic"])
    func receiveIsApply(folder: String) async throws {
        var differing: [String] = []
        for name in try AMICapture.names(in: folder) {
            await Task.yield()
            let timeline = try CaptureTimeline(folder, name)
            var fast = CallTracker(configuration: .init(server: "dialer1"))
            var reference = CallTracker(configuration: .init(server: "dialer1"))
            var updates = 0
            for item in timeline.items {
                switch item {
                case .originate(let actionID, let callID, let channel, let time):
                    fast.originateSent(actionID: actionID, callID: callID, channel: channel, at: time)
                    reference.originateSent(actionID: actionID, callID: callID, channel: channel, at: time)
                case .message(let message, let time):
                    let received = fast.receive(message, at: time)
                    // A channel whose Linkedid changed moves first (read here header by header).
                    let eventTime = message["Timestamp"].flatMap(Double.init) ?? time
                    var applied: [CallUpdate] = []
                    // The events that carry a channel's Linkedid the tracker reads (not Newchannel, which
                    // makes the channel; not VarSet, Cdr or CoreShowChannel, which it reads without it).
                    let carriers: Set<String> = ["Newstate", "NewCallerid", "NewConnectedLine", "DialBegin", "DialEnd", "BridgeEnter",
                                                 "BridgeLeave", "HangupRequest", "SoftHangupRequest", "Hangup", "UserEvent"]
                    if carriers.contains(message.eventName ?? "") {
                        if message.eventName != "Newchannel", let linkedid = message["Linkedid"], let uniqueid = message["Uniqueid"] {
                            reference.follow(uniqueid, to: linkedid, at: eventTime, receivedAt: time, into: &applied)
                        }
                        if let linkedid = message["DestLinkedid"], let uniqueid = message["DestUniqueid"] {
                            reference.follow(uniqueid, to: linkedid, at: eventTime, receivedAt: time, into: &applied)
                        }
                    }
                    applied += reference.apply(ChannelEvent(message), at: eventTime, receivedAt: time)
                    if received != applied { differing.append("\(name): \(message.eventName ?? "-") at \(time)") }
                    updates += received.count
                }
            }
            #expect(fast.liveCallCount == reference.liveCallCount)
            let sameTimeouts = fast.tick(now: timeline.lastTime + 1e6) == reference.tick(now: timeline.lastTime + 1e6)
            #expect(sameTimeouts, "\(folder)/\(name)")
            if folder == "asterisk-20", name == "burst-20-calls" { #expect(updates >= 60) }
        }
        #expect(differing.isEmpty, "\(differing.prefix(3))")
    }

    static func messages(_ folder: String, _ name: String) throws -> [AMIMessage] {
        var decoder = AMIFrameDecoder()
        var buffer = ByteBuffer(bytes: try AMICapture.load(folder, name).receivedBytes)
        var messages: [AMIMessage] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            if case .message(let message) = frame { messages.append(message) }
        }
        return messages
    }

    /// The reader before the one-pass one: one case-insensitive lookup per header.
    static func reference(_ message: AMIMessage) -> ChannelEvent {
        guard let name = message.eventName else { return .other("") }
        switch name {
        case "Newchannel":
            return snapshot(message).map(ChannelEvent.newChannel) ?? .other(name)
        case "Newstate":
            return snapshot(message).map(ChannelEvent.newState) ?? .other(name)
        case "NewCallerid", "NewConnectedLine":
            return snapshot(message).map(ChannelEvent.callerIDChanged) ?? .other(name)
        case "DialBegin":
            guard let destination = message["DestUniqueid"] else { return .other(name) }
            return .dialBegin(caller: message["Uniqueid"], destination: destination, dialString: message["DialString"])
        case "DialEnd":
            guard let status = message["DialStatus"] else { return .other(name) }
            return .dialEnd(caller: message["Uniqueid"], destination: message["DestUniqueid"], status: status, forward: known(message["Forward"]))
        case "Dial":
            // Asterisk 1.8-11.
            let subEvent = message["SubEvent"]?.lowercased()
            if subEvent == "begin", let caller = message["UniqueID"], let destination = message["DestUniqueID"] {
                return .dialBegin(caller: caller, destination: destination, dialString: message["Dialstring"])
            } else if subEvent == "end", let status = message["DialStatus"] {
                return .dialEnd(caller: message["UniqueID"], destination: nil, status: status)
            } else {
                return .other(name)
            }
        case "Bridge":
            // Asterisk 1.8-11: pairwise link.
            if message["Bridgestate"]?.lowercased() == "link", let first = message["Uniqueid1"], let second = message["Uniqueid2"] {
                return .linked(first, second)
            } else {
                return .other(name)
            }
        case "LocalBridge":
            if let first = message["Uniqueid1"] ?? message["LocalOneUniqueid"], let second = message["Uniqueid2"] ?? message["LocalTwoUniqueid"] {
                return .linked(first, second)
            } else {
                return .other(name)
            }
        case "Transfer":
            if let first = message["Uniqueid"], let second = message["TargetUniqueid"] {
                return .linked(first, second)
            } else {
                return .other(name)
            }
        case "Masquerade":
            guard let clone = message["Clone"], let original = message["Original"] else { return .other(name) }
            return .masquerade(clone: clone, original: original)
        case "BridgeEnter", "BridgeLeave":
            guard let uniqueid = message["Uniqueid"], let bridge = message["BridgeUniqueid"] else { return .other(name) }
            return name == "BridgeEnter" ? .bridgeEnter(uniqueid: uniqueid, bridge: bridge) : .bridgeLeave(uniqueid: uniqueid, bridge: bridge)
        case "HangupRequest", "SoftHangupRequest":
            guard let uniqueid = message["Uniqueid"] else { return .other(name) }
            return .hangupRequest(uniqueid: uniqueid)
        case "Hangup":
            guard let uniqueid = message["Uniqueid"] else { return .other(name) }
            return .hangup(
                uniqueid: uniqueid, channel: message["Channel"] ?? "",
                cause: message["Cause"].flatMap { Int($0) } ?? 0, causeText: message["Cause-txt"] ?? ""
            )
        case "OriginateResponse":
            let uniqueid = message["Uniqueid"].flatMap { known($0) }
            return .originateResponse(
                actionID: message.actionID,
                success: message["Response"]?.lowercased() == "success",
                reason: message["Reason"].flatMap { Int($0) } ?? 0,
                uniqueid: uniqueid, channel: message["Channel"] ?? ""
            )
        case "VarSet":
            guard let uniqueid = message["Uniqueid"], let variable = message["Variable"] else { return .other(name) }
            return .variableSet(uniqueid: uniqueid, name: variable, value: message["Value"] ?? "")
        case "Rename":
            guard let uniqueid = message["Uniqueid"], let newName = message["Newname"] else { return .other(name) }
            return .rename(uniqueid: uniqueid, newName: newName)
        case "UserEvent":
            guard let userEvent = message["UserEvent"] else { return .other(name) }
            return .userEvent(name: userEvent, uniqueid: message["Uniqueid"], linkedid: message["Linkedid"], fields: message.fields)
        case "Cdr":
            return .cdr(uniqueid: message["UniqueID"], disposition: message["Disposition"], billableSeconds: message["BillableSeconds"].flatMap { Int($0) })
        case "CoreShowChannel":
            return snapshot(message).map { .coreShowChannel($0, seconds: message["Duration"].flatMap(CallTracker.parseDuration)) } ?? .other(name)
        case "Pickup":
            guard let picker = message["Uniqueid"], let target = message["TargetUniqueid"] else { return .other(name) }
            return .pickup(picker: picker, target: target, targetLinkedid: message["TargetLinkedid"])
        case "AttendedTransfer", "BlindTransfer":
            guard message["Result"]?.lowercased() == "success" else { return .other(name) }
            let parties = ["TransfererUniqueid", "OrigTransfererUniqueid", "TransfereeUniqueid", "SecondTransfererUniqueid"].compactMap { message[$0] }
            return .transferred(parties: parties, destination: known(message[name == "BlindTransfer" ? "Extension" : "TransferTargetExten"]))
        default:
            return .other(name)
        }
    }

    static func snapshot(_ message: AMIMessage) -> ChannelSnapshot? {
        guard let uniqueid = message["Uniqueid"], let channel = message["Channel"] else { return nil }
        return ChannelSnapshot(
            uniqueid: uniqueid,
            linkedid: message["Linkedid"],
            channel: channel,
            state: message["ChannelState"].flatMap { Int($0) },
            callerIDNum: known(message["CallerIDNum"]),
            callerIDName: known(message["CallerIDName"]),
            connectedLineNum: known(message["ConnectedLineNum"]),
            connectedLineName: known(message["ConnectedLineName"])
        )
    }

    static func known(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value != "<unknown>", value != "<null>" else { return nil }
        return value
    }
}
