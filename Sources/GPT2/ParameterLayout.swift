/// Where named tensors live in one flat buffer: what the optimiser, the gradient reduction and
/// checkpoints need to know about the parameters they work on, whether they are the whole model's
/// (`GPT2Layout`) or a LoRA adapter's (`LoRALayout`).
public protocol ParameterLayout: Sendable {
    /// Every tensor in buffer order.
    var tensors: [ParameterTensor] { get }
    /// Total number of elements.
    var count: Int { get }
}

extension GPT2Layout: ParameterLayout {}
