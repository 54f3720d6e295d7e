import Foundation
import NIOCore

/// One recorded Asterisk 20 call as a byte template that any number of distinct calls are stamped
/// from: the events of `originate-answered` (agent answers, customer answers, customer hangs up),
/// plus the dialplan `UserEvent: CRMEvent` of `command-and-misc` moved onto the agent channel, so
/// each call makes a bridge send three webhooks: `call_answered`, `user_event`, `call_complete`.
///
/// Every identifier that tells calls apart (the four uniqueids, which also give the Linkedid, the
/// two Local channel suffixes and the bridge id) is rewritten to a fixed width, so a call costs a
/// copy of the template plus a few dozen digits written in place: a generator that parses or
/// formats text per event would measure itself instead of the client reading it.
///
/// The call's messages are cut into `segmentCount` segments; ``CallStormPlan`` interleaves the
/// segments of consecutive calls the way `burst-20-calls` interleaves concurrent calls.
public struct CallStormSource: Sendable {
    /// What a patch site receives from a call's ``CallStamp``.
    enum Field: Int, Sendable, CaseIterable {
        case uniqueid0, uniqueid1, uniqueid2, uniqueid3, agentChannel, customerChannel, bridge

        var width: Int {
            switch self {
            case .uniqueid0, .uniqueid1, .uniqueid2, .uniqueid3: CallStormSource.sequenceDigits
            case .agentChannel, .customerChannel: 8
            case .bridge: 12
            }
        }
    }

    struct Patch: Sendable {
        var offset: Int
        var field: Field
    }

    struct Segment: Sendable {
        var bytes: [UInt8]
        var patches: [Patch]
        var events: Int
    }

    /// Uniqueids are `<epoch>.<9 digits>`: the sequence starts at 100,000,000 so it always has
    /// nine digits (Asterisk's counter has no leading zeros), four per call.
    static let sequenceDigits = 9
    static let firstSequence = 100_000_000
    /// Calls that fit in nine sequence digits at four uniqueids per call.
    public static let maximumCalls = (1_000_000_000 - firstSequence) / 4

    let segments: [Segment]
    /// The epoch part of every uniqueid (10 digits).
    public let epoch: Int
    /// AMI events per call (the template has no responses).
    public let eventsPerCall: Int
    public let bytesPerCall: Int
    /// The segment that holds the call's last `Hangup`: when it is written the call is over.
    public let finalHangupSegment: Int
    public var segmentCount: Int { segments.count }

    /// - Parameters:
    ///   - epoch: the seconds part of the uniqueids (10 digits); default now.
    ///   - segmentCount: how many pieces a call is cut into for interleaving.
    public init(epoch: Int = Int(Date().timeIntervalSince1970), segmentCount: Int = 10) throws {
        precondition((1_000_000_000...9_999_999_999).contains(epoch), "the epoch must have 10 digits")
        let call = try AMICapture.load("asterisk-20", "originate-answered")
        let misc = try AMICapture.load("asterisk-20", "command-and-misc")
        var messages = Self.eventMessages(of: call)
        guard let userEvent = Self.eventMessages(of: misc).first(where: { $0.contains("UserEvent: CRMEvent") }) else {
            throw CaptureError("command-and-misc has no UserEvent: CRMEvent")
        }
        guard let agent = messages.first(where: { $0.first == "Event: Newchannel" }),
              let agentChannel = Self.value("Channel", in: agent), let agentUniqueid = Self.value("Uniqueid", in: agent),
              let agentLinkedid = Self.value("Linkedid", in: agent)
        else { throw CaptureError("originate-answered has no Newchannel") }
        // The dialplan's UserEvent, raised on the agent's channel while the call is bridged.
        let moved = userEvent.map { line -> String in
            if line.hasPrefix("Channel: ") { return "Channel: \(agentChannel)" }
            if line.hasPrefix("Uniqueid: ") { return "Uniqueid: \(agentUniqueid)" }
            if line.hasPrefix("Linkedid: ") { return "Linkedid: \(agentLinkedid)" }
            return line
        }
        guard let lastBridgeEnter = messages.lastIndex(where: { $0.first == "Event: BridgeEnter" }) else {
            throw CaptureError("originate-answered has no BridgeEnter")
        }
        messages.insert(moved, at: lastBridgeEnter + 1)

        let identifiers = try Identifiers(messages)
        let finalHangup = messages.lastIndex { $0.first == "Event: Hangup" }!
        let epochText = String(epoch)
        var segments: [Segment] = []
        var finalHangupSegment = 0
        for index in 0..<segmentCount {
            let range = (messages.count * index / segmentCount)..<(messages.count * (index + 1) / segmentCount)
            if range.contains(finalHangup) { finalHangupSegment = index }
            var segment = Segment(bytes: [], patches: [], events: range.count)
            for message in messages[range] {
                identifiers.append(message, epoch: epochText, to: &segment)
            }
            segments.append(segment)
        }
        self.segments = segments
        self.epoch = epoch
        self.eventsPerCall = messages.count
        self.bytesPerCall = segments.reduce(0) { $0 + $1.bytes.count }
        self.finalHangupSegment = finalHangupSegment
    }

    /// Writes segment `segment` of call number `call` (0-based) into `buffer`.
    public func write(segment: Int, ofCall call: Int, into buffer: inout ByteBuffer) {
        let stamp = CallStamp(call: call)
        let template = segments[segment]
        let start = buffer.writerIndex
        buffer.writeBytes(template.bytes)
        let base = start - buffer.readerIndex
        buffer.withUnsafeMutableReadableBytes { bytes in
            for patch in template.patches {
                stamp.copy(patch.field, to: bytes.baseAddress! + base + patch.offset)
            }
        }
    }

    /// Events in segment `segment` of every call.
    public func events(inSegment segment: Int) -> Int { segments[segment].events }

    public func bytes(inSegment segment: Int) -> Int { segments[segment].bytes.count }

    /// The Linkedid of call number `call`, as webhooks carry it.
    public func linkedid(ofCall call: Int) -> String {
        "\(epoch).\(Self.firstSequence + 4 * call)"
    }

    /// The call number of a Linkedid this source made, from its text's UTF-8 bytes; nil for any other.
    public static func call(ofLinkedid linkedid: some Collection<UInt8>) -> Int? {
        guard let dot = linkedid.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        var sequence = 0
        var digits = 0
        for byte in linkedid[linkedid.index(after: dot)...] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            sequence = sequence * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits == sequenceDigits, sequence >= firstSequence, (sequence - firstSequence) % 4 == 0 else { return nil }
        return (sequence - firstSequence) / 4
    }

    /// The recording's events, each as its lines, without the banner, responses and `FullyBooted`.
    static func eventMessages(of capture: AMICapture) -> [[String]] {
        let text = String(decoding: capture.receivedBytes, as: UTF8.self)
        return text.components(separatedBy: "\r\n\r\n")
            .map { $0.components(separatedBy: "\r\n").filter { !$0.isEmpty } }
            .map { lines in lines.first?.hasPrefix("Asterisk Call Manager/") == true ? Array(lines.dropFirst()) : lines }
            .filter { $0.first?.hasPrefix("Event: ") == true && $0.first != "Event: FullyBooted" }
    }

    static func value(_ name: String, in message: [String]) -> String? {
        message.first { $0.hasPrefix("\(name): ") }.map { String($0.dropFirst(name.count + 2)) }
    }
}

extension CallStormSource {
    /// The recorded identifiers of the call and where each one goes in the template.
    struct Identifiers {
        var uniqueids: [String] = []
        /// The 8 hex digits after `-` in `Local/1001@agents-00000000;1`: agent pair, then customer pair.
        var channelSuffixes: [String] = []
        var bridges: [String] = []

        init(_ messages: [[String]]) throws {
            for message in messages where message.first == "Event: Newchannel" {
                if let uniqueid = CallStormSource.value("Uniqueid", in: message), !uniqueids.contains(uniqueid) { uniqueids.append(uniqueid) }
                if let channel = CallStormSource.value("Channel", in: message), let suffix = Self.suffix(in: channel), !channelSuffixes.contains(suffix) {
                    channelSuffixes.append(suffix)
                }
            }
            for message in messages {
                if let bridge = CallStormSource.value("BridgeUniqueid", in: message), !bridges.contains(bridge) { bridges.append(bridge) }
            }
            guard uniqueids.count == 4, channelSuffixes.count == 2, bridges.count == 1 else {
                throw CaptureError("originate-answered: expected 4 uniqueids, 2 Local channels, 1 bridge; found \(uniqueids), \(channelSuffixes), \(bridges)")
            }
        }

        /// `-0000000a;` in a channel name: the 8 hex digits.
        static func suffix(in text: String) -> String? {
            guard let semicolon = text.firstIndex(of: ";"), let dash = text[..<semicolon].lastIndex(of: "-") else { return nil }
            let digits = text[text.index(after: dash)..<semicolon]
            return digits.count == 8 && digits.allSatisfy(\.isHexDigit) ? String(digits) : nil
        }

        /// Appends `message` (CRLF lines, empty line after) with each identifier left as a patch site.
        func append(_ message: [String], epoch: String, to segment: inout Segment) {
            for line in message {
                guard let colon = line.range(of: ": ") else {
                    segment.bytes += Array(line.utf8) + [13, 10]
                    continue
                }
                let value = String(line[colon.upperBound...])
                segment.bytes += Array(line[..<colon.upperBound].utf8)
                if let slot = uniqueids.firstIndex(of: value) {
                    segment.bytes += Array("\(epoch).".utf8)
                    placeholder(Field(rawValue: Field.uniqueid0.rawValue + slot)!, in: &segment)
                } else if value == bridges[0] {
                    segment.bytes += Array(value.utf8.dropLast(Field.bridge.width))
                    placeholder(.bridge, in: &segment)
                } else if let suffix = Self.suffix(in: value), let slot = channelSuffixes.firstIndex(of: suffix),
                          let range = value.range(of: "-\(suffix);") {
                    segment.bytes += Array(value[..<range.lowerBound].utf8) + [UInt8(ascii: "-")]
                    placeholder(slot == 0 ? .agentChannel : .customerChannel, in: &segment)
                    segment.bytes += Array(value[value.index(before: range.upperBound)...].utf8)
                } else {
                    segment.bytes += Array(value.utf8)
                }
                segment.bytes += [13, 10]
            }
            segment.bytes += [13, 10]
        }

        private func placeholder(_ field: Field, in segment: inout Segment) {
            segment.patches.append(Patch(offset: segment.bytes.count, field: field))
            segment.bytes += [UInt8](repeating: UInt8(ascii: "0"), count: field.width)
        }
    }

    /// The digits that make call number `call` distinct, computed once per segment written.
    struct CallStamp {
        /// 4 × 9 uniqueid sequence digits, 8 + 8 channel hex digits, 12 bridge hex digits.
        private var digits: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        static let offsets: [Int] = [0, 9, 18, 27, 36, 44, 52]

        init(call: Int) {
            precondition(call >= 0 && call < CallStormSource.maximumCalls, "call number out of range")
            withUnsafeMutableBytes(of: &digits) { bytes in
                for slot in 0..<4 {
                    Self.decimal(CallStormSource.firstSequence + 4 * call + slot, width: 9, at: bytes.baseAddress! + Self.offsets[slot])
                }
                Self.hex(2 * call, width: 8, at: bytes.baseAddress! + Self.offsets[4])
                Self.hex(2 * call + 1, width: 8, at: bytes.baseAddress! + Self.offsets[5])
                Self.hex(call, width: 12, at: bytes.baseAddress! + Self.offsets[6])
            }
        }

        func copy(_ field: Field, to destination: UnsafeMutableRawPointer) {
            withUnsafeBytes(of: digits) { bytes in
                destination.copyMemory(from: bytes.baseAddress! + Self.offsets[field.rawValue], byteCount: field.width)
            }
        }

        private static func decimal(_ value: Int, width: Int, at pointer: UnsafeMutableRawPointer) {
            var value = value
            for index in stride(from: width - 1, through: 0, by: -1) {
                pointer.storeBytes(of: UInt8(ascii: "0") + UInt8(value % 10), toByteOffset: index, as: UInt8.self)
                value /= 10
            }
        }

        private static let hexDigits = Array("0123456789abcdef".utf8)

        private static func hex(_ value: Int, width: Int, at pointer: UnsafeMutableRawPointer) {
            var value = value
            for index in stride(from: width - 1, through: 0, by: -1) {
                pointer.storeBytes(of: hexDigits[value & 0xF], toByteOffset: index, as: UInt8.self)
                value >>= 4
            }
        }
    }
}
