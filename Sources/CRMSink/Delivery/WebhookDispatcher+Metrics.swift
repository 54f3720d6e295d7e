import CoreMetrics
import Foundation

extension WebhookDispatcher {
    /// How one attempt ended, in the series `/metrics` shows (recorded through swift-metrics; the
    /// executable picks the backend):
    ///
    /// - `amibridge_webhook_deliveries_total{endpoint,result}`: `result` is `delivered`, `retry`
    ///   (failed, will be tried again) or `dead` (given up: a dead letter).
    /// - `amibridge_webhook_request_duration_seconds{endpoint}`: one HTTP attempt, request to answer.
    /// - `amibridge_webhook_delivery_latency_seconds{endpoint}`: from the event entering the
    ///   outbox to its delivery, retries included: how late the CRM learns of a call.
    enum AttemptResult: String {
        case delivered, retry, dead
    }

    /// One endpoint's series. Looking a series up in the backend takes a lock and hashes its
    /// labels; a delivery thread keeps the handles of the endpoints it has seen instead of doing
    /// that three times per delivery. Each handle is made on first use, as before: a series
    /// shows in `/metrics` once something happened to it.
    final class AttemptMetrics {
        let endpoint: String
        private lazy var delivered = self.counter(.delivered)
        private lazy var retried = self.counter(.retry)
        private lazy var dead = self.counter(.dead)
        private lazy var requestDuration = CoreMetrics.Timer(label: "amibridge_webhook_request_duration_seconds", dimensions: [("endpoint", self.endpoint)])
        private lazy var deliveryLatency = CoreMetrics.Timer(label: "amibridge_webhook_delivery_latency_seconds", dimensions: [("endpoint", self.endpoint)])

        init(endpoint: String) {
            self.endpoint = endpoint
        }

        private func counter(_ result: AttemptResult) -> Counter {
            Counter(label: "amibridge_webhook_deliveries_total", dimensions: [("endpoint", self.endpoint), ("result", result.rawValue)])
        }

        func record(_ delivery: OutboxDelivery, result: AttemptResult, requestDuration: Duration?, now: Date = Date()) {
            switch result {
            case .delivered: self.delivered.increment()
            case .retry: self.retried.increment()
            case .dead: self.dead.increment()
            }
            if let requestDuration {
                self.requestDuration.recordNanoseconds(
                    requestDuration.components.seconds * 1_000_000_000 + requestDuration.components.attoseconds / 1_000_000_000
                )
            }
            if result == .delivered {
                self.deliveryLatency.recordNanoseconds(Int64(max(0, now.timeIntervalSince(delivery.createdAt)) * 1e9))
            }
        }
    }

    /// The handles of every endpoint one delivery thread has delivered to.
    struct AttemptMetricsCache {
        private var byEndpoint: [String: AttemptMetrics] = [:]

        mutating func callAsFunction(_ endpoint: String) -> AttemptMetrics {
            if let metrics = self.byEndpoint[endpoint] { return metrics }
            let metrics = AttemptMetrics(endpoint: endpoint)
            self.byEndpoint[endpoint] = metrics
            return metrics
        }
    }
}
