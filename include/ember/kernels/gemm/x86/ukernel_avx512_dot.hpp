// ember/kernels/gemm/x86/ukernel_avx512_dot.hpp — dot-product micro-kernels, MR × 32:
// bf16 pairs with fp32 accumulation (vdpbf16ps, AVX512_BF16) and u8·s8 quads with int32
// accumulation (vpdpbusd, AVX512_VNNI).
// Layer: kernels/gemm. Function-level target attributes in an ISA-named namespace, as
// ukernel_avx512_f32.hpp (same ODR reasoning). The register plan is the fp32 kernel's:
// 28 accumulators (14 rows × 2 vectors of 16 columns), 2 vectors of B per group, A broadcast
// from memory as one 32-bit group (a bf16 pair or an int8 quad). Per group: 2 loads,
// 14 broadcasts, 28 dot products, each worth 2 (bf16) or 4 (int8) fp32 FMAs.
//
// Operands come packed (pack_mixed.hpp): A in the row layout, row i's groups consecutive
// (a[i·kp/G + q] in 32-bit units: packing a row-major A is a conversion, no shuffle); B in the
// grouped layout, b[q·32 + j]. Depth kp is a multiple of G. The A rows are addressed as ⌈MR/5⌉
// base pointers plus 0–4 row strides (x86 base + index·scale), as the fp32 kernel does, so the
// loop needs no spilled row pointers.
//
// Target: where vdpbf16ps issues at the fp32 FMA rate (AMD Zen 4/5), twice the fp32 kernel's
// GFLOP/s; measured figures are in the README's GEMM section (bench_gemm, gemm_bf16 rows).
#pragma once

#include <immintrin.h>

#include "ember/kernels/simd_store.hpp"

#include <cstdint>

namespace ember::detail::avx512_dot {

#define EMBER_TARGET_AVX512_DOT \
  __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512bf16,avx512vnni,fma")))

EMBER_TARGET_AVX512_DOT inline __mmask16 column_mask(std::int64_t n_cur, int v) {
  const std::int64_t left = n_cur - 16 * v;
  if (left >= 16) return static_cast<__mmask16>(0xffff);
  if (left <= 0) return 0;
  return static_cast<__mmask16>((1u << left) - 1u);
}

/// bf16: c[0:m_cur, 0:n_cur] = alpha·A·B + beta·c, A MR×kp and B kp×32 packed in pairs.
template <int MR>
EMBER_TARGET_AVX512_DOT inline void ukernel_bf16(std::int64_t kp, const void* a_, const void* b_,
                                                 float* c, std::int64_t rs_c, std::int64_t cs_c,
                                                 std::int64_t m_cur, std::int64_t n_cur,
                                                 float alpha, float beta) {
  const auto* a = static_cast<const std::int32_t*>(a_);
  const auto* b = static_cast<const std::int32_t*>(b_);
  __m512 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  const std::int64_t groups = kp / 2;
  const std::int32_t* base[(MR + 4) / 5];
  for (int j = 0; j < (MR + 4) / 5; ++j) base[j] = a + 5 * j * groups;
  for (std::int64_t q = 0; q < groups; ++q) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(b + q * 32);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(b + q * 32 + 16);
#pragma GCC unroll 16  // -O2 builds unroll the tile too (as in ukernel_avx512_f32.hpp)
    for (int i = 0; i < MR; ++i) {
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(base[i / 5][(i % 5) * groups + q]);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
    }
  }
  const __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
  const __mmask16 mask[2] = {column_mask(n_cur, 0), column_mask(n_cur, 1)};
  if (cs_c == 1) {
    for (int i = 0; i < MR; ++i) {
      if (i >= m_cur) break;
      float* ci = c + i * rs_c;
      for (int v = 0; v < 2; ++v) {
        if (mask[v] == 0) break;
        __m512 r = _mm512_mul_ps(valpha, acc[i][v]);
        if (beta != 0.0f)
          r = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mask[v], ci + 16 * v), r);
        ::ember::detail::store_ps_lanes(ci + 16 * v, mask[v], r);
      }
    }
  } else {
    alignas(64) float tile[MR][32];
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < 2; ++v) _mm512_store_ps(&tile[i][16 * v], acc[i][v]);
    for (std::int64_t i = 0; i < m_cur; ++i)
      for (std::int64_t j = 0; j < n_cur; ++j) {
        float& cij = c[i * rs_c + j * cs_c];
        cij = beta == 0.0f ? alpha * tile[i][j] : alpha * tile[i][j] + beta * cij;
      }
  }
}

/// int8: c[0:m_cur, 0:n_cur] = alpha·A·B + beta·c in int32 (wrapping, as the hardware does),
/// A (u8) MR×kp and B (s8) kp×32 packed in quads.
template <int MR>
EMBER_TARGET_AVX512_DOT inline void ukernel_u8s8(std::int64_t kp, const void* a_, const void* b_,
                                                 std::int32_t* c, std::int64_t rs_c,
                                                 std::int64_t cs_c, std::int64_t m_cur,
                                                 std::int64_t n_cur, std::int32_t alpha,
                                                 std::int32_t beta) {
  const auto* a = static_cast<const std::int32_t*>(a_);
  const auto* b = static_cast<const std::int32_t*>(b_);
  // Accumulators typed as float vectors (bit casts are free): g++ 12 keeps an array of __m512i
  // accumulators in memory around the loop (measured 248 GOP/s for 14×32 in L1), an array of
  // __m512 in registers.
  __m512 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  const std::int64_t groups = kp / 4;
  const std::int32_t* base[(MR + 4) / 5];
  for (int j = 0; j < (MR + 4) / 5; ++j) base[j] = a + 5 * j * groups;
  for (std::int64_t q = 0; q < groups; ++q) {
    const __m512i b0 = _mm512_load_si512(b + q * 32);
    const __m512i b1 = _mm512_load_si512(b + q * 32 + 16);
#pragma GCC unroll 16  // -O2 builds unroll the tile too (as in ukernel_avx512_f32.hpp)
    for (int i = 0; i < MR; ++i) {
      const __m512i ai = _mm512_set1_epi32(base[i / 5][(i % 5) * groups + q]);
      acc[i][0] = _mm512_castsi512_ps(_mm512_dpbusd_epi32(_mm512_castps_si512(acc[i][0]), ai, b0));
      acc[i][1] = _mm512_castsi512_ps(_mm512_dpbusd_epi32(_mm512_castps_si512(acc[i][1]), ai, b1));
    }
  }
  const __m512i valpha = _mm512_set1_epi32(alpha), vbeta = _mm512_set1_epi32(beta);
  const __mmask16 mask[2] = {column_mask(n_cur, 0), column_mask(n_cur, 1)};
  if (cs_c == 1) {
    for (int i = 0; i < MR; ++i) {
      if (i >= m_cur) break;
      std::int32_t* ci = c + i * rs_c;
      for (int v = 0; v < 2; ++v) {
        if (mask[v] == 0) break;
        const __m512i av = _mm512_castps_si512(acc[i][v]);
        __m512i r = alpha == 1 ? av : _mm512_mullo_epi32(valpha, av);
        if (beta != 0)
          r = _mm512_add_epi32(
              r, _mm512_mullo_epi32(vbeta, _mm512_maskz_loadu_epi32(mask[v], ci + 16 * v)));
        ::ember::detail::store_epi32_lanes(ci + 16 * v, mask[v], r);
      }
    }
  } else {
    alignas(64) std::int32_t tile[MR][32];
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < 2; ++v) _mm512_store_si512(&tile[i][16 * v], _mm512_castps_si512(acc[i][v]));
    for (std::int64_t i = 0; i < m_cur; ++i)
      for (std::int64_t j = 0; j < n_cur; ++j) {
        std::int32_t& cij = c[i * rs_c + j * cs_c];
        const auto prod = static_cast<std::uint32_t>(alpha) * static_cast<std::uint32_t>(tile[i][j]);
        const auto old = beta == 0 ? 0u
                                   : static_cast<std::uint32_t>(beta) * static_cast<std::uint32_t>(cij);
        cij = static_cast<std::int32_t>(prod + old);
      }
  }
}


// ---- 6 × 64 kernels, inner loop in assembly ----------------------------------------------------
// Written with intrinsics, g++ 12's schedule of the same instructions ran vpdpbusd at about one
// per cycle on Zen 5 (an int8 7×32 kernel in L1: 585 GOP/s, and 248 with 14 rows, whose int32
// accumulators it kept in memory) and vdpbf16ps at 87% of its ceiling. This loop is the order
// oneDNN's brgemm JIT uses — 6 A broadcasts into fresh registers, one B vector loaded and used
// by the 6 rows, 24 accumulators (zmm8–31: row r, vector v in zmm 8 + 4r + v) — and runs both
// instructions at 95–98% of their ceilings (bench_gemm ukernel_*/…/k256; figures in the README).
// A: row layout (6 rows, `stride` bytes apart, 4 bytes = one pair or quad per group); B: grouped,
// 64 columns × 4 bytes per group.

// One B vector at byte offset OFF against the 6 broadcast rows (zmm7 … zmm2).
#define EMBER_DOT6(I, OFF, c0, c1, c2, c3, c4, c5)                                     \
  "vmovdqu32 " #OFF "(%[b]), %%zmm0\n" I " %%zmm0, %%zmm7, %%zmm" #c0 "\n" I          \
  " %%zmm0, %%zmm6, %%zmm" #c1 "\n" I " %%zmm0, %%zmm5, %%zmm" #c2 "\n" I             \
  " %%zmm0, %%zmm4, %%zmm" #c3 "\n" I " %%zmm0, %%zmm3, %%zmm" #c4 "\n" I             \
  " %%zmm0, %%zmm2, %%zmm" #c5 "\n"
// The 6 A broadcasts of one group: rows at a0, a0 + s, a0 + 2s, a1 = a0 + 3s, a1 + s, a1 + 2s.
#define EMBER_BCAST6                                                                    \
  "vpbroadcastd (%[a0]), %%zmm7\n"                                                      \
  "vpbroadcastd (%[a0],%[s],1), %%zmm6\n"                                               \
  "vpbroadcastd (%[a0],%[s],2), %%zmm5\n"                                               \
  "vpbroadcastd (%[a1]), %%zmm4\n"                                                      \
  "vpbroadcastd (%[a1],%[s],1), %%zmm3\n"                                               \
  "vpbroadcastd (%[a1],%[s],2), %%zmm2\n"
// All 24 products of one group (4 B vectors × 6 rows).
#define EMBER_DOT24(I)                                                                  \
  EMBER_DOT6(I, 0, 8, 12, 16, 20, 24, 28)                                               \
  EMBER_DOT6(I, 64, 9, 13, 17, 21, 25, 29)                                              \
  EMBER_DOT6(I, 128, 10, 14, 18, 22, 26, 30)                                            \
  EMBER_DOT6(I, 192, 11, 15, 19, 23, 27, 31)
#define EMBER_ZMM_CLOBBERS                                                              \
  "xmm0", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
      "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20",   \
      "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",   \
      "xmm30", "xmm31"
#define EMBER_ZERO4(a, b, c, d)                                                         \
  "vpxord %%zmm" #a ", %%zmm" #a ", %%zmm" #a "\n"                                      \
  "vpxord %%zmm" #b ", %%zmm" #b ", %%zmm" #b "\n"                                      \
  "vpxord %%zmm" #c ", %%zmm" #c ", %%zmm" #c "\n"                                      \
  "vpxord %%zmm" #d ", %%zmm" #d ", %%zmm" #d "\n"
// Row r's 4 accumulators to out + r·256 bytes.
#define EMBER_STORE_ROW(OFF, a, b, c, d)                                                \
  "vmovdqu32 %%zmm" #a ", " #OFF "+0(%[out])\n"                                         \
  "vmovdqu32 %%zmm" #b ", " #OFF "+64(%[out])\n"                                        \
  "vmovdqu32 %%zmm" #c ", " #OFF "+128(%[out])\n"                                       \
  "vmovdqu32 %%zmm" #d ", " #OFF "+192(%[out])\n"
#define EMBER_DOT_6X64(I)                                                               \
  EMBER_ZERO4(8, 9, 10, 11) EMBER_ZERO4(12, 13, 14, 15) EMBER_ZERO4(16, 17, 18, 19)      \
  EMBER_ZERO4(20, 21, 22, 23) EMBER_ZERO4(24, 25, 26, 27) EMBER_ZERO4(28, 29, 30, 31)    \
  "test %[n], %[n]\n"                                                                   \
  "jz 2f\n"                                                                             \
  "1:\n" EMBER_BCAST6 EMBER_DOT24(I)                                                    \
  "add $4, %[a0]\n"                                                                     \
  "add $4, %[a1]\n"                                                                     \
  "add $256, %[b]\n"                                                                    \
  "dec %[n]\n"                                                                          \
  "jnz 1b\n"                                                                            \
  "2:\n" EMBER_STORE_ROW(0, 8, 9, 10, 11) EMBER_STORE_ROW(256, 12, 13, 14, 15)          \
  EMBER_STORE_ROW(512, 16, 17, 18, 19) EMBER_STORE_ROW(768, 20, 21, 22, 23)              \
  EMBER_STORE_ROW(1024, 24, 25, 26, 27) EMBER_STORE_ROW(1280, 28, 29, 30, 31)

/// The 6×64 accumulators of `groups` depth groups into out (6 rows of 64 lanes, int32 for
/// vpdpbusd, fp32 for vdpbf16ps).
template <bool kInt8>
EMBER_TARGET_AVX512_DOT inline void dot_6x64(std::int64_t groups, const void* a, const void* b_,
                                            void* out) {
  const std::int64_t stride = groups * 4;  // bytes between packed A rows
  const char* a0 = static_cast<const char*>(a);
  const char* a1 = a0 + 3 * stride;
  const char* b = static_cast<const char*>(b_);
  if constexpr (kInt8) {
    asm volatile(EMBER_DOT_6X64("vpdpbusd")
                 : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(groups)
                 : [s] "r"(stride), [out] "r"(out)
                 : "memory", "cc", EMBER_ZMM_CLOBBERS);
  } else {
    asm volatile(EMBER_DOT_6X64("vdpbf16ps")
                 : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(groups)
                 : [s] "r"(stride), [out] "r"(out)
                 : "memory", "cc", EMBER_ZMM_CLOBBERS);
  }
}

/// int8 6 × 64: c = alpha·A·B + beta·c (int32, wrapping).
EMBER_TARGET_AVX512_DOT inline void ukernel_u8s8_asm_6x64(std::int64_t kp, const void* a,
                                                         const void* b, std::int32_t* c,
                                                         std::int64_t rs_c, std::int64_t cs_c,
                                                         std::int64_t m_cur, std::int64_t n_cur,
                                                         std::int32_t alpha, std::int32_t beta) {
  alignas(64) std::int32_t out[6][64];
  dot_6x64<true>(kp / 4, a, b, out);
  if (cs_c == 1) {
    const __m512i valpha = _mm512_set1_epi32(alpha), vbeta = _mm512_set1_epi32(beta);
    for (std::int64_t i = 0; i < m_cur; ++i) {
      std::int32_t* ci = c + i * rs_c;
      for (int v = 0; v < 4; ++v) {
        const __mmask16 m = column_mask(n_cur, v);
        if (m == 0) break;
        __m512i r = _mm512_load_si512(&out[i][16 * v]);
        if (alpha != 1) r = _mm512_mullo_epi32(valpha, r);
        if (beta != 0)
          r = _mm512_add_epi32(r, _mm512_mullo_epi32(vbeta, _mm512_maskz_loadu_epi32(m, ci + 16 * v)));
        ::ember::detail::store_epi32_lanes(ci + 16 * v, m, r);
      }
    }
    return;
  }
  for (std::int64_t i = 0; i < m_cur; ++i) {
    for (std::int64_t j = 0; j < n_cur; ++j) {
      std::int32_t& cij = c[i * rs_c + j * cs_c];
      const auto prod = static_cast<std::uint32_t>(alpha) * static_cast<std::uint32_t>(out[i][j]);
      const auto old =
          beta == 0 ? 0u : static_cast<std::uint32_t>(beta) * static_cast<std::uint32_t>(cij);
      cij = static_cast<std::int32_t>(prod + old);
    }
  }
}

/// bf16 6 × 64: c = alpha·A·B + beta·c (fp32).
EMBER_TARGET_AVX512_DOT inline void ukernel_bf16_asm_6x64(std::int64_t kp, const void* a,
                                                         const void* b, float* c,
                                                         std::int64_t rs_c, std::int64_t cs_c,
                                                         std::int64_t m_cur, std::int64_t n_cur,
                                                         float alpha, float beta) {
  alignas(64) float out[6][64];
  dot_6x64<false>(kp / 2, a, b, out);
  if (cs_c == 1) {
    const __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
    for (std::int64_t i = 0; i < m_cur; ++i) {
      float* ci = c + i * rs_c;
      for (int v = 0; v < 4; ++v) {
        const __mmask16 m = column_mask(n_cur, v);
        if (m == 0) break;
        __m512 r = _mm512_mul_ps(valpha, _mm512_load_ps(&out[i][16 * v]));
        if (beta != 0.0f) r = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m, ci + 16 * v), r);
        ::ember::detail::store_ps_lanes(ci + 16 * v, m, r);
      }
    }
    return;
  }
  for (std::int64_t i = 0; i < m_cur; ++i)
    for (std::int64_t j = 0; j < n_cur; ++j) {
      float& cij = c[i * rs_c + j * cs_c];
      cij = beta == 0.0f ? alpha * out[i][j] : alpha * out[i][j] + beta * cij;
    }
}

#undef EMBER_DOT_6X64
#undef EMBER_STORE_ROW
#undef EMBER_ZERO4
#undef EMBER_DOT24
#undef EMBER_BCAST6
#undef EMBER_DOT6
#undef EMBER_ZMM_CLOBBERS
#undef EMBER_TARGET_AVX512_DOT

}  // namespace ember::detail::avx512_dot
