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
    ]

    /// The body's fields in order: the standard keys, then ``extra`` sorted by key.
    public var fields: [(key: String, value: FieldValue)] {
        var fields: [(key: String, value: FieldValue)] = [
            ("event", .string(self.name.rawValue)),
            ("event_id", .string(self.eventID.uuidString.lowercased())),
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
        ]
        let standard = Set(Self.standardKeys)
        for key in self.extra.keys.sorted() where !standard.contains(key) {
            fields.append((key, .string(self.extra[key]!)))
        }
        return fields
    }

    /// The JSON body: one object, keys in ``fields`` order, UTF-8, no insignificant whitespace.
    /// Rendered once when the event enters the outbox, so every retry sends (and signs) the same bytes.
    public func jsonBody() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(768)
        out.append(UInt8(ascii: "{"))
        for (index, (key, value)) in self.fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .null: out += Array("null".utf8)
            case .string(let string): JSONText.appendString(string, to: &out)
            case .integer(let integer): out += Array(String(integer).utf8)
            case .bool(let bool): out += Array((bool ? "true" : "false").utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `2026-01-15T14:32:00Z`: UTC, whole seconds, as the SPEC shows.
    static func iso8601(_ date: Date) -> String { CalendarText.iso8601(date) }
}

/// JSON string escaping (RFC 8259): quotes, backslash and control characters; everything else as UTF-8.
enum JSONText {
    static func appendString(_ string: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8)
                out += [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
