import AMITestSupport
import CRMSink
import Foundation
import Testing

/// `/metrics` of the running daemon (the built binary): the series move with real activity.
@Suite("Daemon metrics")
struct DaemonMetricsTests {
    /// The value of the series `series` (name and labels exactly as exposed), or nil if absent.
    static func value(_ series: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    static func scrape(port: Int) throws -> String {
        let response = try CurlHTTPClient().perform(CurlHTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/metrics"))
        #expect(response.status == 200)
        return String(decoding: response.body, as: UTF8.self)
    }

    @Test("a recorded call moves the AMI, call, webhook, outbox and API series")
    func seriesMove() async throws {
        let secret = "metrics-\(UUID())"
        let (receiver, receiverPort) = try await ProcessUnderTest.receiver(secret: secret)
        defer { receiver.process.terminate() }
        let state = NSTemporaryDirectory() + "amibridge-metrics-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let ami = try GatedReplay()

        try await FakeAMIServer.withServer(behavior: ami.behavior) { server in
            let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: GatedReplay.amiEnvironment(port: server.port).merging([
                "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "LOG_LEVEL": "debug", "WEBHOOKS_ENDPOINTS": "crm",
                "WEBHOOKS_CRM_URL": "http://127.0.0.1:\(receiverPort)/hooks", "WEBHOOKS_CRM_SECRET": secret,
            ]) { _, new in new })
            defer { daemon.process.terminate() }
            try await withDeadline(.seconds(90)) {
                let port = try await daemon.apiPort()
                let before = try Self.scrape(port: port)
                #expect(Self.value(#"amibridge_ami_connected{server="dialer1"}"#, in: before) == 0, "\(before)")
                #expect(Self.value(#"amibridge_webhook_deliveries_total{endpoint="crm",result="delivered"}"#, in: before) == nil)

                ami.gate.open()
                try await receiver.line(containing: "POST call_complete")
                // The dispatcher counts an attempt before it logs it (debug).
                let first = try await daemon.line(containing: #""message":"delivered""#)
                try await daemon.line(containing: #""message":"delivered""#, after: first.index)

                let after = try Self.scrape(port: port)
                #expect(Self.value(#"amibridge_ami_connected{server="dialer1"}"#, in: after) == 1, "\(after)")
                #expect((Self.value(#"amibridge_ami_events_total{server="dialer1",event="Hangup"}"#, in: after) ?? 0) >= 2)
                // Sampled once per batch the tracker takes from the stream.
                #expect((Self.value("amibridge_ami_event_lag_seconds_count", in: after) ?? 0) >= 1)
                #expect(Self.value(#"amibridge_webhook_deliveries_total{endpoint="crm",result="delivered"}"#, in: after) == 2)
                #expect(Self.value(#"amibridge_webhook_request_duration_seconds_count{endpoint="crm"}"#, in: after) == 2)
                #expect(Self.value(#"amibridge_webhook_delivery_latency_seconds_count{endpoint="crm"}"#, in: after) == 2)
                #expect(Self.value(#"amibridge_outbox_depth{endpoint="crm"}"#, in: after) == 0)
                #expect(Self.value(#"amibridge_outbox_dead_letters{endpoint="crm"}"#, in: after) == 0)
                #expect(Self.value("amibridge_calls_active", in: after) == 0)
                #expect(Self.value(#"amibridge_ami_reconnects_total{server="dialer1"}"#, in: after) == 0)
                #expect(Self.value(#"amibridge_api_requests_total{route="/metrics",method="GET",status="200"}"#, in: after) == 1)
            }
            await daemon.stop()
            #expect(daemon.process.terminationStatus == 0)
        }
    }
}
