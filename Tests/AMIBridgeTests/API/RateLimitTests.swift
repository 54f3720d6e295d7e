@testable import AMIBridge
import Hummingbird
import HummingbirdTesting
import Testing

/// The per-key token bucket, driven by the injected clock: no sleeps.
@Suite("API rate limit")
struct RateLimitTests {
    @Test("the 101st request within a minute is 429 with Retry-After; time brings tokens back")
    func hundredPerMinute() async throws {
        let environment = try APITestEnvironment()
        defer { environment.remove() }
        let key = try environment.store.create(name: "crm")
        let other = try environment.store.create(name: "other")
        try await environment.application().test(.router) { client in
            for _ in 0..<100 {
                let status = try await client.execute(uri: "/v1/ping", method: .get, headers: APITestEnvironment.bearer(key.text)) { $0.status }
                #expect(status == .ok)
            }
            try await client.execute(uri: "/v1/ping", method: .get, headers: APITestEnvironment.bearer(key.text)) { response in
                #expect(response.status == .tooManyRequests)
                // One token comes back every 0.6 s: rounded up, 1 second.
                #expect(response.headers[.retryAfter] == "1")
                #expect(APIErrorBody.decode(response.body)?.error.code == "rate_limited")
            }
            // The limit is per key: another key is untouched.
            #expect(try await client.execute(uri: "/v1/ping", method: .get, headers: APITestEnvironment.bearer(other.text)) { $0.status } == .ok)

            environment.clock.advance(by: .milliseconds(600))
            #expect(try await client.execute(uri: "/v1/ping", method: .get, headers: APITestEnvironment.bearer(key.text)) { $0.status } == .ok)
            #expect(try await client.execute(uri: "/v1/ping", method: .get, headers: APITestEnvironment.bearer(key.text)) { $0.status } == .tooManyRequests)
        }
    }

    @Test("Retry-After grows when tokens come back slowly")
    func retryAfterFollowsRate() {
        let clock = TestClock()
        let limiter = TokenBucketRateLimiter(perMinute: 2, now: { clock.now })
        #expect(limiter.acquire(key: "a") == .allowed)
        #expect(limiter.acquire(key: "a") == .allowed)
        #expect(limiter.acquire(key: "a") == .limited(retryAfterSeconds: 30))
        clock.advance(by: .seconds(20))
        #expect(limiter.acquire(key: "a") == .limited(retryAfterSeconds: 10))
        clock.advance(by: .seconds(10))
        #expect(limiter.acquire(key: "a") == .allowed)
    }
}
