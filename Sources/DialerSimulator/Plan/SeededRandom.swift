import Foundation

/// SplitMix64: a small seeded generator, so one `--seed` replays the same traffic (outcomes,
/// timings, leads) and tests can plan calls they can predict.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `range` (seconds of a timing).
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        Double.random(in: range, using: &self)
    }

    /// Seconds until the next arrival of a Poisson process with `rate` per second.
    mutating func exponential(rate: Double) -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        return -log(u) / rate
    }
}
