import Foundation

extension WebhookEvent {
    /// A field value as the JSON body and templates see it.
    public enum FieldValue: Sendable, Hashable {
        case null
        case string(String)
        case integer(Int)
        case bool(Bool)

        init(_ value: String?) { self = value.map { .string($0) } ?? .null }
        init(_ value: Int?) { self = value.map { .integer($0) } ?? .null }

        /// The value as text in a URL (`null` is empty).
        public var text: String {
            switch self {
            case .null: ""
            case .string(let string): string
            case .integer(let integer): String(integer)
            case .bool(let bool): bool ? "true" : "false"
            }
        }
    }

    /// Every key of the SPEC body, in its order: always present, `null` when unknown.
    public static let standardKeys: [String] = [
        "event", "event_id", "occurred_at", "uniqueid", "linkedid", "calldate", "phone_number", "agent_user",
        "campaign_id", "lead_id", "list_id", "disposition", "call_duration", "ring_duration", "hangup_cause",
        "hangup_cause_text", "term_reason", "recording_filename", "notes", "server", "click2call_id", "reconstructed",
        "transferred", "transfer_target", "continued_in",
    ]

    /// The body's fields in order: the standard keys, then ``extra`` sorted by key (a
    /// `user_event`'s ``variables`` object is in the JSON body only, after the standard keys).
    public var fields: [(key: String, value: FieldValue)] {
        var fields: [(key: String, value: FieldValue)] = [
            ("event", .string(self.name.rawValue)),
            ("event_id", .string(self.eventID.lowercaseText)),
            ("occurred_at", .string(Self.iso8601(self.occurredAt))),
            ("uniqueid", FieldValue(self.uniqueid)),
            ("linkedid", FieldValue(self.linkedid)),
            ("calldate", FieldValue(self.calldate)),
            ("phone_number", FieldValue(self.phoneNumber)),
            ("agent_user", FieldValue(self.agentUser)),
            ("campaign_id", FieldValue(self.campaignID)),
            ("lead_id", FieldValue(self.leadID)),
            ("list_id", FieldValue(self.listID)),
            ("disposition", FieldValue(self.disposition)),
            ("call_duration", FieldValue(self.callDuration)),
            ("ring_duration", FieldValue(self.ringDuration)),
            ("hangup_cause", FieldValue(self.hangupCause)),
            ("hangup_cause_text", FieldValue(self.hangupCauseText)),
            ("term_reason", FieldValue(self.termReason)),
            ("recording_filename", FieldValue(self.recordingFilename)),
            ("notes", FieldValue(self.notes)),
            ("server", FieldValue(self.server)),
            ("click2call_id", FieldValue(self.click2callID)),
            ("reconstructed", .bool(self.reconstructed)),
            ("transferred", .bool(self.transferred)),
            ("transfer_target", FieldValue(self.transferTarget)),
            ("continued_in", FieldValue(self.continuedIn)),
        ]
        for (key, value) in self.sortedExtra {
            fields.append((key, .string(value)))
        }
        return fields
    }

    private static let standardKeySet = Set(standardKeys)

    /// ``extra`` sorted by key, without the keys of standard fields. Filtered lazily: `filter` on
    /// the dictionary itself builds (and hashes into) a second dictionary for every body.
    private var sortedExtra: [(key: String, value: String)] {
        guard !self.extra.isEmpty else { return [] }
        return self.extra.lazy.filter { !Self.standardKeySet.contains($0.key) }.sorted { $0.key < $1.key }
    }

    /// The JSON body: one object, keys in ``fields`` order, UTF-8, no insignificant whitespace.
    /// Rendered once when the event enters the outbox, so every retry sends (and signs) the same bytes.
    ///
    /// Written field by field rather than from ``fields`` (the same keys, values and order; the
    /// body tests compare them): every event of a storm goes through here.
    public func jsonBody() -> [UInt8] {
        var out = JSONObjectWriter()
        out.field("event", self.name.rawValue)
        out.field("event_id", self.eventID.lowercaseText)
        out.field("occurred_at", Self.iso8601(self.occurredAt))
        out.field("uniqueid", self.uniqueid)
        out.field("linkedid", self.linkedid)
        out.field("calldate", self.calldate)
        out.field("phone_number", self.phoneNumber)
        out.field("agent_user", self.agentUser)
        out.field("campaign_id", self.campaignID)
        out.field("lead_id", self.leadID)
        out.field("list_id", self.listID)
        out.field("disposition", self.disposition)
        out.field("call_duration", self.callDuration)
        out.field("ring_duration", self.ringDuration)
        out.field("hangup_cause", self.hangupCause)
        out.field("hangup_cause_text", self.hangupCauseText)
        out.field("term_reason", self.termReason)
        out.field("recording_filename", self.recordingFilename)
        out.field("notes", self.notes)
        out.field("server", self.server)
        out.field("click2call_id", self.click2callID)
        out.field("reconstructed", self.reconstructed)
        out.field("transferred", self.transferred)
        out.field("transfer_target", self.transferTarget)
        out.field("continued_in", self.continuedIn)
        if let variables = self.variables {
            out.object("variables", variables.sorted { $0.key < $1.key })
        }
        for (key, value) in self.sortedExtra {
            out.extraField(key, value)
        }
        return out.finish()
    }

    /// `2026-01-15T14:32:00Z`: UTC, whole seconds, as the SPEC shows.
    static func iso8601(_ date: Date) -> String { CalendarText.iso8601(date) }
}

/// Builds one JSON object's bytes, field by field.
struct JSONObjectWriter {
    private var out: [UInt8]

    init() {
        self.out = []
        self.out.reserveCapacity(1024)
        self.out.append(UInt8(ascii: "{"))
    }

    private mutating func key(_ key: StaticString) {
        if self.out.count > 1 { self.out.append(UInt8(ascii: ",")) }
        self.out.append(UInt8(ascii: "\""))
        // Standard keys are plain ASCII: nothing to escape.
        key.withUTF8Buffer { self.out += $0 }
        self.out += "\":".utf8
    }

    mutating func field(_ key: StaticString, _ value: String?) {
        self.key(key)
        if let value { JSONText.appendString(value, to: &self.out) } else { self.out += "null".utf8 }
    }

    mutating func field(_ key: StaticString, _ value: Int?) {
        self.key(key)
        if let value { self.out += String(value).utf8 } else { self.out += "null".utf8 }
    }

    mutating func field(_ key: StaticString, _ value: Bool) {
        self.key(key)
        self.out += (value ? "true" : "false").utf8
    }

    /// `"key":{"name":"value",...}`, in the order given.
    mutating func object(_ key: StaticString, _ members: [(key: String, value: String)]) {
        self.key(key)
        self.out.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { self.out.append(UInt8(ascii: ",")) }
            JSONText.appendString(member.key, to: &self.out)
            self.out.append(UInt8(ascii: ":"))
            JSONText.appendString(member.value, to: &self.out)
        }
        self.out.append(UInt8(ascii: "}"))
    }

    mutating func extraField(_ key: String, _ value: String) {
        if self.out.count > 1 { self.out.append(UInt8(ascii: ",")) }
        JSONText.appendString(key, to: &self.out)
        self.out.append(UInt8(ascii: ":"))
        JSONText.appendString(value, to: &self.out)
    }

    mutating func finish() -> [UInt8] {
        self.out.append(UInt8(ascii: "}"))
        return self.out
    }
}

/// JSON string escaping (RFC 8259): quotes, backslash and control characters; everything else as
/// UTF-8. Webhook bodies and the JSON log lines both write strings through it.
public enum JSONText {
    /// Runs without anything to escape are copied whole; a byte of a multi-byte character is
    /// 0x80 or above, so only ASCII is ever escaped.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out += UnsafeBufferPointer(rebasing: bytes[start..<index])
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                default:
                    let hex: StaticString = "0123456789abcdef"
                    out += "\\u00".utf8
                    hex.withUTF8Buffer { digits in
                        out.append(digits[Int(byte >> 4)])
                        out.append(digits[Int(byte & 0xF)])
                    }
                }
            }
            out += UnsafeBufferPointer(rebasing: bytes[start...])
        }
        out.append(UInt8(ascii: "\""))
    }
}
