@testable import AMIProtocol
import Testing

/// Reconnect delays, exact: the random draw is injected, so each delay is a known number.
@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
    /// Powers of two and a jitter of one half: every delay below is exact in binary floating point.
    static let configuration = ReconnectBackoff.Configuration(
        initialDelay: .seconds(1),
        maximumDelay: .seconds(20),
        multiplier: 2,
        jitter: 0.5,
        loginRejectedDelay: .seconds(90)
    )

    static let lostSocket = AMIError(.connectionClosed, "the peer closed the connection")

    @Test("unitRandom 0 gives the full delay: doubling from the initial delay up to the cap")
    func fullDelays() {
        var backoff = ReconnectBackoff(configuration: Self.configuration)
        let delays = (0..<8).map { _ in backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0) }
        #expect(delays == [1, 2, 4, 8, 16, 20, 20, 20].map { Duration.seconds($0) })
        #expect(backoff.failedAttempts == 8)
    }

    @Test("unitRandom 1 gives delay × (1 − jitter)")
    func fullyJitteredDelays() {
        var backoff = ReconnectBackoff(configuration: Self.configuration)
        let delays = (0..<7).map { _ in backoff.delayAfterFailure(Self.lostSocket, unitRandom: 1) }
        #expect(delays == [500, 1000, 2000, 4000, 8000, 10_000, 10_000].map { Duration.milliseconds($0) })
    }

    @Test("a draw in between scales the jitter linearly", arguments: [(0.25, 875), (0.5, 750), (0.75, 625)])
    func partialJitter(unitRandom: Double, milliseconds: Int) {
        var backoff = ReconnectBackoff(configuration: Self.configuration)
        #expect(backoff.delayAfterFailure(Self.lostSocket, unitRandom: unitRandom) == .milliseconds(milliseconds))
    }

    @Test("a draw outside 0...1 is clamped", arguments: [(-3.0, 1000), (7.0, 500), (Double.infinity, 500)])
    func clampedDraw(unitRandom: Double, milliseconds: Int) {
        var backoff = ReconnectBackoff(configuration: Self.configuration)
        #expect(backoff.delayAfterFailure(Self.lostSocket, unitRandom: unitRandom) == .milliseconds(milliseconds))
    }

    @Test("the documented defaults: 500 ms doubling to a 30 s cap, 20 % jitter")
    func defaults() {
        var full = ReconnectBackoff()
        #expect((0..<8).map { _ in full.delayAfterFailure(Self.lostSocket, unitRandom: 0) }
            == [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000].map { Duration.milliseconds($0) })
        var jittered = ReconnectBackoff()
        #expect((0..<7).map { _ in jittered.delayAfterFailure(Self.lostSocket, unitRandom: 1) }
            == [400, 800, 1600, 3200, 6400, 12_800, 24_000].map { Duration.milliseconds($0) })
    }

    @Test("another multiplier grows by that factor")
    func otherMultiplier() {
        var configuration = Self.configuration
        configuration.multiplier = 3
        configuration.maximumDelay = .seconds(60)
        var backoff = ReconnectBackoff(configuration: configuration)
        #expect((0..<5).map { _ in backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0) }
            == [1, 3, 9, 27, 60].map { Duration.seconds($0) })
    }

    @Test("a long outage stays at the cap")
    func longOutage() {
        var backoff = ReconnectBackoff(configuration: Self.configuration)
        for _ in 0..<1_000 { _ = backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0) }
        #expect(backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0) == .seconds(20))
        #expect(backoff.delayAfterFailure(Self.lostSocket, unitRandom: 1) == .seconds(10))
    }

    @Test("a good login starts the next outage from the initial delay")
    func resetAfterLogin() {
        var backoff = ReconnectBackoff(configuration: Self.configuration)
        for _ in 0..<4 { _ = backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0) }
        backoff.loggedIn()
        #expect(backoff.failedAttempts == 0)
        #expect(backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0) == .seconds(1))
        #expect(backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0) == .seconds(2))
    }

    @Test("a rejected login waits loginRejectedDelay, unjittered, and does not advance the exponent")
    func loginRejected() {
        var backoff = ReconnectBackoff(configuration: Self.configuration)
        let rejected = AMIError(.loginRejected, "Asterisk rejected the login")
        _ = backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0)
        _ = backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0)

        #expect(backoff.delayAfterFailure(rejected, unitRandom: 0) == .seconds(90))
        #expect(backoff.delayAfterFailure(rejected, unitRandom: 1) == .seconds(90))
        #expect(backoff.failedAttempts == 2)
        // The ordinary sequence carries on where it was: 1 s, 2 s, then 4 s.
        #expect(backoff.delayAfterFailure(Self.lostSocket, unitRandom: 0) == .seconds(4))
    }

    @Test("every other failure reason follows the exponential sequence", arguments: [
        AMIError.Code.connectFailed, .bannerTimeout, .loginTimeout, .pingTimeout, .serverShutdown, .eventBufferOverflow,
    ])
    func otherReasons(code: AMIError.Code) {
        var backoff = ReconnectBackoff(configuration: Self.configuration)
        let error = AMIError(code, "failed")
        #expect(backoff.delayAfterFailure(error, unitRandom: 0) == .seconds(1))
        #expect(backoff.delayAfterFailure(error, unitRandom: 0) == .seconds(2))
    }

    @Test("a jittered delay that is a whole number of milliseconds comes out exact")
    func jitteredDelayIsExact() {
        var configuration = Self.configuration
        configuration.initialDelay = .milliseconds(300)
        configuration.jitter = 0.25
        var backoff = ReconnectBackoff(configuration: configuration)
        // 300 ms × (1 − 0.25) = 225 ms.
        let delay = backoff.delayAfterFailure(Self.lostSocket, unitRandom: 1)
        #expect(delay == .milliseconds(225))
    }
}
