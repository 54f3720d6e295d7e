@testable import AMIBridge
import EventMapper
import HTTPTypes
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

/// Every ViciDial route, for the refusals they all share.
enum ViciDialRoutesUnderTest {
    static let uris: [(HTTPRequest.Method, String)] = [
        (.get, "/v1/agents/agent001"),
        (.get, "/v1/recordings?phone_number=8005551234"),
        (.get, "/v1/calls/1768487520.1/recording"),
        (.post, "/v1/leads"),
    ]
}

/// The refusals every ViciDial route shares.
@Suite("ViciDial routes without a database or a key")
struct ViciDialRouteRefusalTests {
    @Test("without a configured database every route answers 503 with a JSON error", arguments: ViciDialRoutesUnderTest.uris.indices)
    func noDatabase(index: Int) async throws {
        let (method, uri) = ViciDialRoutesUnderTest.uris[index]
        let test = try ViciDialAPITest(database: false)
        defer { test.remove() }
        let answer = try await test.request(uri, method: method, body: method == .post ? #"[{"phone_number":"8005551234","list_id":"101"}]"# : nil)
        #expect(answer.status == .serviceUnavailable)
        #expect(answer.errorCode == "database_not_configured")
    }

    @Test("when MariaDB cannot be reached every route answers 503, not 500", arguments: ViciDialRoutesUnderTest.uris.indices)
    func unreachableDatabase(index: Int) async throws {
        let (method, uri) = ViciDialRoutesUnderTest.uris[index]
        var configuration = try TestDatabase.socketConfiguration()
        configuration.endpoint = .unixSocket(path: "/nonexistent/amibridge-api-test.sock")
        let test = try ViciDialAPITest(repository: ViciDialRepository(database: MariaDBClient(configuration: configuration)))
        defer { test.remove() }
        let answer = try await test.request(uri, method: method, body: method == .post ? #"[{"phone_number":"8005551234","list_id":"101"}]"# : nil)
        #expect(answer.status == .serviceUnavailable)
        #expect(answer.errorCode == "database_unavailable")
    }

    @Test("without a key every route answers 401", arguments: ViciDialRoutesUnderTest.uris.indices)
    func noKey(index: Int) async throws {
        let (method, uri) = ViciDialRoutesUnderTest.uris[index]
        let test = try ViciDialAPITest()
        defer { test.remove() }
        let answer = try await test.request(uri, method: method, authorized: false)
        #expect(answer.status == .unauthorized)
        #expect(answer.errorCode == "unauthorized")
    }
}
