// ember/kernels/gemm/x86/ukernel_avx2_u8s8.hpp — the u8·s8 → s32 micro-kernel for CPUs with
// AVX2 but no AVX512-VNNI (6 × 16, int16 pairs through vpmaddwd), and its two packing routines.
// Layer: kernels/gemm. Same ODR reasoning as ukernel_avx2_f32.hpp (function-level target
// attribute, ISA-named namespace).
//
// Exact, as every u8s8 row of mixed.hpp: packing widens A (u8) and B (s8) to int16 in pairs
// along k, and vpmaddwd multiplies int16 × int16 and adds each pair into an int32 lane, so a
// product (|x| ≤ 255·128) and a pair's sum (≤ 65 280) never saturate; the int32 accumulators
// wrap as the other kernels' do. vpmaddubsw, which reads the u8 and s8 bytes directly, sums
// each pair into a saturating int16 (255·127·2 > 32 767), so it answers wrongly in silence for
// large values: not used. (oneDNN 2.6's u8·s8 matmul on the Zen 3 guest below does: 64 products
// of 255·127 come out as 1 048 544 = 32 767·32, not 2 072 640.)
//
// Operands (pack_mixed.hpp's grouped layout with G = 2): A as a[q·6 + i] (32-bit units, one
// int16 pair of row i per depth pair q), B as b[q·16 + j] (the pair of column j). Registered
// tile 6×16: 12 ymm accumulators, 2 for B, 1 for the A broadcast, 1 for the products. Per depth
// pair: 2 loads, 6 broadcasts, 12 vpmaddwd + 12 vpaddd (192 multiply-adds).
//
// Target: ≥ 90% of the vpmaddwd + vpaddd ceiling in L1 (bench_peak BM_lowp/int8; bench_gemm
// ukernel_int8/…/k256). Reached on the Zen 3 guest (2026-12-05, 1 thread): ceiling 164.5 GOP/s
// (1.6× the fp32 FMA peak of 102.5 GFLOP/s), kernel 150–159 GOP/s (92–97%); gemm_int8/ember 1024³
// 141 GOP/s against the portable loop's 19 before it (README, "GEMM (bf16 and int8)").
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ember/kernels/gemm/x86/pack_avx2.hpp"

namespace ember::detail::avx2 {

#define EMBER_TARGET_AVX2_INT __attribute__((target("avx2,fma")))

// The depth loop in assembly. From intrinsics (the shape of ukernel_avx2_f32.hpp's depth_loop,
// float-typed accumulators) g++ 12 hoisted the 6 broadcasts of a step to its top — 12 + 2 + 6
// live vectors for 16 registers — and kept 8 of the 12 accumulators on the stack (a load and a
// store per vpaddd); with volatile-asm fences between the rows it kept all 12 there. Here:
// ymm0–11 accumulate, ymm12–13 hold the B pair row, ymm14 the A broadcast, ymm15 the products.
// out receives the 6 × 16 int32 sums.
#define EMBER_U8S8_ROW(OFF, c0, c1)                                                   \
  "vpbroadcastd " #OFF "(%[a]), %%ymm14\n"                                            \
  "vpmaddwd %%ymm12, %%ymm14, %%ymm15\n"                                              \
  "vpaddd %%ymm15, %%ymm" #c0 ", %%ymm" #c0 "\n"                                      \
  "vpmaddwd %%ymm13, %%ymm14, %%ymm15\n"                                              \
  "vpaddd %%ymm15, %%ymm" #c1 ", %%ymm" #c1 "\n"
#define EMBER_U8S8_STORE(OFF, r) "vmovdqu %%ymm" #r ", " #OFF "(%[out])\n"

EMBER_TARGET_AVX2_INT inline void pairs_6x16(std::int64_t pairs, const void* a, const void* b,
                                             std::int32_t (&out)[6][16]) {
  asm volatile(
      "vpxor %%ymm0, %%ymm0, %%ymm0\n"
      "vpxor %%ymm1, %%ymm1, %%ymm1\n"
      "vpxor %%ymm2, %%ymm2, %%ymm2\n"
      "vpxor %%ymm3, %%ymm3, %%ymm3\n"
      "vpxor %%ymm4, %%ymm4, %%ymm4\n"
      "vpxor %%ymm5, %%ymm5, %%ymm5\n"
      "vpxor %%ymm6, %%ymm6, %%ymm6\n"
      "vpxor %%ymm7, %%ymm7, %%ymm7\n"
      "vpxor %%ymm8, %%ymm8, %%ymm8\n"
      "vpxor %%ymm9, %%ymm9, %%ymm9\n"
      "vpxor %%ymm10, %%ymm10, %%ymm10\n"
      "vpxor %%ymm11, %%ymm11, %%ymm11\n"
      "test %[n], %[n]\n"
      "jle 2f\n"
      "1:\n"
      "vmovdqu (%[b]), %%ymm12\n"
      "vmovdqu 32(%[b]), %%ymm13\n"
      EMBER_U8S8_ROW(0, 0, 1) EMBER_U8S8_ROW(4, 2, 3) EMBER_U8S8_ROW(8, 4, 5)
      EMBER_U8S8_ROW(12, 6, 7) EMBER_U8S8_ROW(16, 8, 9) EMBER_U8S8_ROW(20, 10, 11)
      "add $24, %[a]\n"
      "add $64, %[b]\n"
      "dec %[n]\n"
      "jnz 1b\n"
      "2:\n"
      EMBER_U8S8_STORE(0, 0) EMBER_U8S8_STORE(32, 1) EMBER_U8S8_STORE(64, 2)
      EMBER_U8S8_STORE(96, 3) EMBER_U8S8_STORE(128, 4) EMBER_U8S8_STORE(160, 5)
      EMBER_U8S8_STORE(192, 6) EMBER_U8S8_STORE(224, 7) EMBER_U8S8_STORE(256, 8)
      EMBER_U8S8_STORE(288, 9) EMBER_U8S8_STORE(320, 10) EMBER_U8S8_STORE(352, 11)
      : [a] "+r"(a), [b] "+r"(b), [n] "+r"(pairs)
      : [out] "r"(&out[0][0])
      : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

#undef EMBER_U8S8_ROW
#undef EMBER_U8S8_STORE

/// c[0:m_cur, 0:n_cur] = alpha·A·B + beta·c in int32 (wrapping), A 6×kp and B kp×16 packed in
/// int16 pairs, kp even (the packing zero-fills the last pair).
EMBER_TARGET_AVX2_INT inline void ukernel_u8s8_6x16(std::int64_t kp, const void* a_, const void* b_,
                                               std::int32_t* c, std::int64_t rs_c,
                                               std::int64_t cs_c, std::int64_t m_cur,
                                               std::int64_t n_cur, std::int32_t alpha,
                                               std::int32_t beta) {
  alignas(32) std::int32_t out[6][16];
  pairs_6x16(kp / 2, a_, b_, out);
  if (cs_c == 1 && m_cur == 6 && n_cur == 16) {
    const __m256i valpha = _mm256_set1_epi32(alpha), vbeta = _mm256_set1_epi32(beta);
    for (int i = 0; i < 6; ++i) {
      std::int32_t* ci = c + i * rs_c;
      for (int v = 0; v < 2; ++v) {
        auto* cv = reinterpret_cast<__m256i*>(ci + 8 * v);
        const __m256i sum = _mm256_load_si256(reinterpret_cast<const __m256i*>(&out[i][8 * v]));
        __m256i r = alpha == 1 ? sum : _mm256_mullo_epi32(valpha, sum);
        if (beta != 0) r = _mm256_add_epi32(r, _mm256_mullo_epi32(vbeta, _mm256_loadu_si256(cv)));
        _mm256_storeu_si256(cv, r);
      }
    }
    return;
  }
  // Edge tile or strided C: the valid corner element by element (unsigned arithmetic: the
  // wrapping int32 products, without signed overflow).
  for (std::int64_t i = 0; i < m_cur; ++i) {
    for (std::int64_t j = 0; j < n_cur; ++j) {
      std::int32_t& cij = c[i * rs_c + j * cs_c];
      const auto prod = static_cast<std::uint32_t>(alpha) * static_cast<std::uint32_t>(out[i][j]);
      const auto old = beta == 0 ? 0u : static_cast<std::uint32_t>(beta) * static_cast<std::uint32_t>(cij);
      cij = static_cast<std::int32_t>(prod + old);
    }
  }
}

/// Packs a full sliver of 16 columns of a B whose columns are contiguous (row-major: k-stride
/// rs, column stride 1) into int16 pairs: per depth pair, the 16 s8 of each of the two k rows
/// sign-extended and interleaved column by column, zeros for the missing second row of an odd
/// kc. The scalar grouped packing (a strided gather per element) took 30% of a 1024³ int8
/// product's time against the kernel's 50% (perf, Zen 3, 1 thread).
EMBER_TARGET_AVX2_INT inline void pack_b_pairs16(std::int64_t kc, const std::int8_t* src, std::int64_t rs,
                                                 std::int16_t* out) {
  for (std::int64_t p = 0; p < kc; p += 2, out += 32) {
    const __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + p * rs)));
    const __m256i y = p + 1 < kc ? _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                       reinterpret_cast<const __m128i*>(src + (p + 1) * rs)))
                                 : _mm256_setzero_si256();
    // Within each 128-bit lane: lo holds the pairs of columns 0–3 | 8–11, hi of 4–7 | 12–15.
    const __m256i lo = _mm256_unpacklo_epi16(x, y), hi = _mm256_unpackhi_epi16(x, y);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
  }
}

// 16 bytes at p widened to 16 int16: zero-extended (u8, A) or sign-extended (s8, B).
template <class S>
EMBER_TARGET_AVX2_INT inline __m256i widen16(const S* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if constexpr (std::is_same_v<S, std::uint8_t>)
    return _mm256_cvtepu8_epi16(v);
  else
    return _mm256_cvtepi8_epi16(v);
}

// Pairs [0, pairs) (pairs ≤ 8) of 16 depths of R rows at src (row stride rs), as R-unit groups
// per pair at out: per 8 rows, 16 bytes of each widened (8 pairs, one 32-bit unit each), then an
// 8×8 transpose of the units (pack_avx2.hpp's transpose8; missing rows zero).
template <int R, class S>
EMBER_TARGET_AVX2_INT inline void pack_pairs_block(const S* src, std::int64_t rs, int pairs,
                                                   std::int16_t* out) {
  for (int g = 0; g * 8 < R; ++g) {
    const int rows = R - 8 * g < 8 ? R - 8 * g : 8;
    __m256 r[8];
    for (int i = 0; i < 8; ++i)
      r[i] = i < rows ? _mm256_castsi256_ps(widen16(src + (8 * g + i) * rs)) : _mm256_setzero_ps();
    __m256 col[8];  // column c: the units of pair c for the group's 8 rows
    transpose8(r, col);
    for (int c = 0; c < pairs; ++c) {
      auto* d = reinterpret_cast<float*>(out + c * 2 * R + 16 * g);
      if (rows == 8) {
        _mm256_storeu_ps(d, col[c]);
      } else {  // 6 rows: 4 units, then 2
        _mm_storeu_ps(d, _mm256_castps256_ps128(col[c]));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(d + 4), _mm_castps_si128(_mm256_extractf128_ps(col[c], 1)));
      }
    }
  }
}

/// Packs a full sliver of R rows (6: an A; 16: the columns of a B) whose rows are contiguous
/// along k (a row-major A; the B of x·Wᵀ, every quantised Linear) into int16 pairs, 16 depths
/// at a time; the last < 16 depths go through a zero-padded copy (an odd kc's last pair gets a
/// zero). The scalar grouped packing took a third of the kernel's time for A in thin products
/// (4096×64×64) and as much time as the kernel for the B of a quantised Linear.
template <int R, class S>
EMBER_TARGET_AVX2_INT inline void pack_pairs_rows(std::int64_t kc, const S* src, std::int64_t rs,
                                                  std::int16_t* out) {
  std::int64_t p = 0;
  for (; p + 16 <= kc; p += 16, out += 8 * 2 * R) pack_pairs_block<R>(src + p, rs, 8, out);
  if (p < kc) {
    alignas(16) S tail[R][16] = {};
    for (int i = 0; i < R; ++i) std::memcpy(tail[i], src + i * rs + p, static_cast<std::size_t>(kc - p));
    pack_pairs_block<R>(&tail[0][0], 16, static_cast<int>((kc - p + 1) / 2), out);
  }
}

#undef EMBER_TARGET_AVX2_INT

}  // namespace ember::detail::avx2
