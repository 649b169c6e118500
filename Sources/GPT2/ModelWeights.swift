import Kernels

/// A model's parameters and, while some model runs them with bfloat16 matmuls, their bfloat16
/// copy. Models that share weights (`GPT2Model(sharingWeightsOf:adapter:)`: the LoRA reference
/// runs on the policy's frozen base) share this object, so neither the float32 nor the bfloat16
/// copy exists twice.
final class ModelWeights {
    /// All parameters, in `GPT2Layout` order.
    let parameters: FloatBuffer
    /// The bfloat16 copy, while `bf16Users` > 0; rounded by `roundIfStale()`.
    private(set) var rounded: UnsafeMutablePointer<UInt16>?
    private var roundedIsCurrent = false
    /// Models with `bf16` on that run on these weights.
    private var bf16Users = 0

    /// Zeroed parameters of `count` elements.
    init(count: Int) { parameters = FloatBuffer(count: count) }

    deinit { rounded?.deallocate() }

    /// A model turned `bf16` on (`true`) or off: the copy exists while one model uses it.
    func useBF16(_ on: Bool) {
        bf16Users += on ? 1 : -1
        if bf16Users > 0, rounded == nil {
            rounded = .allocate(capacity: parameters.count)
            roundedIsCurrent = false
        } else if bf16Users == 0 {
            rounded?.deallocate()
            rounded = nil
        }
    }

    /// Rounds the parameters into the copy if they changed since it was last rounded.
    func roundIfStale() {
        guard let rounded, !roundedIsCurrent else { return }
        BFloat16.round(parameters.base, into: rounded, count: parameters.count)
        roundedIsCurrent = true
    }

    /// The parameters were written: the copy is rounded again before its next use.
    func changed() { roundedIsCurrent = false }

    /// The parameters were written and, by the writer, every one of them rounded into `rounded`.
    func changedAndRounded() { roundedIsCurrent = rounded != nil }
}
