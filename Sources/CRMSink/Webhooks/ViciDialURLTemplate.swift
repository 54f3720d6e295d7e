import Foundation

/// A ViciDial Start/Dispo Call URL, pasted as is from the campaign screen:
/// `VARhttps://crm.example.com/dispo.php?lead=--A--lead_id--B--&status=--A--dispo--B--`.
///
/// Every `--A--field--B--` becomes the event's value of that field, URL-encoded; field names are
/// case-insensitive; unknown fields become empty, as ViciDial does.
public struct ViciDialURLTemplate: Sendable, Hashable {
    /// The template without its `VAR` prefix.
    public let template: String

    public init(_ url: String) {
        self.template = url.hasPrefix("VAR") ? String(url.dropFirst(3)) : url
    }

    /// The URL with every field emptied: what validation checks.
    var base: String { self.render { _ in "" } }

    /// The URL for `event`.
    public func url(for event: WebhookEvent) -> String {
        var values: [String: String] = [:]
        for (key, value) in event.fields { values[key] = value.text }
        for (key, value) in event.extra { values[key.lowercased()] = value }
        // ViciDial's names for the fields the body calls otherwise.
        let aliases = [
            "user": "agent_user", "campaign": "campaign_id", "dispo": "disposition", "status": "disposition",
            "phone": "phone_number", "comments": "notes", "server_name": "server",
        ]
        for (alias, field) in aliases where values[alias] == nil { values[alias] = values[field] }
        if values["epoch"] == nil { values["epoch"] = String(Int(event.occurredAt.timeIntervalSince1970)) }
        if values["sqldate"] == nil, let calldate = event.calldate { values["sqldate"] = calldate }
        if values["talk_time"] == nil, let duration = event.callDuration { values["talk_time"] = String(duration) }
        return self.render { values[$0] ?? "" }
    }

    private func render(_ value: (String) -> String) -> String {
        var output = ""
        var rest = Substring(self.template)
        while let open = rest.range(of: "--A--") {
            guard let close = rest[open.upperBound...].range(of: "--B--") else { break }
            output += rest[..<open.lowerBound]
            output += Self.encode(value(rest[open.upperBound..<close.lowerBound].lowercased()))
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    /// Percent-encodes every byte but RFC 3986's unreserved characters: a space is `%20`, and `&`,
    /// `=`, `+`, `/`, `?`, `#` and non-ASCII UTF-8 bytes are all encoded, so no value can add a parameter.
    static func encode(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
