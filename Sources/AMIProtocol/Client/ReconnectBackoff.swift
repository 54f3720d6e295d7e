/// How long to wait before the next connection attempt: capped exponential backoff with jitter,
/// back to the start after a good login, and a slow fixed cadence after a rejected login (retrying
/// a wrong secret quickly only fills Asterisk's security log and may get the address banned).
///
/// Pure: the caller sleeps; the random source is injected so tests see exact delays.
public struct ReconnectBackoff: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var initialDelay: Duration
        public var maximumDelay: Duration
        public var multiplier: Double
        /// Each delay is drawn from `[delay × (1 − jitter), delay]`, so a cluster of bridges
        /// restarted together does not reconnect in lockstep.
        public var jitter: Double
        public var loginRejectedDelay: Duration

        public init(
            initialDelay: Duration = .milliseconds(500),
            maximumDelay: Duration = .seconds(30),
            multiplier: Double = 2,
            jitter: Double = 0.2,
            loginRejectedDelay: Duration = .seconds(60)
        ) {
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
            self.multiplier = multiplier
            self.jitter = jitter
            self.loginRejectedDelay = loginRejectedDelay
        }
    }

    public let configuration: Configuration
    public private(set) var failedAttempts = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// A login succeeded: the next outage starts again from the initial delay.
    public mutating func loggedIn() {
        failedAttempts = 0
    }

    /// The connection failed or ended; returns how long to wait before trying again.
    /// `unitRandom` is a number in `0...1`.
    public mutating func delayAfterFailure(_ error: AMIError, unitRandom: Double) -> Duration {
        if error.code == .loginRejected {
            return configuration.loginRejectedDelay
        }
        let exponent = Double(failedAttempts)
        failedAttempts += 1
        let initial = configuration.initialDelay.seconds
        let capped = min(initial * pow(configuration.multiplier, exponent), configuration.maximumDelay.seconds)
        let jittered = capped * (1 - configuration.jitter * min(max(unitRandom, 0), 1))
        return .nanoseconds(Int64((jittered * 1e9).rounded()))
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    // Small integral exponents only; avoids importing Foundation into the protocol module.
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 && result < 1e12 {
        result *= base
        remaining -= 1
    }
    return result
}
