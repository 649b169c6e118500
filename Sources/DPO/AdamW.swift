import Foundation
import GPT2
import Kernels

/// AdamW hyper-parameters, named as `torch.optim.AdamW` names them.
public struct AdamWSettings: Equatable, Sendable, Codable {
    /// Coefficient of the first-moment running average (`betas[0]`).
    public var beta1: Float
    /// Coefficient of the second-moment running average (`betas[1]`).
    public var beta2: Float
    /// Added to the bias-corrected root of the second moment (outside the square root).
    public var epsilon: Float
    /// Decoupled weight decay, applied as `θ ← θ·(1 − lr·λ)` to the tensors that decay.
    public var weightDecay: Float

    /// PyTorch's defaults except weight decay, which defaults to 0 as in Hugging Face Trainer.
    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// AdamW over one flat parameter buffer with PyTorch's semantics (`foreach=False` path):
///
///     θ ← θ·(1 − lr·λ)                  (only tensors whose `decays` is true)
///     m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
///     θ ← θ − (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + ε)
///
/// The moment buffers share the parameter layout, so a checkpoint stores them as two flat arrays.
public final class AdamW {
    /// Hyper-parameters (the learning rate is passed to each `step`, as a schedule sets it).
    public let settings: AdamWSettings
    /// First moments, one per parameter.
    public let m: FloatBuffer
    /// Second moments, one per parameter.
    public let v: FloatBuffer
    /// Number of steps taken (t in the bias corrections).
    public private(set) var stepCount: Int = 0
    private let decayRanges: [Range<Int>]
    private let plainRanges: [Range<Int>]

    /// An optimiser for parameters laid out as `layout`; moments start at zero.
    public init(layout: GPT2Layout, settings: AdamWSettings) {
        self.settings = settings
        m = FloatBuffer(count: layout.count)
        v = FloatBuffer(count: layout.count)
        decayRanges = layout.tensors.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
        plainRanges = layout.tensors.filter { !$0.decays }.map { $0.offset..<($0.offset + $0.count) }
    }

    /// Restores the state saved with a checkpoint (moments and step count).
    public func restore(m: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>, stepCount: Int) {
        precondition(m.count == self.m.count && v.count == self.v.count, "AdamW.restore: size mismatch")
        self.m.base.update(from: m.baseAddress!, count: m.count)
        self.v.base.update(from: v.baseAddress!, count: v.count)
        self.stepCount = stepCount
    }

    /// Applies one update with learning rate `lr` to `parameters` from `gradients`.
    public func step(parameters: FloatBuffer, gradients: FloatBuffer, learningRate lr: Float) {
        precondition(parameters.count == m.count && gradients.count == m.count, "AdamW.step: size mismatch")
        stepCount += 1
        let t = Double(stepCount)
        let biasCorrection1 = 1 - Double(settings.beta1).pow(t)
        let biasCorrection2Sqrt = (1 - Double(settings.beta2).pow(t)).squareRoot()
        let stepSize = Float(Double(lr) / biasCorrection1)
        let decayFactor = 1 - lr * settings.weightDecay
        let update = Update(beta1: settings.beta1, beta2: settings.beta2, epsilon: settings.epsilon,
                            stepSize: stepSize, biasCorrection2Sqrt: Float(biasCorrection2Sqrt),
                            p: parameters.base, g: gradients.base, m: m.base, v: v.base)
        for range in decayRanges { update.apply(range, decayFactor: decayFactor) }
        for range in plainRanges { update.apply(range, decayFactor: 1) }
    }
}

/// The element-wise AdamW update of one step, over any range of the flat buffers.
private struct Update {
    let beta1, beta2, epsilon, stepSize, biasCorrection2Sqrt: Float
    let p, g, m, v: UnsafeMutablePointer<Float>

    /// Updates `range`, split across the kernel threads (each element is independent, so the
    /// result does not depend on the split).
    func apply(_ range: Range<Int>, decayFactor: Float) {
        parallelRanges(range.count, minimumPerThread: 1 << 16) { part in
            for i in (range.lowerBound + part.lowerBound)..<(range.lowerBound + part.upperBound) {
                let grad = g[i]
                if decayFactor != 1 { p[i] *= decayFactor }
                m[i] = beta1 * m[i] + (1 - beta1) * grad
                v[i] = beta2 * v[i] + (1 - beta2) * grad * grad
                let denom = v[i].squareRoot() / biasCorrection2Sqrt + epsilon
                p[i] -= stepSize * (m[i] / denom)
            }
        }
    }
}

private extension Double {
    func pow(_ e: Double) -> Double { Foundation.pow(self, e) }
}
