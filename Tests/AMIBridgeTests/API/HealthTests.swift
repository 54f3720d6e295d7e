@testable import AMIBridge
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `/healthz` says the process answers; `/readyz` reflects the injected dependency checks.
@Suite("API health and readiness")
struct HealthTests {
    @Test("healthz answers 200 {\"status\":\"ok\"} without a key")
    func healthz() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        try await environment.application().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
        }
    }

    @Test("readyz is 200 when every check is ready, listing each")
    func ready() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let checks: [ReadinessCheck] = [(name: "ami", check: { .ready }), (name: "db", check: { .ready })]
        try await environment.application(checks: checks).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"checks":[{"name":"ami","state":"ready"},{"name":"db","state":"ready"}],"status":"ready"}"#)
            }
        }
    }

    @Test("readyz is 503 when one check is not ready, with its reason")
    func notReady() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let checks: [ReadinessCheck] = [(name: "ami", check: { .notReady(reason: "dialer1 not logged in") }), (name: "db", check: { .ready })]
        try await environment.application(checks: checks).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let report = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect(report?["status"] as? String == "not_ready")
                let entries = report?["checks"] as? [[String: String]]
                #expect(entries?.first == ["name": "ami", "state": "not_ready", "reason": "dialer1 not logged in"])
                #expect(entries?.last == ["name": "db", "state": "ready"])
            }
        }
    }

    @Test("an unknown path is a JSON 404")
    func notFound() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        try await environment.application().test(.router) { client in
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(APIErrorBody.decode(response.body)?.error.code == "not_found")
            }
        }
    }
}
