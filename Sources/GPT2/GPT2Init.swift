extension GPT2Model {
    /// Fills the parameters with Hugging Face's GPT-2 initialisation, reproducibly from `seed`:
    /// weights and embeddings ~ N(0, 0.02²); the residual projections (`attn.c_proj.weight`,
    /// `mlp.c_proj.weight`) ~ N(0, (0.02/sqrt(2·n_layer))²); biases 0; LayerNorm weight 1, bias 0.
    public func initializeRandomly(seed: UInt64) {
        var rng = SeededNormal(seed: seed)
        let residualStd = 0.02 / Double(2 * config.nLayer).squareRoot()
        for tensor in layout.tensors {
            let p = parameters.base + tensor.offset
            if tensor.name.hasSuffix(".bias") {
                p.update(repeating: 0, count: tensor.count)
            } else if tensor.name.hasPrefix("ln_") || tensor.name.contains(".ln_") {
                p.update(repeating: 1, count: tensor.count)
            } else {
                let std = tensor.name.hasSuffix("c_proj.weight") ? residualStd : 0.02
                for i in 0..<tensor.count { p[i] = Float(rng.next() * std) }
            }
        }
    }
}
