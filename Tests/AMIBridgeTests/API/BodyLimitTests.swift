@testable import AMIBridge
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Bodies over `api.body_limit_bytes` are refused with 413 before any handler sees them.
@Suite("API body limit")
struct BodyLimitTests {
    @Test("a body over the limit is a JSON 413; one at the limit passes", arguments: [(2048, 200), (2049, 413)])
    func limit(size: Int, expected: Int) async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        try await environment.application { $0.bodyLimitBytes = 2048 }.test(.router) { client in
            let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
            try await client.execute(uri: "/v1/ping", method: .post, headers: APITestEnvironment.bearer(key.text), body: body) { response in
                #expect(response.status.code == expected)
                if expected == 413 {
                    #expect(APIErrorBody.decode(response.body)?.error.code == "body_too_large")
                }
            }
        }
    }
}
