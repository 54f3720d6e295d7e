import CRMSink
import Foundation
import Testing

/// The dispatcher's last attempts, as the status page lists them: a ring that keeps the newest.
@Suite("API status page: delivery history")
struct DeliveryHistoryTests {
    static func attempt(_ id: Int64) -> DeliveryHistory.Attempt {
        DeliveryHistory.Attempt(
            deliveryID: id, eventID: UUID(), event: "call_complete", endpoint: "crm", result: .delivered, status: 200,
            requestMilliseconds: 3, latencyMilliseconds: 10, at: Date(timeIntervalSince1970: Double(id)), error: nil
        )
    }

    @Test("keeps the last `capacity` attempts, oldest first")
    func ring() {
        let history = DeliveryHistory(capacity: 3)
        #expect(history.attempts.isEmpty)
        for id in 1...2 { history.record(Self.attempt(Int64(id))) }
        #expect(history.attempts.map(\.deliveryID) == [1, 2])
        for id in 3...7 { history.record(Self.attempt(Int64(id))) }
        #expect(history.attempts.map(\.deliveryID) == [5, 6, 7])
    }
}
