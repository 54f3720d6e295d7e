@testable import AMIBridge
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Browsers may call only from `api.cors_origins`; preflights are answered without a key.
@Suite("API CORS allowlist")
struct CORSTests {
    static let allowed = "https://crm.example.com"

    @Test("a foreign Origin is a JSON 403")
    func foreignOrigin() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        try await environment.application { $0.corsOrigins = [Self.allowed] }.test(.router) { client in
            var headers = APITestEnvironment.bearer(key.text)
            headers[.origin] = "https://evil.example.net"
            try await client.execute(uri: "/v1/ping", method: .get, headers: headers) { response in
                #expect(response.status == .forbidden)
                #expect(APIErrorBody.decode(response.body)?.error.code == "forbidden")
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }

    @Test("a preflight from an allowed origin is 204 with the CORS headers")
    func preflight() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        try await environment.application { $0.corsOrigins = [Self.allowed] }.test(.router) { client in
            let headers: HTTPFields = [.origin: Self.allowed, .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "authorization"]
            try await client.execute(uri: "/v1/ping", method: .options, headers: headers) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == Self.allowed)
                #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
                #expect(response.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            }
        }
    }

    @Test("an allowed origin's request and its errors carry Access-Control-Allow-Origin")
    func allowedOriginHeaders() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        try await environment.application { $0.corsOrigins = [Self.allowed] }.test(.router) { client in
            var headers = APITestEnvironment.bearer(key.text)
            headers[.origin] = Self.allowed
            try await client.execute(uri: "/v1/ping", method: .get, headers: headers) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.accessControlAllowOrigin] == Self.allowed)
            }
            try await client.execute(uri: "/v1/ping", method: .get, headers: [.origin: Self.allowed]) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.accessControlAllowOrigin] == Self.allowed)
            }
        }
    }
}
