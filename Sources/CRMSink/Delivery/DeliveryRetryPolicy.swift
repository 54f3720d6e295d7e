import Foundation

/// What one attempt got back, as far as retrying is concerned.
public enum DeliveryAttemptResult: Sendable, Equatable {
    /// An HTTP answer, with its `Retry-After` header if any.
    case response(status: Int, retryAfter: String?)
    /// No answer: refused, timed out, TLS failure... (a ``CurlError``).
    case transportError(CurlError)

    /// What a request's answer (or its absence) means for the policy.
    public init(_ answer: Result<CurlHTTPResponse, CurlError>) {
        switch answer {
        case .success(let response): self = .response(status: response.status, retryAfter: response.header("Retry-After"))
        case .failure(let error): self = .transportError(error)
        }
    }
}

/// Decides, without I/O or clocks of its own, what follows an attempt: done, retry when, or
/// dead-letter. Time and randomness are passed in, so tests check exact schedules.
public struct DeliveryRetryPolicy: Sendable {
    public enum Decision: Sendable, Equatable {
        case delivered
        case retry(after: Duration, reason: String)
        case dead(reason: String)
    }

    public var maxAttempts: Int
    public var maxAge: Duration
    public var backoffInitial: Duration
    public var backoffCap: Duration

    public init(maxAttempts: Int, maxAge: Duration, backoffInitial: Duration, backoffCap: Duration) {
        self.maxAttempts = maxAttempts
        self.maxAge = maxAge
        self.backoffInitial = backoffInitial
        self.backoffCap = backoffCap
    }

    public init(_ endpoint: WebhookEndpoint.Configuration) {
        self.init(
            maxAttempts: endpoint.maxAttempts,
            maxAge: endpoint.maxAge,
            backoffInitial: endpoint.backoffInitial,
            backoffCap: endpoint.backoffCap
        )
    }

    /// - Parameters:
    ///   - attempts: attempts made so far, this one included.
    ///   - age: time since the event entered the outbox.
    ///   - now: for a `Retry-After` given as an HTTP date.
    public func decide(
        _ result: DeliveryAttemptResult,
        attempts: Int,
        age: Duration,
        now: Date,
        random: inout some RandomNumberGenerator
    ) -> Decision {
        let reason: String
        var retryAfter: Duration?
        switch result {
        case .response(let status, let retryAfterHeader):
            switch status {
            case 200..<300:
                return .delivered
            case 408, 500..<600:
                reason = "HTTP \(status)"
            case 429:
                reason = "HTTP 429"
                retryAfter = retryAfterHeader.flatMap { Self.parseRetryAfter($0, now: now) }
            case 300..<400:
                return .dead(reason: "HTTP \(status): redirect not followed (set follow_redirects to follow it)")
            default:
                return .dead(reason: "HTTP \(status)")
            }
        case .transportError(let error):
            switch error.code {
            case .unsupportedProtocol, .malformedURL, .badFunctionArgument:
                return .dead(reason: error.description)
            default:
                reason = error.description
            }
        }
        guard attempts < self.maxAttempts else {
            return .dead(reason: "\(reason); gave up after \(attempts) attempts")
        }
        guard age < self.maxAge else {
            return .dead(reason: "\(reason); older than the maximum age")
        }
        return .retry(after: retryAfter ?? self.backoff(attempts: attempts, random: &random), reason: reason)
    }

    /// `initial × 2^(attempts-1)`, capped, then a uniformly random point in its upper half
    /// ("equal jitter"): never much shorter than planned, and retries of a burst spread out.
    public func backoff(attempts: Int, random: inout some RandomNumberGenerator) -> Duration {
        let initial = Self.nanoseconds(self.backoffInitial)
        let cap = Self.nanoseconds(self.backoffCap)
        let shift = min(max(attempts - 1, 0), 40)
        let planned = initial > (cap >> shift) ? cap : min(cap, initial << shift)
        let half = planned / 2
        return .nanoseconds(half + Int64.random(in: 0...(planned - half), using: &random))
    }

    /// `Retry-After` as delta-seconds or an HTTP date (RFC 9110); nil if neither.
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text) { return .seconds(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: text) else { return nil }
        return .milliseconds(max(0, Int64((date.timeIntervalSince(now) * 1000).rounded())))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
