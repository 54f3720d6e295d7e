import Foundation

/// What one delivery thread keeps between requests, and the one thing it does: send a delivery
/// to its endpoint and decide what follows. Its libcurl handle keeps connections open, its keyed
/// HMACs and metric handles are made once per endpoint. Both the outbox's ``WebhookDispatcher``
/// and the event-log deliverer (`amibridge deliver`) send through it, so a webhook is the same
/// request, signed the same way, retried by the same policy, whichever feeds it.
///
/// Not thread-safe: one per thread. Every call blocks that thread for the request.
public final class WebhookSender {
    /// An attempt's result: the policy's decision, and what the endpoint answered.
    public struct Attempt: Sendable, Equatable {
        public var decision: DeliveryRetryPolicy.Decision
        /// The HTTP status, if the endpoint answered.
        public var status: Int?
        public var requestDuration: Duration
        /// When the answer came (a retry is scheduled from here).
        public var answeredAt: Date
    }

    private let client: Result<CurlHTTPClient, CurlError>
    private var signers: [String: WebhookSignature.Signer] = [:]
    private var metrics = WebhookDispatcher.AttemptMetricsCache()

    public init() {
        self.client = Result { () throws(CurlError) in try CurlHTTPClient() }
    }

    /// Sends `delivery` (its `attempts` counting this one) and records the attempt in the
    /// `amibridge_webhook_*` metrics.
    public func send(_ delivery: OutboxDelivery, to endpoint: WebhookEndpoint.Configuration) -> Attempt {
        let now = Date()
        let request = WebhookRequest.make(delivery, endpoint: endpoint, timestamp: Int(now.timeIntervalSince1970), signer: self.signer(for: endpoint))
        let result: DeliveryAttemptResult
        let started = ContinuousClock.now
        do {
            let response = try self.client.get().perform(request)
            result = .response(status: response.status, retryAfter: response.header("Retry-After"))
        } catch {
            result = .transportError(error)
        }
        let requestDuration = ContinuousClock.now - started
        // Retry-After and the backoff count from the answer, not from when the request left: a
        // slow receiver must not eat into the wait it asked for.
        let answeredAt = Date()
        var random = SystemRandomNumberGenerator()
        let decision = DeliveryRetryPolicy(endpoint).decide(
            result,
            attempts: delivery.attempts,
            age: .milliseconds(Int64(now.timeIntervalSince(delivery.createdAt) * 1000)),
            now: answeredAt,
            random: &random
        )
        let status: Int? = if case .response(let status, _) = result { status } else { nil }
        let outcome: WebhookDispatcher.AttemptResult = switch decision {
        case .delivered: .delivered
        case .retry: .retry
        case .dead: .dead
        }
        self.metrics(delivery.endpoint).record(delivery, result: outcome, requestDuration: requestDuration, now: answeredAt)
        return Attempt(decision: decision, status: status, requestDuration: requestDuration, answeredAt: answeredAt)
    }

    /// A delivery dead without an attempt (its endpoint is no longer configured), in the metrics.
    public func recordDeadWithoutAttempt(_ delivery: OutboxDelivery) {
        self.metrics(delivery.endpoint).record(delivery, result: .dead, requestDuration: nil)
    }

    /// The endpoint's signer for its current secret (a reload may change it).
    private func signer(for endpoint: WebhookEndpoint.Configuration) -> WebhookSignature.Signer? {
        guard let secret = endpoint.secret else { return nil }
        if let signer = self.signers[endpoint.name], signer.secret == secret { return signer }
        let signer = WebhookSignature.Signer(secret: secret)
        self.signers[endpoint.name] = signer
        return signer
    }
}
