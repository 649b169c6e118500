// Lane-wise operations Swift's SIMD types lack a vector instruction for.
//
// Swift's `SIMD16<Float>.squareRoot()` takes one scalar square root per lane, each with a libm
// call for negative inputs (errno). clang's element-wise builtin is one `vsqrtps` on AVX-512
// (two on AVX2, four `sqrtps` on baseline x86-64), correctly rounded like the scalar root.
// `ext_vector_type(16)` imports as `SIMD16<Float>`; the function is inlined into Swift callers.
#ifndef DPO_DDP_CLANEMATH_SHIM_H
#define DPO_DDP_CLANEMATH_SHIM_H

typedef float dpo_lane_float16 __attribute__((ext_vector_type(16)));

/// The square root of every lane.
static inline __attribute__((always_inline)) dpo_lane_float16 dpo_lane_sqrt16(dpo_lane_float16 x) {
    return __builtin_elementwise_sqrt(x);
}

#endif
