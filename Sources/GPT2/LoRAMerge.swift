import Kernels

extension LoRAAdapter {
    /// Adds the adapter to the base weights of `model` (a model of the same shape), as PEFT's
    /// `merge_and_unload` does for `fan_in_fan_out` layers: W += scaling · (B A)ᵀ for every
    /// adapted layer, i.e. W[in, out] += scaling · Aᵀ[in, r] Bᵀ[r, out], one product per layer.
    /// The merged model without an adapter then computes what the base with this adapter does.
    public func merge(into model: GPT2Model) {
        precondition(model.config == config, "merge: an adapter for \(config.shapeDescription) into a model with "
            + model.config.shapeDescription)
        let w = model.parameters.base, q = parameters.base, r = settings.rank
        for (l, block) in layout.blocks.enumerated() {
            for layer in block.layers {
                Float.gemm(transA: true, transB: true, m: layer.inFeatures, n: layer.outFeatures, k: r,
                           alpha: settings.scaling, a: q + layer.a, lda: layer.inFeatures, b: q + layer.b, ldb: r,
                           beta: 1, c: w + model.layout.blocks[l].weight(of: layer.layer), ldc: layer.outFeatures)
            }
        }
        model.baseWeightsChanged()
    }
}
