@testable import AMIBridge
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Bearer keys on `/v1`: only a live key with the right secret gets through, and the store never
/// holds the secret itself.
@Suite("API key authentication")
struct APIKeyAuthTests {
    static func ping(_ environment: APITestEnvironment, headers: HTTPFields) async throws -> (HTTPResponse.Status, String) {
        try await environment.application().test(.router) { client in
            try await client.execute(uri: "/v1/ping", method: .get, headers: headers) { ($0.status, String(buffer: $0.body)) }
        }
    }

    @Test("no Authorization header is a JSON 401")
    func missing() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        try await environment.application().test(.router) { client in
            try await client.execute(uri: "/v1/ping", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(APIErrorBody.decode(response.body)?.error.code == "unauthorized")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
        }
    }

    @Test("a valid key gets 200 and its id")
    func valid() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        let (status, body) = try await Self.ping(environment, headers: APITestEnvironment.bearer(key.text))
        #expect(status == .ok)
        #expect(body == #"{"key":"\#(key.id)","pong":true}"#)
    }

    @Test("the right id with a wrong secret is 401", arguments: ["wrong-secret", "malformed"])
    func wrongSecret(kind: String) async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        var forged = APIKey.generate()
        forged.id = key.id
        let presented = kind == "malformed" ? "amib_\(key.id)_\(key.secret.prefix(10))" : forged.text
        let (status, body) = try await Self.ping(environment, headers: APITestEnvironment.bearer(presented))
        #expect(status == .unauthorized)
        #expect(body.contains(#""code":"unauthorized""#))
    }

    @Test("a revoked key is 401 on the next request")
    func revoked() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        #expect(try await Self.ping(environment, headers: APITestEnvironment.bearer(key.text)).0 == .ok)
        #expect(try environment.store.revoke(id: key.id))
        #expect(try await Self.ping(environment, headers: APITestEnvironment.bearer(key.text)).0 == .unauthorized)
    }

    @Test("the key file holds neither the secret nor the whole key")
    func hashedAtRest() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        // Reading proves the row is there (the id is stored in clear), so the absence below means something.
        #expect(try environment.store.authenticate(key.text) == key.id)
        var bytes = Data()
        for file in try FileManager.default.contentsOfDirectory(atPath: environment.directory) {
            bytes.append(try Data(contentsOf: URL(fileURLWithPath: environment.directory).appendingPathComponent(file)))
        }
        #expect(bytes.range(of: Data(key.id.utf8)) != nil)
        #expect(bytes.range(of: Data(key.secret.utf8)) == nil)
        #expect(bytes.range(of: Data(key.secret.prefix(16).utf8)) == nil)
        #expect(bytes.range(of: Data(key.secretHash)) != nil)
    }
}
