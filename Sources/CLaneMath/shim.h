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

/// float32 bit patterns to bfloat16 ones, as `BFloat16.rounded` documents: add 0x7FFF plus the
/// lowest kept bit and keep the high half (round to nearest, ties to even); a NaN keeps its sign and
/// top payload bits with the quiet bit set. Swift's `SIMD16<UInt16>(truncatingIfNeeded:)` of a
/// `SIMD16<UInt32>` compiles to 128-bit pieces packed with saturation (~40 instructions per 16
/// values on AVX-512); clang's element-wise conversion is one `vpmovdw`, and the comparison one
/// mask register (~10 instructions per 16 values).
typedef unsigned int dpo_lane_uint32x16 __attribute__((ext_vector_type(16)));
typedef unsigned short dpo_lane_uint16x16 __attribute__((ext_vector_type(16)));

static inline __attribute__((always_inline)) dpo_lane_uint16x16 dpo_lane_bf16_round16(dpo_lane_uint32x16 bits) {
    dpo_lane_uint32x16 high = bits >> 16;
    dpo_lane_uint32x16 nearest = (bits + 0x7FFFu + (high & 1u)) >> 16;
    dpo_lane_uint32x16 nan = (dpo_lane_uint32x16)((bits & 0x7FFFFFFFu) > 0x7F800000u);
    return __builtin_convertvector((nearest & ~nan) | ((high | 0x40u) & nan), dpo_lane_uint16x16);
}

#endif
