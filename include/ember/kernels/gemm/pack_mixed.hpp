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
#include "ember/kernels/simd_store.hpp"

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
struct Widen {  // integer → integer (u8/s8 → themselves, int16 or int32)
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

// Masked loads and stores only where a mask is partial (simd_store.hpp: on Zen 5 a masked
// store costs several times a plain one even with every lane set). Each loop picks the plain or
// the masked form outside its innermost loop: a per-element choice spilled the 16×16 transposes.

/// 16 source elements at s (unit stride), as bf16 bits in the low half of each lane.
template <class S>
EMBER_TARGET_PACK inline __m512i load_bf16_lanes(const S* s) {
  if constexpr (std::is_same_v<S, float>) {
    return round_to_bf16(_mm512_loadu_ps(s));
  } else {
    return _mm512_maskz_cvtepu16_epi32(kAll16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
  }
}

/// The elements of `mask` only (zeros elsewhere).
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
      if (rows - i >= 16 && R - i >= 16 && has_odd) {
        const __m512i lo = load_bf16_lanes(s0 + i), hi = load_bf16_lanes(s0 + cs + i);
        _mm512_storeu_si512(out + q * R + i,
                            _mm512_or_si512(lo, _mm512_maskz_slli_epi32(kAll16, hi, 16)));
        continue;
      }
      const __mmask16 m = first_n(std::max<std::int64_t>(0, rows - i));
      const __m512i lo = load_bf16_lanes(s0 + i, m);
      const __m512i hi = has_odd ? load_bf16_lanes(s0 + cs + i, m) : _mm512_setzero_si512();
      const __m512i pair = _mm512_or_si512(lo, _mm512_maskz_slli_epi32(kAll16, hi, 16));
      store_epi32_lanes(out + q * R + i, first_n(R - i), pair);
    }
  }
}

/// Transposes a 16×16 matrix of 32-bit lanes held in 16 vectors (row r in v[r]).
EMBER_TARGET_PACK inline void transpose16x16(__m512i (&v)[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {  // 2×2 blocks of 32-bit lanes
    t[i] = _mm512_maskz_unpacklo_epi32(kAll16, v[i], v[i + 1]);
    t[i + 1] = _mm512_maskz_unpackhi_epi32(kAll16, v[i], v[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // 4×4 blocks
    v[i] = _mm512_maskz_unpacklo_epi64(0xff, t[i], t[i + 2]);
    v[i + 1] = _mm512_maskz_unpackhi_epi64(0xff, t[i], t[i + 2]);
    v[i + 2] = _mm512_maskz_unpacklo_epi64(0xff, t[i + 1], t[i + 3]);
    v[i + 3] = _mm512_maskz_unpackhi_epi64(0xff, t[i + 1], t[i + 3]);
  }
  // v[4b + c] now holds, in 128-bit lane L, elements (4L + c) of rows 4b … 4b+3 … of the
  // original 4-row group b: move whole 128-bit lanes across the groups.
  for (int i = 0; i < 4; ++i) {  // groups (0,1) and (2,3): lanes 0,2 / 1,3
    t[i] = _mm512_maskz_shuffle_i32x4(kAll16, v[i], v[i + 4], 0x88);
    t[i + 4] = _mm512_maskz_shuffle_i32x4(kAll16, v[i], v[i + 4], 0xdd);
    t[i + 8] = _mm512_maskz_shuffle_i32x4(kAll16, v[i + 8], v[i + 12], 0x88);
    t[i + 12] = _mm512_maskz_shuffle_i32x4(kAll16, v[i + 8], v[i + 12], 0xdd);
  }
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm512_maskz_shuffle_i32x4(kAll16, t[i], t[i + 8], 0x88);
    v[i + 8] = _mm512_maskz_shuffle_i32x4(kAll16, t[i], t[i + 8], 0xdd);
    v[i + 4] = _mm512_maskz_shuffle_i32x4(kAll16, t[i + 4], t[i + 12], 0x88);
    v[i + 12] = _mm512_maskz_shuffle_i32x4(kAll16, t[i + 4], t[i + 12], 0xdd);
  }
}

/// Pairs (G = 2) of bf16, depth contiguous in the source (cs == 1): per 16 rows and 32
/// depths, each row's depths become 16 pairs (one vector), and a 16×16 transpose turns the
/// 16 row vectors into 16 pair-index vectors of 16 rows, stored contiguously.
template <std::int64_t R, class S>
EMBER_TARGET_PACK void pack_pairs_depth_contiguous(std::int64_t rows, std::int64_t kc,
                                                   const S* src, std::int64_t rs,
                                                   std::uint16_t* dst) {
  auto* out = reinterpret_cast<std::uint32_t*>(dst);
  const __m512i even_idx =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd_idx =
      _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (std::int64_t i0 = 0; i0 < R; i0 += 16) {
    const __mmask16 store_mask = first_n(R - i0);
    for (std::int64_t p = 0; p < kc; p += 32) {
      const std::int64_t left = kc - p;
      __m512i v[16];
      for (int r = 0; r < 16; ++r) {
        if (i0 + r >= rows) {
          v[r] = _mm512_setzero_si512();
          continue;
        }
        const S* s = src + (i0 + r) * rs + p;
        const bool full = left >= 32;
        const __m512i a = full ? load_bf16_lanes(s) : load_bf16_lanes(s, first_n(left));
        const __m512i b = full ? load_bf16_lanes(s + 16)
                               : load_bf16_lanes(s + 16, first_n(std::max<std::int64_t>(0, left - 16)));
        const __m512i even = _mm512_permutex2var_epi32(a, even_idx, b);
        const __m512i odd = _mm512_permutex2var_epi32(a, odd_idx, b);
        v[r] = _mm512_or_si512(even, _mm512_maskz_slli_epi32(kAll16, odd, 16));
      }
      transpose16x16(v);
      const std::int64_t q0 = p / 2, n_pairs = std::min<std::int64_t>(16, (left + 1) / 2);
      for (std::int64_t qq = 0; qq < n_pairs; ++qq)
        store_epi32_lanes(out + (q0 + qq) * R + i0, store_mask, v[qq]);
    }
  }
}

/// Stores the low halves of 16 lanes as 16 consecutive bf16.
EMBER_TARGET_PACK inline void store_bf16_lanes(std::uint16_t* dst, __m512i lanes) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm512_maskz_cvtepi32_epi16(kAll16, lanes));
}

/// The lanes of m only.
EMBER_TARGET_PACK inline void store_bf16_lanes(std::uint16_t* dst, __mmask16 m, __m512i lanes) {
  _mm256_mask_storeu_epi16(dst, m, _mm512_maskz_cvtepi32_epi16(kAll16, lanes));
}

/// Depth-major bf16 rows: src(i, p) → dst[off(i, p)] for i < rows_out, p < kp (zeros past
/// rows and kc), where off is contiguous in p over aligned runs of 16. Row layout (kTile =
/// false): off = i·kp + p, which is also the layout of consecutive slivers of any R dividing
/// rows_out, so one call may pack a block of several slivers. AMX A tiles (kTile = true):
/// off = (⌊p/32⌋·rows_out + i)·32 + p mod 32.
template <bool kTile, class S>
EMBER_TARGET_PACK void pack_depth_major_n(std::int64_t rows, std::int64_t rows_out, std::int64_t kc,
                                          std::int64_t kp, const S* src, std::int64_t rs,
                                          std::int64_t cs, std::uint16_t* dst) {
  auto off = [&](std::int64_t i, std::int64_t p) {
    if constexpr (kTile)
      return (p / 32 * rows_out + i) * 32 + p % 32;
    else
      return i * kp + p;
  };
  if (cs == 1) {
    for (std::int64_t i = 0; i < rows_out; ++i) {
      for (std::int64_t p = 0; p < kp; p += 16) {
        if (i < rows && kc - p >= 16) {  // kp ≥ kc: the store is whole too
          store_bf16_lanes(dst + off(i, p), load_bf16_lanes(src + i * rs + p));
          continue;
        }
        const __mmask16 m = i < rows ? first_n(std::max<std::int64_t>(0, kc - p)) : 0;
        store_bf16_lanes(dst + off(i, p), first_n(kp - p), load_bf16_lanes(src + i * rs + p, m));
      }
    }
    return;
  }
  // rs == 1: 16 rows are contiguous at each depth; transpose 16×16 blocks. Packed a sliver at a
  // time (rows_out = R = 6 or 14), most of each transpose is thrown away; over a block of
  // slivers every transposed row is kept. Target: a transposed A at the speed of a row-major
  // one (pack_bf16/a, 42 GB/s). Reached (bench_gemm pack_bf16/a_transposed, Zen 5 guest, one
  // core): 10.9 GB/s per 6-row sliver → 33.5 GB/s per block of 8 slivers (44–46 GB/s on
  // 2026-12-04, beside 73–75 GB/s for a row-major A with its plain loads and stores).
  for (std::int64_t i0 = 0; i0 < rows_out; i0 += 16) {
    const __mmask16 m = first_n(std::max<std::int64_t>(0, rows - i0));
    for (std::int64_t p = 0; p < kp; p += 16) {
      __m512i v[16];
      for (int t = 0; t < 16; ++t)
        v[t] = p + t < kc ? load_bf16_lanes(src + i0 + (p + t) * cs, m) : _mm512_setzero_si512();
      transpose16x16(v);
      // Masked forms even with full masks: plain loads and stores chosen per block measured
      // slower here (44–46 → 34–35 GB/s, pack_bf16/a_transposed/block): g++ 12 then spills
      // the transpose's 32 registers to the stack.
      for (std::int64_t r = 0; r < 16 && i0 + r < rows_out; ++r)
        store_bf16_lanes(dst + off(i0 + r, p), first_n(kp - p), v[r]);
    }
  }
}

/// One sliver of R rows (pack_depth_major_n with rows_out = R).
template <std::int64_t R, bool kTile, class S>
EMBER_TARGET_PACK void pack_depth_major(std::int64_t rows, std::int64_t kc, std::int64_t kp,
                                        const S* src, std::int64_t rs, std::int64_t cs,
                                        std::uint16_t* dst) {
  pack_depth_major_n<kTile>(rows, R, kc, kp, src, rs, cs, dst);
}

/// u8/s8 quads (G = 4), rows contiguous in the source (rs == 1): four depths of 16 rows are
/// byte-interleaved into 16 quads (64 bytes) and stored contiguously.
template <std::int64_t R, class S>
EMBER_TARGET_PACK void pack_quads_rows_contiguous(std::int64_t rows, std::int64_t kc,
                                                  const S* src, std::int64_t cs, S* dst) {
  auto* out = reinterpret_cast<std::uint32_t*>(dst);
  const std::int64_t groups = (kc + 3) / 4;
  for (std::int64_t q = 0; q < groups; ++q) {
    for (std::int64_t i = 0; i < R; i += 16) {
      const __mmask16 m = first_n(std::max<std::int64_t>(0, rows - i));
      __m128i x[4];
      for (int g = 0; g < 4; ++g)
        x[g] = 4 * q + g < kc ? _mm_maskz_loadu_epi8(m, src + (4 * q + g) * cs + i)
                              : _mm_setzero_si128();
      const __m128i t0 = _mm_unpacklo_epi8(x[0], x[1]), t1 = _mm_unpackhi_epi8(x[0], x[1]);
      const __m128i t2 = _mm_unpacklo_epi8(x[2], x[3]), t3 = _mm_unpackhi_epi8(x[2], x[3]);
      const __m128i q0 = _mm_unpacklo_epi16(t0, t2), q1 = _mm_unpackhi_epi16(t0, t2);
      const __m128i q2 = _mm_unpacklo_epi16(t1, t3), q3 = _mm_unpackhi_epi16(t1, t3);
      std::uint32_t* o = out + q * R + i;
      const std::int64_t left = R - i;  // columns of this sliver still to write (≤ 16 here)
      _mm_mask_storeu_epi32(o, static_cast<__mmask8>(first_n(left) & 0xf), q0);
      _mm_mask_storeu_epi32(o + 4, static_cast<__mmask8>(first_n(left - 4 > 0 ? left - 4 : 0) & 0xf), q1);
      _mm_mask_storeu_epi32(o + 8, static_cast<__mmask8>(first_n(left - 8 > 0 ? left - 8 : 0) & 0xf), q2);
      _mm_mask_storeu_epi32(o + 12, static_cast<__mmask8>(first_n(left - 12 > 0 ? left - 12 : 0) & 0xf), q3);
    }
  }
}

/// u8/s8 quads (G = 4), depth contiguous in the source (cs == 1): each row's 64 depths are 16
/// quads (one vector); a 16×16 transpose makes them 16 quad-index vectors of 16 rows.
template <std::int64_t R, class S>
EMBER_TARGET_PACK void pack_quads_depth_contiguous(std::int64_t rows, std::int64_t kc,
                                                   const S* src, std::int64_t rs, S* dst) {
  auto* out = reinterpret_cast<std::uint32_t*>(dst);
  for (std::int64_t i0 = 0; i0 < R; i0 += 16) {
    const __mmask16 store_mask = first_n(R - i0);
    for (std::int64_t p = 0; p < kc; p += 64) {
      const std::int64_t left = kc - p;
      const __mmask64 m = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
      __m512i v[16];
      for (int r = 0; r < 16; ++r)
        v[r] = i0 + r < rows ? _mm512_maskz_loadu_epi8(m, src + (i0 + r) * rs + p)
                             : _mm512_setzero_si512();
      transpose16x16(v);
      const std::int64_t q0 = p / 4, n_quads = std::min<std::int64_t>(16, (left + 3) / 4);
      for (std::int64_t qq = 0; qq < n_quads; ++qq)
        store_epi32_lanes(out + (q0 + qq) * R + i0, store_mask, v[qq]);
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
      if (cs == 1 || rs == 1)
        return avx512::pack_depth_major<R, true>(rows, kc, (kc + 31) / 32 * 32, src, rs, cs, dst);
    }
  }
#endif
  pack_grouped_scalar<R, G>(rows, kc, src, rs, cs, dst, ToBf16Bits{});
}

/// Row layout: dst[i·kp + p] = src(i, p) for i < R, p < kp = ⌈kc/KG⌉·KG (zero-padded): the A
/// operand of the AVX-512 dot-product kernels (a row's groups are consecutive 32-bit words).
template <std::int64_t R, std::int64_t KG, class S, class D, class Conv>
void pack_rows_scalar(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                      std::int64_t cs, D* dst, Conv conv) {
  const std::int64_t kp = (kc + KG - 1) / KG * KG;
  for (std::int64_t i = 0; i < R; ++i)
    for (std::int64_t p = 0; p < kp; ++p)
      dst[i * kp + p] = (i < rows && p < kc) ? conv(src[i * rs + p * cs]) : D(0);
}

template <std::int64_t R, std::int64_t KG, class S>
void pack_bf16_rows(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                    std::int64_t cs, void* dst_) {
  auto* dst = static_cast<std::uint16_t*>(dst_);
#if EMBER_X86
  if (isa_has_avx512() && (cs == 1 || rs == 1))
    return avx512::pack_depth_major<R, false>(rows, kc, (kc + KG - 1) / KG * KG, src, rs, cs, dst);
#endif
  pack_rows_scalar<R, KG>(rows, kc, src, rs, cs, dst, ToBf16Bits{});
}

/// pack_bf16_rows over a block: `rows` rows (any count) into ⌈rows/R⌉ consecutive slivers of
/// R rows, the last padded with zero rows: the same bytes as one pack_bf16_rows per sliver.
/// A transposed A (rs == 1) is where it pays: one 16×16 transpose then serves 16 rows instead
/// of R.
template <std::int64_t R, std::int64_t KG, class S>
void pack_bf16_rows_block(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                          std::int64_t cs, void* dst_) {
  auto* dst = static_cast<std::uint16_t*>(dst_);
  const std::int64_t kp = (kc + KG - 1) / KG * KG;
#if EMBER_X86
  if (isa_has_avx512() && (cs == 1 || rs == 1))
    return avx512::pack_depth_major_n<false>(rows, (rows + R - 1) / R * R, kc, kp, src, rs, cs,
                                             dst);
#endif
  for (std::int64_t i0 = 0; i0 < rows; i0 += R)
    pack_rows_scalar<R, KG>(std::min(R, rows - i0), kc, src + i0 * rs, rs, cs, dst + i0 * kp,
                            ToBf16Bits{});
}

template <std::int64_t R, std::int64_t KG, class S>
void pack_int8_rows(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                    std::int64_t cs, void* dst_) {
  auto* dst = static_cast<S*>(dst_);
  const std::int64_t kp = (kc + KG - 1) / KG * KG;
  if (cs == 1) {  // a row is contiguous: copy and pad
    for (std::int64_t i = 0; i < R; ++i) {
      S* out = dst + i * kp;
      const std::int64_t n = i < rows ? kc : 0;
      if (n > 0) std::memcpy(out, src + i * rs, static_cast<std::size_t>(n));
      std::memset(out + n, 0, static_cast<std::size_t>(kp - n));
    }
    return;
  }
  pack_rows_scalar<R, KG>(rows, kc, src, rs, cs, dst, [](S x) { return x; });
}

/// u8/s8 in the grouped layout with G = 4 (quads), vectorised for a contiguous depth.
template <std::int64_t R, class S>
void pack_quads(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                std::int64_t cs, S* dst) {
#if EMBER_X86
  if (isa_has_avx512() && cs == 1)
    return avx512::pack_quads_depth_contiguous<R>(rows, kc, src, rs, dst);
  if (isa_has_avx512() && rs == 1)
    return avx512::pack_quads_rows_contiguous<R>(rows, kc, src, cs, dst);
#endif
  pack_grouped_scalar<R, 4>(rows, kc, src, rs, cs, dst, [](S x) { return x; });
}

}  // namespace ember::detail
