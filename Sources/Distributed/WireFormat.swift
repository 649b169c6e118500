/// How float gradients travel between ranks in the gradient reductions.
public enum WireFormat: String, Codable, CaseIterable, Sendable {
    /// float32: 4 bytes per element; sums as exact as float32 allows.
    case fp32
    /// bfloat16: 2 bytes per element, half the traffic. Each rank's values are rounded to bf16
    /// (nearest even), every addition of the reduction is done in float32 and rounded back to bf16,
    /// and the result is widened to float32 (llm.c's multi-GPU bf16 reductions, through NCCL, work
    /// the same way). About 3 significant decimal digits: gradient noise is far larger.
    case bf16

    /// Bytes per element on the wire.
    public var bytesPerElement: Int { self == .fp32 ? 4 : 2 }
}
