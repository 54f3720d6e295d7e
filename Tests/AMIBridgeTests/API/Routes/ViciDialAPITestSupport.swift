@testable import AMIBridge
@testable import EventMapper
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import MariaDB
import NIOCore
import Testing
@testable import ViciDial
import ViciDialTestSupport

/// The API over the private MariaDB, as the daemon runs it: the routes read and write as the
/// bridge's least-privilege user, while the test writes ViciDial's own rows as root
/// (``ViciDialTestDriver``; it and ``TestDatabase`` are shared with EventMapperTests through the
/// symlinks in Tests/AMIBridgeTests/Shared).
struct ViciDialAPITest {
    let environment: APITestEnvironment
    let key: String
    let driver: ViciDialTestDriver
    let repository: ViciDialRepository?

    /// `database: false` serves the same routes with no database configured.
    init(database: Bool = true) throws {
        try self.init(repository: database ? try ViciDialTestDriver.repository() : nil)
    }

    /// The routes over `repository` (another user, an unreachable server...).
    init(repository: ViciDialRepository?) throws {
        environment = try APITestEnvironment()
        key = try environment.store.create(name: "crm").text
        driver = try ViciDialTestDriver()
        self.repository = repository
    }

    func remove() { environment.remove() }

    /// One request with the key (`authorized: false`: without any Authorization header).
    func request(_ uri: String, method: HTTPRequest.Method = .get, body: String? = nil, contentType: String? = nil,
                 authorized: Bool = true) async throws -> Answer {
        var headers: HTTPFields = authorized ? APITestEnvironment.bearer(key) : [:]
        if let contentType { headers[.contentType] = contentType }
        let fields = headers
        return try await environment.application(vicidial: repository).test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) }) { response in
                Answer(status: response.status, body: response.body)
            }
        }
    }

    func post(_ uri: String, _ body: String, contentType: String = "application/json") async throws -> Answer {
        try await request(uri, method: .post, body: body, contentType: contentType)
    }
}

/// A response with its body read as JSON.
struct Answer {
    var status: HTTPResponse.Status
    var body: ByteBuffer

    var text: String { String(buffer: body) }
    /// The top-level object; empty when the body is not one, which fails the comparisons.
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:] }
    var errorCode: String? { APIErrorBody.decode(body)?.error.code }
}
