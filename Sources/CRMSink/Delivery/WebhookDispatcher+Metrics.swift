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

    static func recordAttempt(_ delivery: OutboxDelivery, result: AttemptResult, requestDuration: Duration?, now: Date = Date()) {
        let endpoint = [("endpoint", delivery.endpoint)]
        Counter(label: "amibridge_webhook_deliveries_total", dimensions: endpoint + [("result", result.rawValue)]).increment()
        if let requestDuration {
            CoreMetrics.Timer(label: "amibridge_webhook_request_duration_seconds", dimensions: endpoint)
                .recordNanoseconds(requestDuration.components.seconds * 1_000_000_000 + requestDuration.components.attoseconds / 1_000_000_000)
        }
        if result == .delivered {
            CoreMetrics.Timer(label: "amibridge_webhook_delivery_latency_seconds", dimensions: endpoint)
                .recordNanoseconds(Int64(max(0, now.timeIntervalSince(delivery.createdAt)) * 1e9))
        }
    }
}
