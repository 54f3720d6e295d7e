@testable import AMIBridge
import CRMSink
import Foundation
import HTTPTypes
import Testing

/// `amibridge receive`'s lines: the readable summary a person watches, and `--json`'s whole body.
@Suite("amibridge receive lines")
struct ReceivedDeliveryTests {
    static let secret = "receive-secret"

    static func delivery(_ body: String, event: String = "call_complete", secret: String? = Self.secret, signWith: String = Self.secret) -> ReceivedDelivery {
        let bytes = Array(body.utf8)
        let timestamp = 1_767_000_000
        var headers = HTTPFields()
        headers[HTTPField.Name(WebhookSignature.eventHeader)!] = event
        headers[HTTPField.Name(WebhookSignature.deliveryHeader)!] = "d-1"
        headers[HTTPField.Name(WebhookSignature.timestampHeader)!] = String(timestamp)
        headers[HTTPField.Name(WebhookSignature.signatureHeader)!] = WebhookSignature.signature(secret: signWith, timestamp: timestamp, body: bytes)
        return ReceivedDelivery(method: "POST", uri: "/hooks", headers: headers, body: bytes, secret: secret)
    }

    static let occurred = Date(timeIntervalSince1970: 1_767_000_000)

    @Test("a joined call_complete: call, lead, agent, campaign, outcome with talk seconds, latency, verdict")
    func callComplete() {
        let body = #"{"event":"call_complete","occurred_at":"2025-12-29T09:20:00Z","linkedid":"1767000000.7","uniqueid":"1767000000.8","lead_id":42,"agent_user":"6001","campaign_id":"TESTCAMP","disposition":null,"outcome":"answered","call_duration":45,"reconstructed":false}"#
        let line = Self.delivery(body).summaryLine(receivedAt: Self.occurred.addingTimeInterval(0.4))
        #expect(line.hasSuffix("call 1767000000.7  lead 42  agent 6001  campaign TESTCAMP  answered 45s  latency <1s  signature ok"), "\(line)")
        #expect(line.contains("call_complete   "), "event column padded: \(line)")
        #expect(!line.contains("dispo"), "a null disposition is left out: \(line)")
        #expect(!line.contains("\n"))
    }

    @Test("disposition_set shows the disposition; a late delivery shows its whole seconds")
    func dispositionLate() {
        let body = #"{"event":"disposition_set","occurred_at":"2025-12-29T09:20:00Z","linkedid":"1767000000.7","lead_id":42,"agent_user":"6001","disposition":"SALE","reconstructed":true}"#
        let line = Self.delivery(body, event: "disposition_set").summaryLine(receivedAt: Self.occurred.addingTimeInterval(7.9))
        #expect(line.contains("dispo SALE"), "\(line)")
        #expect(line.contains("reconstructed"), "\(line)")
        #expect(line.contains("latency 7s"), "\(line)")
    }

    @Test("a wrong signature says so; no secret says unsigned")
    func verdicts() {
        let body = #"{"event":"call_answered","linkedid":"1.2"}"#
        #expect(Self.delivery(body, signWith: "other").summaryLine(receivedAt: Self.occurred).hasSuffix("SIGNATURE MISMATCH"))
        #expect(Self.delivery(body, secret: nil).summaryLine(receivedAt: Self.occurred).hasSuffix("unsigned"))
    }

    @Test("a body that is not a JSON object is shown as it came, cut short, on one line")
    func garbage() {
        let line = Self.delivery(String(repeating: "x", count: 500)).summaryLine(receivedAt: Self.occurred)
        #expect(line.contains("POST " + String(repeating: "x", count: 200) + "  signature ok"), "\(line)")
        #expect(!line.contains(String(repeating: "x", count: 201)))
    }

    @Test("--json keeps the whole body after the verdict, event and delivery id")
    func raw() {
        let body = #"{"event":"call_complete","phone_number":"18005551234"}"#
        #expect(Self.delivery(body).rawLine == "signature ok  POST call_complete  delivery=d-1  \(body)")
    }
}
