import Foundation
import Kernels

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
        return splitMix64(state)
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
