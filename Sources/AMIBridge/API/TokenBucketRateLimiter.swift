import NIOConcurrencyHelpers

/// Per-key token buckets: each key may burst up to `perMinute` requests, then gets one more every
/// `60 / perMinute` seconds.
///
/// The clock is injected (`now`), so tests move time instead of sleeping. Buckets that have refilled
/// completely are dropped, so revoked or idle keys do not grow the table forever.
final class TokenBucketRateLimiter: Sendable {
    /// The answer for one request.
    enum Decision: Equatable {
        case allowed
        /// Whole seconds until one token is back, at least 1: what `Retry-After` says.
        case limited(retryAfterSeconds: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let perMinute: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    init(perMinute: Int, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        precondition(perMinute > 0, "perMinute must be positive")
        self.perMinute = perMinute
        self.now = now
    }

    private var tokensPerSecond: Double { Double(perMinute) / 60 }

    func acquire(key: String) -> Decision {
        let now = self.now()
        let capacity = Double(perMinute)
        let rate = tokensPerSecond
        return buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = bucket.updated.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(capacity, bucket.tokens + max(0, seconds) * rate)
            bucket.updated = max(bucket.updated, now)
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                // The epsilon keeps float noise (10.0000001 s) from adding a whole second.
                return .limited(retryAfterSeconds: max(1, Int(((1 - bucket.tokens) / rate - 1e-6).rounded(.up))))
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            if buckets.count > 10_000 { Self.dropFull(&buckets, capacity: capacity, rate: rate, now: now) }
            return .allowed
        }
    }

    private static func dropFull(_ buckets: inout [String: Bucket], capacity: Double, rate: Double, now: ContinuousClock.Instant) {
        let refill = Duration.seconds(capacity / rate)
        buckets = buckets.filter { $0.value.updated.advanced(by: refill) > now }
    }
}
