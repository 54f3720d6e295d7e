import Foundation

/// What one delivery thread keeps between requests, and the one thing it does: send a delivery
/// to its endpoint and decide what follows. Its libcurl handle keeps connections open, its keyed
/// HMACs and metric handles are made once per endpoint. Both the outbox's ``WebhookDispatcher``
/// (which runs the request itself, beside others, between ``request(for:to:at:)`` and
/// ``conclude(_:to:result:sentAt:requestDuration:)``) and the event-log deliverer (`amibridge
/// deliver`, with the blocking ``send(_:to:)``) go through it, so a webhook is the same request,
/// signed the same way, retried by the same policy, whichever feeds it.
///
/// Not thread-safe: one per thread.
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

    /// Made on the first blocking ``send(_:to:)`` (the outbox's dispatcher sends through a
    /// ``CurlMultiClient`` and only prepares and concludes here).
    private lazy var client = Result { () throws(CurlError) in try CurlHTTPClient() }
    private var signers: [String: WebhookSignature.Signer] = [:]
    private var metrics = WebhookDispatcher.AttemptMetricsCache()

    public init() {}

    /// Sends `delivery` (its `attempts` counting this one), blocking this thread, and records the
    /// attempt in the `amibridge_webhook_*` metrics.
    public func send(_ delivery: OutboxDelivery, to endpoint: WebhookEndpoint.Configuration) -> Attempt {
        let sentAt = Date()
        let request = self.request(for: delivery, to: endpoint, at: sentAt)
        let started = ContinuousClock.now
        let result = DeliveryAttemptResult(Result { () throws(CurlError) in try self.client.get().perform(request) })
        return self.conclude(delivery, to: endpoint, result: result, sentAt: sentAt, requestDuration: ContinuousClock.now - started)
    }

    /// The request for an attempt at `delivery`, signed at `now`.
    func request(for delivery: OutboxDelivery, to endpoint: WebhookEndpoint.Configuration, at now: Date) -> CurlHTTPRequest {
        WebhookRequest.make(delivery, endpoint: endpoint, timestamp: Int(now.timeIntervalSince1970), signer: self.signer(for: endpoint))
    }

    /// What follows an attempt that left at `sentAt` and ended with `result`: the retry policy's
    /// decision, recorded in the metrics.
    func conclude(
        _ delivery: OutboxDelivery, to endpoint: WebhookEndpoint.Configuration, result: DeliveryAttemptResult, sentAt: Date,
        requestDuration: Duration
    ) -> Attempt {
        // Retry-After and the backoff count from the answer, not from when the request left: a
        // slow receiver must not eat into the wait it asked for.
        let answeredAt = Date()
        var random = SystemRandomNumberGenerator()
        let decision = DeliveryRetryPolicy(endpoint).decide(
            result,
            attempts: delivery.attempts,
            age: .milliseconds(Int64(sentAt.timeIntervalSince(delivery.createdAt) * 1000)),
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
