import Foundation
import NIOConcurrencyHelpers

/// The last attempts the dispatcher made, newest last, for a status page: a fixed-size ring
/// behind a lock, so recording one costs a lock and a copy of a few fields, and reading never
/// touches the outbox.
public final class DeliveryHistory: Sendable {
    /// One attempt, as it ended.
    public struct Attempt: Sendable, Equatable {
        public enum Result: String, Sendable {
            /// Accepted by the endpoint (2xx).
            case delivered
            /// Failed; will be tried again.
            case retry
            /// Given up: a dead letter.
            case dead
        }

        public var deliveryID: Int64
        public var eventID: UUID
        public var event: String
        public var endpoint: String
        public var result: Result
        /// The endpoint's HTTP status; nil when no answer came (connect error, timeout).
        public var status: Int?
        /// The request, from sending to the answer; nil when none was sent.
        public var requestMilliseconds: Int?
        /// From the event entering the outbox to this attempt's end, retries included.
        public var latencyMilliseconds: Int
        /// When the attempt ended.
        public var at: Date
        /// Why it failed; nil when delivered.
        public var error: String?

        public init(
            deliveryID: Int64, eventID: UUID, event: String, endpoint: String, result: Result, status: Int?,
            requestMilliseconds: Int?, latencyMilliseconds: Int, at: Date, error: String?
        ) {
            self.deliveryID = deliveryID
            self.eventID = eventID
            self.event = event
            self.endpoint = endpoint
            self.result = result
            self.status = status
            self.requestMilliseconds = requestMilliseconds
            self.latencyMilliseconds = latencyMilliseconds
            self.at = at
            self.error = error
        }
    }

    public let capacity: Int
    private let ring: NIOLockedValueBox<(attempts: [Attempt], next: Int)>

    /// Keeps the last `capacity` attempts (default 50).
    public init(capacity: Int = 50) {
        self.capacity = max(1, capacity)
        self.ring = NIOLockedValueBox(([], 0))
        self.ring.withLockedValue { $0.attempts.reserveCapacity(self.capacity) }
    }

    public func record(_ attempt: Attempt) {
        ring.withLockedValue { ring in
            if ring.attempts.count < capacity {
                ring.attempts.append(attempt)
            } else {
                ring.attempts[ring.next] = attempt
            }
            ring.next = (ring.next + 1) % capacity
        }
    }

    /// The kept attempts, oldest first.
    public var attempts: [Attempt] {
        ring.withLockedValue { ring in
            ring.attempts.count < capacity ? ring.attempts : Array(ring.attempts[ring.next...] + ring.attempts[..<ring.next])
        }
    }
}
