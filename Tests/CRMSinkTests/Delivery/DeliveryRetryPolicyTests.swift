import CRMSink
import Foundation
import Testing

/// Retry decisions as input → decision, with a seeded random source.
@Suite struct DeliveryRetryPolicyTests {
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    let policy = DeliveryRetryPolicy(maxAttempts: 5, maxAge: .seconds(3600), backoffInitial: .seconds(1), backoffCap: .seconds(60))
    let now = Date(timeIntervalSince1970: 1_768_487_520)

    func decide(_ result: DeliveryAttemptResult, attempts: Int = 1, age: Duration = .seconds(1)) -> DeliveryRetryPolicy.Decision {
        var random = SeededRandom(state: 7)
        return self.policy.decide(result, attempts: attempts, age: age, now: self.now, random: &random)
    }

    func isRetry(_ decision: DeliveryRetryPolicy.Decision) -> Bool {
        if case .retry = decision { return true }
        return false
    }

    func isDead(_ decision: DeliveryRetryPolicy.Decision) -> Bool {
        if case .dead = decision { return true }
        return false
    }

    @Test(arguments: [200, 201, 202, 204, 299])
    func successIsDelivered(status: Int) {
        #expect(self.decide(.response(status: status, retryAfter: nil)) == .delivered)
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504, 599])
    func transientStatusesAreRetried(status: Int) {
        #expect(self.isRetry(self.decide(.response(status: status, retryAfter: nil))))
    }

    @Test(arguments: [301, 302, 400, 401, 403, 404, 410, 422])
    func otherStatusesAreDeadAtOnce(status: Int) {
        #expect(self.isDead(self.decide(.response(status: status, retryAfter: nil))))
    }

    @Test func connectionErrorsAndTimeoutsAreRetriedButABadURLIsNot() {
        #expect(self.isRetry(self.decide(.transportError(CurlError(code: .couldNotConnect, message: "refused")))))
        #expect(self.isRetry(self.decide(.transportError(CurlError(code: .operationTimedOut, message: "timeout")))))
        #expect(self.isDead(self.decide(.transportError(CurlError(code: .unsupportedProtocol, message: "ftp")))))
    }

    @Test func retryAfterIsHonouredInSecondsAndAsADate() {
        #expect(self.decide(.response(status: 429, retryAfter: "7")) == .retry(after: .seconds(7), reason: "HTTP 429"))
        let date = "Thu, 15 Jan 2026 14:32:30 GMT" // 30 s after `now`
        #expect(self.decide(.response(status: 429, retryAfter: date)) == .retry(after: .seconds(30), reason: "HTTP 429"))
    }

    @Test func theLastAttemptAndTheMaximumAgeDeadLetter() {
        #expect(self.isRetry(self.decide(.response(status: 500, retryAfter: nil), attempts: 4)))
        #expect(self.isDead(self.decide(.response(status: 500, retryAfter: nil), attempts: 5)))
        #expect(self.isDead(self.decide(.response(status: 500, retryAfter: nil), age: .seconds(3600))))
    }

    @Test func backoffDoublesWithinItsUpperHalfAndStopsAtTheCap() {
        var random = SeededRandom(state: 1)
        for attempts in 1...12 {
            let planned = min(Duration.seconds(60), .seconds(1) * (1 << (attempts - 1)))
            for _ in 0..<50 {
                let delay = self.policy.backoff(attempts: attempts, random: &random)
                #expect(delay >= planned / 2 && delay <= planned, "attempt \(attempts): \(delay)")
            }
        }
        // Jitter: a burst of failures does not retry in lockstep.
        let delays = Set((0..<20).map { _ in self.policy.backoff(attempts: 3, random: &random) })
        #expect(delays.count > 10)
    }
}
