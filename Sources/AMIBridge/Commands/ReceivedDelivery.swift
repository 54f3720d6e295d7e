import CRMSink
import Foundation
import HTTPTypes

/// One webhook delivery as `amibridge receive` saw it, with its signature checked the way a CRM
/// should check it (HMAC of `timestamp.body`, compared in constant time).
struct ReceivedDelivery {
    let method: String
    let uri: String
    let event: String
    let deliveryID: String
    let body: [UInt8]
    /// `signature ok`, `SIGNATURE MISMATCH`, or `unsigned` (no secret to check with, or no signature headers).
    let verdict: String

    init(method: String, uri: String, headers: HTTPFields, body: [UInt8], secret: String?) {
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
        self.method = method
        self.uri = uri
        self.body = body
        event = header(WebhookSignature.eventHeader) ?? "-"
        deliveryID = header(WebhookSignature.deliveryHeader) ?? "-"
        var verdict = "unsigned"
        if let secret, let timestamp = header(WebhookSignature.timestampHeader).flatMap(Int.init),
           let signature = header(WebhookSignature.signatureHeader) {
            let expected = WebhookSignature.signature(secret: secret, timestamp: timestamp, body: body)
            verdict = Self.constantTimeEquals(Array(expected.utf8), Array(signature.utf8)) ? "signature ok" : "SIGNATURE MISMATCH"
        }
        self.verdict = verdict
    }

    /// `--json`: the verdict, the event, the delivery id and the whole body (or a GET's query).
    var rawLine: String {
        let text = method == "GET" ? uri : String(decoding: body, as: UTF8.self)
        return "\(verdict)  \(method) \(event)  delivery=\(deliveryID)  \(text)"
    }

    /// The default: what a person watching wants, in one line of aligned columns:
    /// `14:32:05  call_complete    call 1700000000.12  lead 42  agent 6001  campaign TESTCAMP  answered 45s  latency <1s  signature ok`.
    /// Fields the body lacks are left out; a body that is not a JSON object (a ViciDial URL
    /// template's GET, garbage) is shown as it came, cut to 200 characters.
    func summaryLine(receivedAt now: Date) -> String {
        let time = Self.clock(now)
        guard method != "GET",
              let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            let text = method == "GET" ? uri : String(decoding: body, as: UTF8.self)
            return "\(time)  \(Self.padded(event, 16))  \(method) \(text.prefix(200))  \(verdict)"
        }
        func text(_ key: String) -> String? {
            switch object[key] {
            case let string as String where !string.isEmpty: string
            case let number as NSNumber: number.stringValue
            default: nil
            }
        }
        let name = text("event") ?? event
        var parts = [time, Self.padded(name, 16)]
        parts.append("call " + (text("linkedid") ?? text("uniqueid") ?? "-"))
        if let lead = text("lead_id") { parts.append("lead \(lead)") }
        if let agent = text("agent_user") { parts.append("agent \(agent)") }
        if let campaign = text("campaign_id") { parts.append("campaign \(campaign)") }
        if let disposition = text("disposition") { parts.append("dispo \(disposition)") }
        if let outcome = text("outcome") {
            parts.append(text("call_duration").map { "\(outcome) \($0)s" } ?? outcome)
        }
        if let reason = text("reason") { parts.append("reason \(reason)") }
        if text("reconstructed") == "1" { parts.append("reconstructed") }
        if let occurred = text("occurred_at").flatMap(Self.parseISO8601) {
            parts.append("latency " + Self.latency(now.timeIntervalSince(occurred)))
        }
        parts.append(verdict)
        return parts.joined(separator: "  ")
    }

    /// `occurred_at` has whole seconds, so an event that arrived within the second it happened
    /// shows `<1s`, and longer waits their whole seconds (never a made-up fraction).
    static func latency(_ seconds: TimeInterval) -> String {
        seconds < 1 ? "<1s" : "\(Int(seconds))s"
    }

    static func parseISO8601(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }

    static func clock(_ date: Date) -> String {
        date.formatted(.iso8601.time(includingFractionalSeconds: false).timeSeparator(.colon))
    }

    static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    static func constantTimeEquals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}
