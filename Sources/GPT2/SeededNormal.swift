import Foundation

/// A small, seedable generator of standard normal samples (SplitMix64 + Box-Muller).
///
/// Deterministic across platforms and runs for a given seed, so a model initialised from a named
/// size and a seed is the same everywhere; its state is two integers, easy to checkpoint.
public struct SeededNormal: Sendable {
    private var state: UInt64
    private var spare: Double?

    /// A generator whose stream is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits (SplitMix64).
    public mutating func nextBits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform sample in (0, 1).
    public mutating func nextUniform() -> Double {
        (Double(nextBits() >> 11) + 0.5) * 0x1p-53
    }

    /// A standard normal sample.
    public mutating func next() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u1 = nextUniform(), u2 = nextUniform()
        let r = (-2 * log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spare = r * sin(theta)
        return r * cos(theta)
    }
}
