// Lane-wise operations Swift's SIMD types lack a vector instruction for. Swift's
// `SIMD8<Float>.squareRoot()` runs one scalar square root per lane, each with a libm call for
// negative inputs (errno); clang's element-wise builtin is one `vsqrtps` (two `sqrtps` on baseline
// x86-64), correctly rounded like the scalar one. `ext_vector_type(8)` imports as `SIMD8<Float>`;
// the functions are inlined into the Swift callers.
#ifndef DPO_DDP_CLANEMATH_SHIM_H
#define DPO_DDP_CLANEMATH_SHIM_H

typedef float dpo_lane_float8 __attribute__((ext_vector_type(8)));

/// The square root of every lane.
static inline __attribute__((always_inline)) dpo_lane_float8 dpo_lane_sqrt8(dpo_lane_float8 x) {
    return __builtin_elementwise_sqrt(x);
}

#endif
