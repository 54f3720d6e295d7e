import AMITestSupport
import CRMSink
import Foundation
import Testing

/// The access log and request histogram of the built daemon: one JSON line per API request with
/// the key's id, the route template, the status and the duration; never the key itself, never a
/// phone number from a URL.
@Suite("API access log")
struct AccessLogTests {
    @Test("one line per request (key id, route, status, duration), no key or number in the log, and a duration histogram per route")
    func accessLog() async throws {
        let state = NSTemporaryDirectory() + "amibridge-access-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let created = try await ProcessUnderTest.run(["keys", "create", "--state-dir", state, "--name", "access"], environment: [:])
        let key = try #require(created.lines.first, "\(created.errors)")
        let keyID = String(try #require(key.split(separator: "_").dropFirst().first))
        let phone = "18005559876"
        // No Asterisk answers here: the API does not need one for what this test asks.
        let asterisk = try ClosedPort()
        let daemon = try ProcessUnderTest(["run", "--config", DaemonProcessTests.exampleConfig.path], environment: [
            "STATE_DIR": state, "API_LISTEN": "127.0.0.1:0", "AMI_PORT": String(asterisk.port), "AMI_USERNAME": "bridge",
            "AMI_SECRET": "s3cret-AMI", "LOG_MASK_PHONE_NUMBERS": "true",
        ])
        defer { daemon.process.terminate() }
        try await withDeadline(.seconds(60)) {
            let base = "http://127.0.0.1:\(try await daemon.apiPort())"
            let client = try CurlHTTPClient()
            func get(_ path: String, bearer: String? = nil) throws -> Int {
                var request = CurlHTTPRequest(method: "GET", url: base + path)
                if let bearer { request.headers.append(("Authorization", "Bearer \(bearer)")) }
                return try client.perform(request).status
            }
            let answers = [
                try get("/v1/recordings?phone_number=\(phone)", bearer: key),
                try get("/v1/recordings?phone_number=\(phone)"),
                try get("/agc/api.php?function=version&user=crm&api_key=\(key)&phone_number=\(phone)"),
                try get("/no/such/\(phone)"),
                try get("/healthz"),
            ]
            #expect(answers == [503, 401, 200, 404, 200], "\(answers)")
            let metrics = String(decoding: try client.perform(CurlHTTPRequest(method: "GET", url: base + "/metrics")).body, as: UTF8.self)

            // Five lines for the five requests (the scrape's own line may follow).
            var lines: [[String: Any]] = []
            var index = -1
            while lines.count < 5 {
                let found = try await daemon.line(containing: #""message":"request""#, after: index)
                index = found.index
                lines.append(try #require(try JSONSerialization.jsonObject(with: Data(found.line.utf8)) as? [String: Any]))
            }
            let seen = lines.map { [$0["route"] as? String ?? "?", $0["status"] as? String ?? "?", $0["key_id"] as? String ?? "?"] }
            #expect(seen == [
                ["/v1/recordings", "503", keyID], ["/v1/recordings", "401", "-"], ["/agc/api.php", "200", keyID],
                ["NotFound", "404", "-"], ["/healthz", "200", "-"],
            ], "\(seen)")
            #expect(lines.allSatisfy { ($0["duration_ms"] as? String).flatMap(Double.init).map { $0 >= 0 } == true }, "\(lines)")
            #expect(lines.allSatisfy { $0["client"] as? String == "127.0.0.1" && $0["method"] as? String == "GET" })

            let secret = String(try #require(key.split(separator: "_").last))
            let log = daemon.output.lines + daemon.errors.lines
            #expect(!log.contains { $0.contains(secret) }, "the key's secret is in the log")
            #expect(!log.contains { $0.contains(phone) }, "an unmasked number is in the log")

            #expect(metrics.contains(#"amibridge_api_request_duration_seconds_count{route="/v1/recordings",method="GET"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"amibridge_api_request_duration_seconds_bucket{route="/agc/api.php",method="GET",le="+Inf"} 1"#))
        }
        await daemon.stop()
    }
}
