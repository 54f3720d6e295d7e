import EventMapper
import MariaDB
import Testing
import ViciDial
import ViciDialTestSupport

@Suite("MariaDB pool")
struct MariaDBPoolTests {
    @Test("queries spread over the pool's connections in turn")
    func parallelQueries() async throws {
        let pool = MariaDBPool(configuration: try TestDatabase.socketConfiguration(), size: 3)
        // Each connection reports its own id: six queries in turn use all three.
        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<6 {
                group.addTask { try await pool.query("SELECT CONNECTION_ID() AS id").first?.string("id") }
            }
            var ids: [String] = []
            for try await id in group { if let id { ids.append(id) } }
            return ids
        }
        #expect(ids.count == 6)
        #expect(Set(ids).count == 3)
        try await pool.close()
    }
}
