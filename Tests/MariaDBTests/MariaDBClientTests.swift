import EventMapper
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

@Suite struct MariaDBClientTests {
    @Test func concurrentCallsShareOneConnectionSafely() async throws {
        let client = MariaDBClient(configuration: try TestDatabase.socketConfiguration())
        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for number in 0..<20 {
                group.addTask {
                    let row = try #require(try await client.query("SELECT CONNECTION_ID() AS id, ? AS n", [.int(Int64(number))]).first)
                    #expect(try row.int("n") == Int64(number))
                    return try row.string("id")
                }
            }
            var ids: Set<String?> = []
            for try await id in group { ids.insert(id) }
            return ids
        }
        // Serialised on the client's single connection.
        #expect(ids.count == 1)
    }

    @Test func closeMakesTheNextCallOpenANewConnection() async throws {
        let client = MariaDBClient(configuration: try TestDatabase.socketConfiguration())
        let first = try await client.query("SELECT CONNECTION_ID() AS id").first?.string("id")
        try await client.close()
        let second = try await client.query("SELECT CONNECTION_ID() AS id").first?.string("id")
        #expect(first != nil)
        #expect(second != nil)
        #expect(first != second)
    }

    @Test func aFailedConnectIsReportedOnEveryCall() async throws {
        var configuration = try TestDatabase.socketConfiguration()
        configuration.endpoint = .unixSocket(path: "/nonexistent/amibridge-test.sock")
        let client = MariaDBClient(configuration: configuration)
        for _ in 0..<2 {
            let error = try await #require(throws: MariaDBError.self) { try await client.query("SELECT 1") }
            #expect(error.code == .socketConnectionFailed)
        }
    }
}
