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
        _mm512_mask_storeu_ps(ci + 16 * v, mask[v], r);
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
        _mm512_mask_storeu_epi32(ci + 16 * v, mask[v], r);
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


/// int8, 6 × 64 (4 vectors of 16 columns): the inner loop in inline assembly. Written with
/// intrinsics, g++ 12's schedule of the same instructions ran vpdpbusd at about one per cycle
/// on Zen 5 (7×32 in L1: 585 GOP/s); this loop — 6 A broadcasts into fresh registers, one B
/// vector loaded and used by 6 rows at a time, 24 accumulators (oneDNN's brgemm shape) —
/// issues close to two per cycle (bench_gemm ukernel_int8/…/k256: see the README).
/// A: row layout (6 rows of kp/4 quads, `stride` bytes apart); B: grouped, 64 columns × quads.
EMBER_TARGET_AVX512_DOT inline void ukernel_u8s8_asm_6x64(std::int64_t kp, const void* a_,
                                                         const void* b_, std::int32_t* c,
                                                         std::int64_t rs_c, std::int64_t cs_c,
                                                         std::int64_t m_cur, std::int64_t n_cur,
                                                         std::int32_t alpha, std::int32_t beta) {
  alignas(64) std::int32_t out[6][64];
  std::int64_t groups = kp / 4;
  const std::int64_t stride = groups * 4;  // bytes between packed A rows
  const char* a0 = static_cast<const char*>(a_);
  const char* a1 = a0 + 3 * stride;
  const char* b = static_cast<const char*>(b_);
  asm volatile(
      "vpxord %%zmm8, %%zmm8, %%zmm8\n"
      "vpxord %%zmm9, %%zmm9, %%zmm9\n"
      "vpxord %%zmm10, %%zmm10, %%zmm10\n"
      "vpxord %%zmm11, %%zmm11, %%zmm11\n"
      "vpxord %%zmm12, %%zmm12, %%zmm12\n"
      "vpxord %%zmm13, %%zmm13, %%zmm13\n"
      "vpxord %%zmm14, %%zmm14, %%zmm14\n"
      "vpxord %%zmm15, %%zmm15, %%zmm15\n"
      "vpxord %%zmm16, %%zmm16, %%zmm16\n"
      "vpxord %%zmm17, %%zmm17, %%zmm17\n"
      "vpxord %%zmm18, %%zmm18, %%zmm18\n"
      "vpxord %%zmm19, %%zmm19, %%zmm19\n"
      "vpxord %%zmm20, %%zmm20, %%zmm20\n"
      "vpxord %%zmm21, %%zmm21, %%zmm21\n"
      "vpxord %%zmm22, %%zmm22, %%zmm22\n"
      "vpxord %%zmm23, %%zmm23, %%zmm23\n"
      "vpxord %%zmm24, %%zmm24, %%zmm24\n"
      "vpxord %%zmm25, %%zmm25, %%zmm25\n"
      "vpxord %%zmm26, %%zmm26, %%zmm26\n"
      "vpxord %%zmm27, %%zmm27, %%zmm27\n"
      "vpxord %%zmm28, %%zmm28, %%zmm28\n"
      "vpxord %%zmm29, %%zmm29, %%zmm29\n"
      "vpxord %%zmm30, %%zmm30, %%zmm30\n"
      "vpxord %%zmm31, %%zmm31, %%zmm31\n"
      "test %[n], %[n]\n"
      "jz 2f\n"
      "1:\n"
      "vpbroadcastd (%[a0]), %%zmm7\n"
      "vpbroadcastd (%[a0],%[s],1), %%zmm6\n"
      "vpbroadcastd (%[a0],%[s],2), %%zmm5\n"
      "vpbroadcastd (%[a1]), %%zmm4\n"
      "vpbroadcastd (%[a1],%[s],1), %%zmm3\n"
      "vpbroadcastd (%[a1],%[s],2), %%zmm2\n"
      "vmovdqu32 (%[b]), %%zmm0\n"
      "vpdpbusd %%zmm0, %%zmm7, %%zmm8\n"
      "vpdpbusd %%zmm0, %%zmm6, %%zmm12\n"
      "vpdpbusd %%zmm0, %%zmm5, %%zmm16\n"
      "vpdpbusd %%zmm0, %%zmm4, %%zmm20\n"
      "vpdpbusd %%zmm0, %%zmm3, %%zmm24\n"
      "vpdpbusd %%zmm0, %%zmm2, %%zmm28\n"
      "vmovdqu32 64(%[b]), %%zmm0\n"
      "vpdpbusd %%zmm0, %%zmm7, %%zmm9\n"
      "vpdpbusd %%zmm0, %%zmm6, %%zmm13\n"
      "vpdpbusd %%zmm0, %%zmm5, %%zmm17\n"
      "vpdpbusd %%zmm0, %%zmm4, %%zmm21\n"
      "vpdpbusd %%zmm0, %%zmm3, %%zmm25\n"
      "vpdpbusd %%zmm0, %%zmm2, %%zmm29\n"
      "vmovdqu32 128(%[b]), %%zmm0\n"
      "vpdpbusd %%zmm0, %%zmm7, %%zmm10\n"
      "vpdpbusd %%zmm0, %%zmm6, %%zmm14\n"
      "vpdpbusd %%zmm0, %%zmm5, %%zmm18\n"
      "vpdpbusd %%zmm0, %%zmm4, %%zmm22\n"
      "vpdpbusd %%zmm0, %%zmm3, %%zmm26\n"
      "vpdpbusd %%zmm0, %%zmm2, %%zmm30\n"
      "vmovdqu32 192(%[b]), %%zmm0\n"
      "vpdpbusd %%zmm0, %%zmm7, %%zmm11\n"
      "vpdpbusd %%zmm0, %%zmm6, %%zmm15\n"
      "vpdpbusd %%zmm0, %%zmm5, %%zmm19\n"
      "vpdpbusd %%zmm0, %%zmm4, %%zmm23\n"
      "vpdpbusd %%zmm0, %%zmm3, %%zmm27\n"
      "vpdpbusd %%zmm0, %%zmm2, %%zmm31\n"
      "add $4, %[a0]\n"
      "add $4, %[a1]\n"
      "add $256, %[b]\n"
      "dec %[n]\n"
      "jnz 1b\n"
      "2:\n"
      "vmovdqu32 %%zmm8, 0(%[out])\n"
      "vmovdqu32 %%zmm9, 64(%[out])\n"
      "vmovdqu32 %%zmm10, 128(%[out])\n"
      "vmovdqu32 %%zmm11, 192(%[out])\n"
      "vmovdqu32 %%zmm12, 256(%[out])\n"
      "vmovdqu32 %%zmm13, 320(%[out])\n"
      "vmovdqu32 %%zmm14, 384(%[out])\n"
      "vmovdqu32 %%zmm15, 448(%[out])\n"
      "vmovdqu32 %%zmm16, 512(%[out])\n"
      "vmovdqu32 %%zmm17, 576(%[out])\n"
      "vmovdqu32 %%zmm18, 640(%[out])\n"
      "vmovdqu32 %%zmm19, 704(%[out])\n"
      "vmovdqu32 %%zmm20, 768(%[out])\n"
      "vmovdqu32 %%zmm21, 832(%[out])\n"
      "vmovdqu32 %%zmm22, 896(%[out])\n"
      "vmovdqu32 %%zmm23, 960(%[out])\n"
      "vmovdqu32 %%zmm24, 1024(%[out])\n"
      "vmovdqu32 %%zmm25, 1088(%[out])\n"
      "vmovdqu32 %%zmm26, 1152(%[out])\n"
      "vmovdqu32 %%zmm27, 1216(%[out])\n"
      "vmovdqu32 %%zmm28, 1280(%[out])\n"
      "vmovdqu32 %%zmm29, 1344(%[out])\n"
      "vmovdqu32 %%zmm30, 1408(%[out])\n"
      "vmovdqu32 %%zmm31, 1472(%[out])\n"
      : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(groups)
      : [s] "r"(stride), [out] "r"(out)
      : "memory", "cc", "xmm0", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
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
        _mm512_mask_storeu_epi32(ci + 16 * v, m, r);
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

/// bf16, 6 × 64: the int8 kernel's assembly loop with vdpbf16ps (pairs, fp32 accumulators).
/// A: row layout (6 rows of kp/2 pairs, `stride` bytes apart); B: grouped, 64 columns × pairs.
EMBER_TARGET_AVX512_DOT inline void ukernel_bf16_asm_6x64(std::int64_t kp, const void* a_,
                                                         const void* b_, float* c,
                                                         std::int64_t rs_c, std::int64_t cs_c,
                                                         std::int64_t m_cur, std::int64_t n_cur,
                                                         float alpha, float beta) {
  alignas(64) float out[6][64];
  std::int64_t groups = kp / 2;
  const std::int64_t stride = groups * 4;  // bytes between packed A rows
  const char* a0 = static_cast<const char*>(a_);
  const char* a1 = a0 + 3 * stride;
  const char* b = static_cast<const char*>(b_);
  asm volatile(
      "vpxord %%zmm8, %%zmm8, %%zmm8\n"
      "vpxord %%zmm9, %%zmm9, %%zmm9\n"
      "vpxord %%zmm10, %%zmm10, %%zmm10\n"
      "vpxord %%zmm11, %%zmm11, %%zmm11\n"
      "vpxord %%zmm12, %%zmm12, %%zmm12\n"
      "vpxord %%zmm13, %%zmm13, %%zmm13\n"
      "vpxord %%zmm14, %%zmm14, %%zmm14\n"
      "vpxord %%zmm15, %%zmm15, %%zmm15\n"
      "vpxord %%zmm16, %%zmm16, %%zmm16\n"
      "vpxord %%zmm17, %%zmm17, %%zmm17\n"
      "vpxord %%zmm18, %%zmm18, %%zmm18\n"
      "vpxord %%zmm19, %%zmm19, %%zmm19\n"
      "vpxord %%zmm20, %%zmm20, %%zmm20\n"
      "vpxord %%zmm21, %%zmm21, %%zmm21\n"
      "vpxord %%zmm22, %%zmm22, %%zmm22\n"
      "vpxord %%zmm23, %%zmm23, %%zmm23\n"
      "vpxord %%zmm24, %%zmm24, %%zmm24\n"
      "vpxord %%zmm25, %%zmm25, %%zmm25\n"
      "vpxord %%zmm26, %%zmm26, %%zmm26\n"
      "vpxord %%zmm27, %%zmm27, %%zmm27\n"
      "vpxord %%zmm28, %%zmm28, %%zmm28\n"
      "vpxord %%zmm29, %%zmm29, %%zmm29\n"
      "vpxord %%zmm30, %%zmm30, %%zmm30\n"
      "vpxord %%zmm31, %%zmm31, %%zmm31\n"
      "test %[n], %[n]\n"
      "jz 2f\n"
      "1:\n"
      "vpbroadcastd (%[a0]), %%zmm7\n"
      "vpbroadcastd (%[a0],%[s],1), %%zmm6\n"
      "vpbroadcastd (%[a0],%[s],2), %%zmm5\n"
      "vpbroadcastd (%[a1]), %%zmm4\n"
      "vpbroadcastd (%[a1],%[s],1), %%zmm3\n"
      "vpbroadcastd (%[a1],%[s],2), %%zmm2\n"
      "vmovdqu32 (%[b]), %%zmm0\n"
      "vdpbf16ps %%zmm0, %%zmm7, %%zmm8\n"
      "vdpbf16ps %%zmm0, %%zmm6, %%zmm12\n"
      "vdpbf16ps %%zmm0, %%zmm5, %%zmm16\n"
      "vdpbf16ps %%zmm0, %%zmm4, %%zmm20\n"
      "vdpbf16ps %%zmm0, %%zmm3, %%zmm24\n"
      "vdpbf16ps %%zmm0, %%zmm2, %%zmm28\n"
      "vmovdqu32 64(%[b]), %%zmm0\n"
      "vdpbf16ps %%zmm0, %%zmm7, %%zmm9\n"
      "vdpbf16ps %%zmm0, %%zmm6, %%zmm13\n"
      "vdpbf16ps %%zmm0, %%zmm5, %%zmm17\n"
      "vdpbf16ps %%zmm0, %%zmm4, %%zmm21\n"
      "vdpbf16ps %%zmm0, %%zmm3, %%zmm25\n"
      "vdpbf16ps %%zmm0, %%zmm2, %%zmm29\n"
      "vmovdqu32 128(%[b]), %%zmm0\n"
      "vdpbf16ps %%zmm0, %%zmm7, %%zmm10\n"
      "vdpbf16ps %%zmm0, %%zmm6, %%zmm14\n"
      "vdpbf16ps %%zmm0, %%zmm5, %%zmm18\n"
      "vdpbf16ps %%zmm0, %%zmm4, %%zmm22\n"
      "vdpbf16ps %%zmm0, %%zmm3, %%zmm26\n"
      "vdpbf16ps %%zmm0, %%zmm2, %%zmm30\n"
      "vmovdqu32 192(%[b]), %%zmm0\n"
      "vdpbf16ps %%zmm0, %%zmm7, %%zmm11\n"
      "vdpbf16ps %%zmm0, %%zmm6, %%zmm15\n"
      "vdpbf16ps %%zmm0, %%zmm5, %%zmm19\n"
      "vdpbf16ps %%zmm0, %%zmm4, %%zmm23\n"
      "vdpbf16ps %%zmm0, %%zmm3, %%zmm27\n"
      "vdpbf16ps %%zmm0, %%zmm2, %%zmm31\n"
      "add $4, %[a0]\n"
      "add $4, %[a1]\n"
      "add $256, %[b]\n"
      "dec %[n]\n"
      "jnz 1b\n"
      "2:\n"
      "vmovdqu32 %%zmm8, 0(%[out])\n"
      "vmovdqu32 %%zmm9, 64(%[out])\n"
      "vmovdqu32 %%zmm10, 128(%[out])\n"
      "vmovdqu32 %%zmm11, 192(%[out])\n"
      "vmovdqu32 %%zmm12, 256(%[out])\n"
      "vmovdqu32 %%zmm13, 320(%[out])\n"
      "vmovdqu32 %%zmm14, 384(%[out])\n"
      "vmovdqu32 %%zmm15, 448(%[out])\n"
      "vmovdqu32 %%zmm16, 512(%[out])\n"
      "vmovdqu32 %%zmm17, 576(%[out])\n"
      "vmovdqu32 %%zmm18, 640(%[out])\n"
      "vmovdqu32 %%zmm19, 704(%[out])\n"
      "vmovdqu32 %%zmm20, 768(%[out])\n"
      "vmovdqu32 %%zmm21, 832(%[out])\n"
      "vmovdqu32 %%zmm22, 896(%[out])\n"
      "vmovdqu32 %%zmm23, 960(%[out])\n"
      "vmovdqu32 %%zmm24, 1024(%[out])\n"
      "vmovdqu32 %%zmm25, 1088(%[out])\n"
      "vmovdqu32 %%zmm26, 1152(%[out])\n"
      "vmovdqu32 %%zmm27, 1216(%[out])\n"
      "vmovdqu32 %%zmm28, 1280(%[out])\n"
      "vmovdqu32 %%zmm29, 1344(%[out])\n"
      "vmovdqu32 %%zmm30, 1408(%[out])\n"
      "vmovdqu32 %%zmm31, 1472(%[out])\n"
      : [a0] "+r"(a0), [a1] "+r"(a1), [b] "+r"(b), [n] "+r"(groups)
      : [s] "r"(stride), [out] "r"(out)
      : "memory", "cc", "xmm0", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
  if (cs_c == 1) {
    const __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
    for (std::int64_t i = 0; i < m_cur; ++i) {
      float* ci = c + i * rs_c;
      for (int v = 0; v < 4; ++v) {
        const __mmask16 m = column_mask(n_cur, v);
        if (m == 0) break;
        __m512 r = _mm512_mul_ps(valpha, _mm512_load_ps(&out[i][16 * v]));
        if (beta != 0.0f) r = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m, ci + 16 * v), r);
        _mm512_mask_storeu_ps(ci + 16 * v, m, r);
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

#undef EMBER_TARGET_AVX512_DOT

}  // namespace ember::detail::avx512_dot
