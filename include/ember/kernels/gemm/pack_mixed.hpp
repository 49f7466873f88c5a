// ember/kernels/gemm/pack_mixed.hpp — packing that converts: fp32 → bf16, bf16 → fp32 values,
// u8/s8 → the kernel's integer type, into the grouped layout every mixed kernel reads.
// Layer: kernels/gemm.
//
// One layout serves every kernel. A sliver of R rows (A) or R columns (B, packed as the rows of
// Bᵀ) over a depth kc, padded with zeros to R rows and to kp = ⌈kc/G⌉·G:
//
//     dst[(q·R + i)·G + g] = src(i, q·G + g)        q < kp/G, i < R, g < G
//
// that is, for each group of G consecutive depths, R runs of G elements. G is what one
// instruction reduces over: the AVX512_BF16 and AMX-BF16 B operands take pairs (G = 2), the
// VNNI and AMX-INT8 B operands quads (G = 4), the fp32 kernels single elements (G = 1, the
// layout of pack.hpp). An AMX A tile is 16 rows of 64 bytes of consecutive depths, which is the
// same formula with G = 32 (bf16) or 64 (int8): tile rows q·R + i, 64 bytes apart.
//
// Rounding fp32 → bf16 is to nearest, ties to even, NaN kept quiet — bit-identical to
// ember::bfloat16's constructor (no flush of subnormals, unlike vcvtne2ps2bf16), so every path
// multiplies the same bf16 values. The vectorised paths (AVX-512F, integer arithmetic) cover
// the common layouts: depth contiguous (row-major A, the transposed weights of a linear layer)
// and rows contiguous (row-major B, a transposed A); anything else takes the scalar loop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ember/core/dtype.hpp"
#include "ember/kernels/cpu.hpp"

#if EMBER_X86
#include <immintrin.h>
#endif

namespace ember::detail {

inline std::uint16_t bf16_bits(float x) {
  return bfloat16(x).bits;
}
inline std::uint16_t bf16_bits(bfloat16 x) {
  return x.bits;
}

/// Conversions from a source element to a packed element.
struct ToBf16Bits {  // fp32 or bf16 → bf16 bits
  template <class S>
  std::uint16_t operator()(S x) const {
    return bf16_bits(x);
  }
};
struct ToBf16Float {  // fp32 or bf16 → the fp32 value of its bf16 rounding
  template <class S>
  float operator()(S x) const {
    return static_cast<float>(bfloat16::from_bits(bf16_bits(x)));
  }
};
template <class D>
struct Widen {  // integer → integer (u8/s8 → themselves or int32)
  template <class S>
  D operator()(S x) const {
    return static_cast<D>(x);
  }
};

/// The scalar form of the grouped layout (see the file comment).
template <std::int64_t R, std::int64_t G, class S, class D, class Conv>
void pack_grouped_scalar(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                         std::int64_t cs, D* dst, Conv conv) {
  const std::int64_t groups = (kc + G - 1) / G;
  for (std::int64_t q = 0; q < groups; ++q) {
    D* out = dst + q * R * G;
    for (std::int64_t i = 0; i < R; ++i) {
      for (std::int64_t g = 0; g < G; ++g) {
        const std::int64_t p = q * G + g;
        out[i * G + g] = (i < rows && p < kc) ? conv(src[i * rs + p * cs]) : D(0);
      }
    }
  }
}

#if EMBER_X86
namespace avx512 {

#define EMBER_TARGET_PACK __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw")))

// All-lanes masks: the maskz forms, because g++ 12's unmasked forms pass an undefined register
// through, which its own -Wmaybe-uninitialized flags (as kernels/adam.hpp notes).
constexpr __mmask16 kAll16 = 0xffff;

/// 16 floats → 16 lanes holding bf16 bits in their low half (nearest-even, quiet NaN).
EMBER_TARGET_PACK inline __m512i round_to_bf16(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_maskz_srli_epi32(kAll16, u, 16), _mm512_set1_epi32(1));
  const __m512i rounded =
      _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb));
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                                _mm512_set1_epi32(0x7f800000));
  const __m512i r = _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(u, _mm512_set1_epi32(0x00400000)));
  return _mm512_maskz_srli_epi32(kAll16, r, 16);
}

/// Up to 16 source elements at s (unit stride), as bf16 bits in the low half of each lane.
template <class S>
EMBER_TARGET_PACK inline __m512i load_bf16_lanes(const S* s, __mmask16 mask) {
  if constexpr (std::is_same_v<S, float>) {
    return round_to_bf16(_mm512_maskz_loadu_ps(mask, s));
  } else {
    return _mm512_maskz_cvtepu16_epi32(kAll16, _mm256_maskz_loadu_epi16(mask, s));
  }
}

inline __mmask16 first_n(std::int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1u);
}

/// Pairs (G = 2) of bf16, rows contiguous in the source (rs == 1): two depths, 16 rows at a
/// time, combined into one pair per 32-bit lane and stored as 16 consecutive pairs.
template <std::int64_t R, class S>
EMBER_TARGET_PACK void pack_pairs_rows_contiguous(std::int64_t rows, std::int64_t kc,
                                                  const S* src, std::int64_t cs,
                                                  std::uint16_t* dst) {
  auto* out = reinterpret_cast<std::uint32_t*>(dst);
  const std::int64_t groups = (kc + 1) / 2;
  for (std::int64_t q = 0; q < groups; ++q) {
    const S* s0 = src + 2 * q * cs;
    const bool has_odd = 2 * q + 1 < kc;
    for (std::int64_t i = 0; i < R; i += 16) {
      const __mmask16 m = first_n(std::max<std::int64_t>(0, rows - i));
      const __m512i lo = load_bf16_lanes(s0 + i, m);
      const __m512i hi = has_odd ? load_bf16_lanes(s0 + cs + i, m) : _mm512_setzero_si512();
      const __m512i pair = _mm512_or_si512(lo, _mm512_maskz_slli_epi32(kAll16, hi, 16));
      _mm512_mask_storeu_epi32(out + q * R + i, first_n(R - i), pair);
    }
  }
}

/// Pairs (G = 2) of bf16, depth contiguous in the source (cs == 1): 32 depths of one row at a
/// time become 16 pairs, scattered R pairs apart.
template <std::int64_t R, class S>
EMBER_TARGET_PACK void pack_pairs_depth_contiguous(std::int64_t rows, std::int64_t kc,
                                                   const S* src, std::int64_t rs,
                                                   std::uint16_t* dst) {
  auto* out = reinterpret_cast<std::uint32_t*>(dst);
  const std::int64_t groups = (kc + 1) / 2;
  const __m512i idx = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(static_cast<int>(R)));
  for (std::int64_t i = 0; i < R; ++i) {
    if (i >= rows) {  // padding rows
      for (std::int64_t q = 0; q < groups; ++q) out[q * R + i] = 0;
      continue;
    }
    const S* s = src + i * rs;
    for (std::int64_t p = 0; p < kc; p += 32) {
      const std::int64_t left = kc - p;
      // Depths p..p+31: the even ones pair with the odd ones after them.
      const __m512i a = load_bf16_lanes(s + p, first_n(left));
      const __m512i b = load_bf16_lanes(s + p + 16, first_n(std::max<std::int64_t>(0, left - 16)));
      // Lanes of a: d0..d15, of b: d16..d31 → pairs (d0,d1) … (d30,d31) in 16 lanes.
      const __m512i even = _mm512_permutex2var_epi32(
          a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
      const __m512i odd = _mm512_permutex2var_epi32(
          a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
      const __m512i pair = _mm512_or_si512(even, _mm512_maskz_slli_epi32(kAll16, odd, 16));
      const std::int64_t q0 = p / 2, n_pairs = std::min<std::int64_t>(16, (left + 1) / 2);
      _mm512_mask_i32scatter_epi32(out + q0 * R + i, first_n(n_pairs), idx, pair, 4);
    }
  }
}

/// AMX A tiles (G = 32 bf16 = 64 bytes of consecutive depths per row), depth contiguous.
template <std::int64_t R, class S>
EMBER_TARGET_PACK void pack_tile_rows_depth_contiguous(std::int64_t rows, std::int64_t kc,
                                                       const S* src, std::int64_t rs,
                                                       std::uint16_t* dst) {
  const std::int64_t groups = (kc + 31) / 32;
  for (std::int64_t q = 0; q < groups; ++q) {
    const std::int64_t p = q * 32, left = kc - p;
    const __mmask16 m0 = first_n(left), m1 = first_n(std::max<std::int64_t>(0, left - 16));
    for (std::int64_t i = 0; i < R; ++i) {
      std::uint16_t* out = dst + (q * R + i) * 32;
      if (i >= rows) {
        _mm512_storeu_si512(out, _mm512_setzero_si512());
        continue;
      }
      const S* s = src + i * rs + p;
      const __m256i lo = _mm512_maskz_cvtepi32_epi16(kAll16, load_bf16_lanes(s, m0));
      const __m256i hi = _mm512_maskz_cvtepi32_epi16(kAll16, load_bf16_lanes(s + 16, m1));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), lo);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), hi);
    }
  }
}

#undef EMBER_TARGET_PACK

}  // namespace avx512
#endif

/// Packs an R×kc sliver (rows i, depths p at src[i·rs + p·cs]) into the grouped layout with G
/// bf16 per group, from fp32 or bf16, vectorised where the level in force allows AVX-512.
template <std::int64_t R, std::int64_t G, class S>
void pack_bf16(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
               std::int64_t cs, std::uint16_t* dst) {
#if EMBER_X86
  if (isa_has_avx512()) {
    if constexpr (G == 2) {
      if (rs == 1) return avx512::pack_pairs_rows_contiguous<R>(rows, kc, src, cs, dst);
      if (cs == 1) return avx512::pack_pairs_depth_contiguous<R>(rows, kc, src, rs, dst);
    } else if constexpr (G == 32) {
      if (cs == 1) return avx512::pack_tile_rows_depth_contiguous<R>(rows, kc, src, rs, dst);
    }
  }
#endif
  pack_grouped_scalar<R, G>(rows, kc, src, rs, cs, dst, ToBf16Bits{});
}

}  // namespace ember::detail
