@testable import AMIBridge
import CRMSink
import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `/metrics` in the router: Prometheus text, no key needed, behind the IP allowlist, requests
/// counted by route template and status, gauges read at scrape time. (The daemon's own series are
/// checked through the built binary in DaemonMetricsTests.)
@Suite("API /metrics")
struct MetricsEndpointTests {
    static func scrape(_ client: some TestClientProtocol) async throws -> String {
        try await client.execute(uri: "/metrics", method: .get) { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            return String(buffer: response.body)
        }
    }

    @Test("requests are counted by route template, method and status; unknown paths share one series")
    func requestCounter() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let metrics = BridgeMetrics()
        try await environment.application(metrics: metrics).test(.router) { client in
            let before = try await Self.scrape(client)
            #expect(!before.contains(#"route="/v1/ping""#))
            try await client.execute(uri: "/v1/ping", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/ping", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/no/such/\(UUID())", method: .get) { #expect($0.status == .notFound) }
            let after = try await Self.scrape(client)
            #expect(after.contains(#"amibridge_api_requests_total{route="/v1/ping",method="GET",status="401"} 2"#), "\(after)")
            #expect(after.contains(#"amibridge_api_requests_total{route="/healthz",method="GET",status="200"} 1"#))
            #expect(after.contains(#"amibridge_api_requests_total{route="NotFound",method="GET",status="404"} 1"#))
            // The first scrape counted itself once it answered.
            #expect(after.contains(#"amibridge_api_requests_total{route="/metrics",method="GET",status="200"} 1"#))
        }
    }

    @Test("outside the IP allowlist /metrics is 403, and that refusal is counted too")
    func allowlist() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let metrics = BridgeMetrics()
        try await environment.application({ $0.ipAllowlist = [IPAddressRange("10.0.0.0/8")!] }, metrics: metrics).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(!String(buffer: response.body).contains("amibridge_"))
            }
        }
        let text = String(decoding: try await metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"amibridge_api_requests_total{route="/metrics",method="GET",status="403"} 1"#), "\(text)")
    }

    @Test("outbox gauges are counted at each scrape, and drop to 0 when an endpoint's rows are gone")
    func outboxGauges() async throws {
        let directory = NSTemporaryDirectory() + "amibridge-metrics-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(stateDirectory: directory)
        let endpoint = try WebhookEndpoint.Configuration(name: "crm1", url: "https://crm.example.com/hook")
        let events = (0..<3).map { WebhookEvent(name: .callComplete, callKey: "call-\($0)") }
        try outbox.enqueueBlocking(events.flatMap { OutboxNewDelivery.deliveries(of: $0, to: [endpoint]) })
        let metrics = BridgeMetrics()
        metrics.collectOutbox(outbox)

        let claimed = try outbox.claim(limit: 3)
        try outbox.record([.dead(id: claimed[0].id, status: 404, error: "HTTP 404")])
        var text = String(decoding: try await metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"amibridge_outbox_depth{endpoint="crm1"} 2"#), "\(text)")
        #expect(text.contains(#"amibridge_outbox_dead_letters{endpoint="crm1"} 1"#))

        try outbox.record(claimed.dropFirst().map { .delivered(id: $0.id) })
        _ = try outbox.purge(OutboxSelection(states: [.dead]))
        text = String(decoding: try await metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"amibridge_outbox_depth{endpoint="crm1"} 0"#), "\(text)")
        #expect(text.contains(#"amibridge_outbox_dead_letters{endpoint="crm1"} 0"#))
    }
}
