import CRMSink
import Foundation
import Testing

@Suite struct WebhookEventTests {
    @Test func theBodyHasEveryKeyInOrderNullWhenUnknownAndExtrasAfter() throws {
        let event = WebhookEvent(
            name: .userEvent,
            eventID: UUID(uuidString: "8A3F3E0C-4F43-4F7B-9C1B-6B2B6E2F0A11")!,
            occurredAt: Date(timeIntervalSince1970: 1_768_487_520),
            callKey: "k",
            leadID: 42,
            notes: "tab\there \\ \u{1}",
            reconstructed: true,
            extra: ["zeta": "1", "alpha": "a\"b", "lead_id": "ignored"]
        )
        let text = String(decoding: event.jsonBody(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"event":"user_event","event_id":"8a3f3e0c-4f43-4f7b-9c1b-6b2b6e2f0a11","occurred_at":"2026-01-15T14:32:00Z","uniqueid":null,"#))
        #expect(text.contains(#""lead_id":42,"#))
        #expect(text.contains(#""notes":"tab\there \\ \u0001","#))
        #expect(text.hasSuffix(#""click2call_id":null,"reconstructed":true,"transferred":false,"transfer_target":null,"continued_in":null,"alpha":"a\"b","zeta":"1"}"#))

        let json = try #require(try JSONSerialization.jsonObject(with: Data(event.jsonBody())) as? [String: Any])
        #expect(Set(json.keys) == Set(WebhookEvent.standardKeys + ["alpha", "zeta"]))
        #expect(json["lead_id"] as? Int == 42)
    }

    @Test func templateFieldsAreCaseInsensitiveEncodedAndEmptyWhenUnknown() {
        let event = WebhookEvent(
            name: .dispositionSet, occurredAt: Date(timeIntervalSince1970: 1_768_487_520), callKey: "k",
            agentUser: "agent 1", campaignID: "SALES", leadID: 7, disposition: "SALE",
            extra: ["vendor_lead_code": "V/1?x=2#y", "Talk_Time": "95"]
        )
        let template = ViciDialURLTemplate(
            "VARhttps://crm.example.com/d.php?l=--A--Lead_ID--B--&u=--A--user--B--&c=--A--campaign--B--&s=--A--DISPO--B--&v=--A--vendor_lead_code--B--&t=--A--talk_time--B--&e=--A--epoch--B--&x=--A--unknown--B--"
        )
        #expect(template.url(for: event) == "https://crm.example.com/d.php?l=7&u=agent%201&c=SALES&s=SALE&v=V%2F1%3Fx%3D2%23y&t=95&e=1768487520&x=")
    }

    @Test func endpointsFilterOnEventAndCampaign() throws {
        var endpoint = try WebhookEndpoint.Configuration(name: "crm", url: "https://crm.example.com/hook", events: [.dispositionSet])
        endpoint.campaigns = ["SALES"]
        #expect(endpoint.accepts(WebhookEvent(name: .dispositionSet, callKey: "k", campaignID: "SALES")))
        #expect(!endpoint.accepts(WebhookEvent(name: .dispositionSet, callKey: "k", campaignID: "OTHER")))
        #expect(!endpoint.accepts(WebhookEvent(name: .dispositionSet, callKey: "k")))
        #expect(!endpoint.accepts(WebhookEvent(name: .callComplete, callKey: "k", campaignID: "SALES")))
    }

    @Test(arguments: [
        ("ftp://crm.example.com/x", WebhookEndpoint.Format.json, "webhooks.crm1.url"),
        ("not a url", .json, "webhooks.crm1.url"),
        ("https:///nohost", .json, "webhooks.crm1.url"),
        ("VARfile:///etc/passwd?x=--A--lead_id--B--", .vicidialTemplate, "webhooks.crm1.url"),
    ])
    func aBadURLIsAnErrorNamingTheKey(url: String, format: WebhookEndpoint.Format, key: String) {
        let error = #expect(throws: WebhookConfigurationError.self) {
            try WebhookEndpoint.Configuration(name: "crm1", url: url, format: format)
        }
        #expect(error?.key == key)
        #expect(error?.description.hasPrefix("\(key): ") == true)
    }

    @Test func otherBadSettingsNameTheirKeys() {
        let cases: [(String, () throws -> WebhookEndpoint.Configuration)] = [
            ("webhooks.crm1.events", { try .init(name: "crm1", url: "https://x.example/h", events: []) }),
            ("webhooks.crm1.max_attempts", { try .init(name: "crm1", url: "https://x.example/h", maxAttempts: 0) }),
            ("webhooks.crm1.backoff_max_ms", { try .init(name: "crm1", url: "https://x.example/h", backoffInitial: .seconds(10), backoffCap: .seconds(1)) }),
            ("webhooks.endpoints", { try .init(name: "crm 1", url: "https://x.example/h") }),
        ]
        for (key, make) in cases {
            let error = #expect(throws: WebhookConfigurationError.self) { _ = try make() }
            #expect(error?.key == key)
        }
    }
}
