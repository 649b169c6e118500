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

/// AdamW over one flat parameter buffer, or a contiguous range of it, with PyTorch's semantics
/// (`foreach=False` path):
///
///     θ ← θ·(1 − lr·λ)                  (only tensors whose `decays` is true)
///     m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
///     θ ← θ − (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + ε)
///
/// Each element's update depends only on that element, so optimisers over the ranges of a split
/// (ZeRO-1: one range per rank) together make exactly the update of one over the whole buffer;
/// weight decay follows each tensor's `decays` also where a range cuts through a tensor. The
/// moment buffers hold the range only, in parameter order.
public final class AdamW {
    /// Hyper-parameters (the learning rate is passed to each `step`, as a schedule sets it).
    public let settings: AdamWSettings
    /// The parameters this optimiser updates (all of them unless a range was given).
    public let range: Range<Int>
    /// First moments, one per parameter of `range`.
    public let m: FloatBuffer
    /// Second moments, one per parameter of `range`.
    public let v: FloatBuffer
    /// Number of steps taken (t in the bias corrections).
    public private(set) var stepCount: Int = 0
    private let parameterCount: Int
    /// The tensors' parts inside `range`, in parameter order, and whether each decays.
    private let pieces: [(elements: Range<Int>, decays: Bool)]
    /// Whether the tensors tile `range` (every element is updated, so a rounded copy is complete).
    private let piecesTileRange: Bool

    /// An optimiser for `range` (default: all) of parameters laid out as `layout` (a whole model's,
    /// or a LoRA adapter's); moments start at zero.
    public init(layout: any ParameterLayout, settings: AdamWSettings, range: Range<Int>? = nil) {
        let range = range ?? 0..<layout.count
        precondition(range.lowerBound >= 0 && range.upperBound <= layout.count, "AdamW: range \(range) of \(layout.count)")
        self.settings = settings
        self.range = range
        parameterCount = layout.count
        m = FloatBuffer(count: range.count)
        v = FloatBuffer(count: range.count)
        pieces = layout.tensors.sorted { $0.offset < $1.offset }
            .map { (($0.offset..<($0.offset + $0.count)).clamped(to: range), $0.decays) }.filter { !$0.elements.isEmpty }
        piecesTileRange = zip(pieces, pieces.dropFirst()).allSatisfy { $0.elements.upperBound == $1.elements.lowerBound }
            && pieces.first?.elements.lowerBound == range.lowerBound && pieces.last?.elements.upperBound == range.upperBound
    }

    /// Bytes of the two moment buffers.
    public var stateBytes: Int { (m.count + v.count) * MemoryLayout<Float>.size }

    /// Restores the state saved with a checkpoint: the moments of this optimiser's range (in
    /// parameter order) and the step count.
    public func restore(m: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>, stepCount: Int) {
        precondition(m.count == range.count && v.count == range.count, "AdamW.restore: size mismatch")
        self.m.base.update(from: m.baseAddress!, count: range.count)
        self.v.base.update(from: v.baseAddress!, count: range.count)
        self.stepCount = stepCount
    }

    /// Applies one update with learning rate `lr` to `range` of `parameters` from the same range
    /// of `gradients` (both hold every parameter), each gradient first multiplied by
    /// `gradientScale` (the clipping coefficient; the product is the one
    /// `clip_grad_norm_` stores, so fusing the two passes changes no bit). With
    /// `clearingGradients`, each gradient of `range` is set to zero once read (the next step's
    /// zeroing, free here: the pass is bound by its divisions, not by the extra stores). With
    /// `roundingInto` (a bfloat16 copy of every parameter), each updated parameter of `range` is also
    /// stored rounded there (`BFloat16.round`'s rounding): the copy a bf16 model's next forward pass
    /// would otherwise round in a pass of its own.
    public func step(parameters: FloatBuffer, gradients: FloatBuffer, learningRate lr: Float, gradientScale: Float = 1,
                     clearingGradients: Bool = false, roundingInto copy: UnsafeMutablePointer<UInt16>? = nil) {
        precondition(parameters.count == parameterCount && gradients.count == parameterCount, "AdamW.step: size mismatch")
        precondition(copy == nil || piecesTileRange, "AdamW.step: a rounded copy needs tensors that tile the range")
        stepCount += 1
        let t = Double(stepCount)
        let biasCorrection1 = 1 - Double(settings.beta1).pow(t)
        let biasCorrection2Sqrt = (1 - Double(settings.beta2).pow(t)).squareRoot()
        let stepSize = Float(Double(lr) / biasCorrection1)
        let decayFactor = 1 - lr * settings.weightDecay
        let update = Update(beta1: settings.beta1, beta2: settings.beta2, epsilon: settings.epsilon,
                            stepSize: stepSize, biasCorrection2Sqrt: Float(biasCorrection2Sqrt),
                            gradientScale: gradientScale, clearsGradients: clearingGradients,
                            p: parameters.base, g: gradients.base, m: m.base, v: v.base, momentOffset: range.lowerBound,
                            copy: copy)
        // One split of the whole range over the threads (not one per tensor: GPT-2 has 148, most
        // of them a few hundred values); each thread walks the tensors its part cuts through.
        let pieces = pieces
        parallelRanges(range.count, minimumPerThread: 1 << 16) { part in
            let elements = (range.lowerBound + part.lowerBound)..<(range.lowerBound + part.upperBound)
            for piece in pieces where piece.elements.overlaps(elements) {
                update.apply(blocksOf: piece.elements.clamped(to: elements), decayFactor: piece.decays ? decayFactor : 1)
            }
        }
    }
}

/// The element-wise AdamW update of one step, over any range of the flat buffers.
///
/// In SIMD lanes (unused lanes of the last chunk compute on zeros and are not stored): every lane
/// performs the scalar formula's IEEE operations in the scalar order (no fused multiply-add), so
/// the result is bit-identical to an element-by-element loop.
private struct Update {
    let beta1, beta2, epsilon, stepSize, biasCorrection2Sqrt, gradientScale: Float
    /// Whether each gradient is set to zero after it is read.
    let clearsGradients: Bool
    let p, g, m, v: UnsafeMutablePointer<Float>
    /// The parameter index of the first moment element.
    let momentOffset: Int
    /// Where each updated parameter is also stored rounded to bfloat16, if anywhere.
    let copy: UnsafeMutablePointer<UInt16>?

    /// Updates `elements` (parameter indices) on the calling thread, sixteen at a time. Each
    /// element is independent, so how a range is split never changes a value.
    func apply(_ elements: Range<Int>, decayFactor: Float) {
        for (i, n) in chunks(of: SIMD16<Float>.self, in: elements) {
            let k = i - momentOffset
            let grad = SIMD16(loadingFrom: g + i, count: n, padding: 0) * gradientScale
            if clearsGradients { SIMD16<Float>().store(to: g + i, count: n) }
            var param = SIMD16(loadingFrom: p + i, count: n, padding: 0)
            if decayFactor != 1 { param *= decayFactor }
            let first = beta1 * SIMD16(loadingFrom: m + k, count: n, padding: 0) + (1 - beta1) * grad
            let second = beta2 * SIMD16(loadingFrom: v + k, count: n, padding: 0) + (1 - beta2) * grad * grad
            let denom = vectorSquareRoot(second) / biasCorrection2Sqrt + epsilon
            param -= stepSize * (first / denom)
            first.store(to: m + k, count: n)
            second.store(to: v + k, count: n)
            param.store(to: p + i, count: n)
        }
    }

    /// `apply` in blocks, each block's new parameters rounded into `copy` (when given) while in cache.
    func apply(blocksOf elements: Range<Int>, decayFactor: Float) {
        guard let copy else { return apply(elements, decayFactor: decayFactor) }
        for start in stride(from: elements.lowerBound, to: elements.upperBound, by: Self.roundingBlock) {
            let block = start..<min(start + Self.roundingBlock, elements.upperBound)
            apply(block, decayFactor: decayFactor)
            BFloat16.roundOnThisThread(p + block.lowerBound, into: copy + block.lowerBound, count: block.count)
        }
    }

    /// Parameters updated before their block is rounded (16 KB of float32: still in cache then).
    static let roundingBlock = 4096
}

private extension Double {
    func pow(_ e: Double) -> Double { Foundation.pow(self, e) }
}
