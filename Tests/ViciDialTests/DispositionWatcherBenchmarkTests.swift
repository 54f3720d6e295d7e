@testable import EventMapper
@testable import MariaDB
import Testing
@testable import ViciDial
import ViciDialTestSupport

@Suite struct DispositionWatcherBenchmarkTests {
    @Test func theBenchmarkMeasuresOneQueryPerPollAndLeavesNoRows() async throws {
        let client = MariaDBClient(configuration: try TestDatabase.rootConfiguration())
        let result = try await DispositionWatcherBenchmark.run(client: client, waitingCalls: 300, polls: 3)
        #expect(result.waitingCalls == 300)
        #expect(result.polls == 3)
        #expect(result.queriesPerPoll == 1)
        #expect(result.pollLatencies.allSatisfy { $0 > .zero })
        let left = try await client.query("SELECT COUNT(*) AS n FROM vicidial_log WHERE campaign_id = 'BENCH'")
        #expect(try left.first?.int("n") == 0)
    }
}
