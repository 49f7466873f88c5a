// ember/kernels/gemm/x86/ukernel_amx.hpp — AMX tile micro-kernels, 32 × 32: bf16 pairs with
// fp32 accumulation (tdpbf16ps) and u8·s8 quads with int32 accumulation (tdpbusd).
// Layer: kernels/gemm. Function-level target attributes in an ISA-named namespace (as the other
// kernels). g++ 12's _tile_* intrinsics are macros over inline asm whose tile numbers must be
// literals, so the tile plan is written out:
//
//   tmm0 tmm1      C, 2×2 tiles of 16×16 fp32/int32 (32 rows × 32 columns of C)
//   tmm2 tmm3
//   tmm4, tmm5     A, rows 0–15 and 16–31: 16 rows × 64 bytes (32 bf16 or 64 u8 depths)
//   tmm6, tmm7     B, columns 0–15 and 16–31: 16 rows of pairs/quads × 16 columns × 4 bytes
//
// Per depth block (32 bf16 / 64 int8): 4 tile loads, 4 tile products, each loaded tile used
// twice — the most reuse 8 tiles allow. Edge tiles (m_cur ≤ 16 or n_cur ≤ 16) skip the tiles
// they do not need. Where the tiles cover C exactly with contiguous rows, alpha = 1 and
// beta ∈ {0, 1}, C is loaded into (or zeroed in) the accumulators and stored straight back;
// otherwise a 32×32 buffer and a 16-lane combine apply alpha and beta.
//
// Operands come packed as pack_mixed.hpp's grouped layout: A with R = 32, G = 64 bytes (one
// tile row per packed row: A0 at a + q·2048, 64-byte stride; A1 1024 bytes further), B with
// R = 32, G = 4 bytes (B0 at b + q·2048, 128-byte stride; B1 64 bytes further).
//
// Configuration: each thread loads the tile configuration when the driver starts on it
// (configure(), palette 1, 8 tiles of 16 rows × 64 bytes) and releases the tiles when it is done
// (release()), so another library's tile use between two calls cannot leave a wrong
// configuration behind, and the kernel never leaves tile state for the OS to save.
//
// Targets (issue 12): ≥ 50% of the AMX bf16 peak (bench_peak's probe) at 256 ≤ n ≤ 1024 on one
// thread, ≥ 1.0× oneDNN. Reached (2026-12-04, a 16-core Xeon guest with AMX, the only AMX run
// so far; README "GEMM (bf16 and int8)"): this micro-kernel with operands in L1 runs at 64%
// (bf16, 1,943 GFLOP/s) and 54% (int8, 3,275 GOP/s) of the probe; the GEMM at 28–34% (bf16) and
// 17–24% (int8) of it, 1.00–1.14× oneDNN on bf16 squares from 256³ on one thread, 0.28–1.67×
// over all shapes and thread counts. Missed for the reasons measured there: per-call packing
// and tile loads streaming B from L2.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <type_traits>

namespace ember::detail::amx {

#define EMBER_TARGET_AMX \
  __attribute__((target("amx-tile,amx-bf16,amx-int8,avx512f,avx512vl,avx512dq,avx512bw")))

struct alignas(64) TileConfig {
  std::uint8_t palette_id = 0;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

/// The configuration the kernels run with: palette 1, tiles 0–7 of 16 rows × 64 bytes.
inline TileConfig kernel_config() {
  TileConfig cfg;
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  return cfg;
}

// ldtilecfg / sttilecfg in inline assembly of our own, with the whole 64-byte object as the
// memory operand. g++ 12's _tile_loadconfig names only the first 8 bytes as its operand
// ("m"(*(const void**)config)), so g++ deleted the stores of the row and column sizes as dead:
// the tiles were loaded with palette 1 and zero-sized tiles, and the first tile load raised #UD
// (SIGILL) — found on the first run on AMX hardware (Xeon, 2026-12-04). GCC 13 reads the whole
// object through a builtin; this form is right for every compiler.
EMBER_TARGET_AMX inline void configure() {
  const TileConfig cfg = kernel_config();
  __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

/// The tile configuration in force on this thread (all zero when the tiles are released).
EMBER_TARGET_AMX inline TileConfig loaded_config() {
  TileConfig cfg;
  __asm__ volatile("sttilecfg %0" : "=m"(cfg));
  return cfg;
}

EMBER_TARGET_AMX inline void release() {
  _tile_release();
}

// The C tiles: tmm0 (rows 0–15, columns 0–15), tmm1 (columns 16–31), tmm2, tmm3 (rows 16–31).
// Rows `stride` bytes apart. g++ 12's _tile_loadd names no memory operand, so a compiler
// barrier comes first: the C (or buffer) bytes it reads must be in memory by then.
template <int MT, int NT>
EMBER_TARGET_AMX inline void zero_c() {
  _tile_zero(0);
  if constexpr (NT == 2) _tile_zero(1);
  if constexpr (MT == 2) _tile_zero(2);
  if constexpr (MT == 2 && NT == 2) _tile_zero(3);
}

template <int MT, int NT>
EMBER_TARGET_AMX inline void load_c(const void* c, std::int64_t stride) {
  const char* p = static_cast<const char*>(c);
  __asm__ volatile("" ::: "memory");
  _tile_loadd(0, p, stride);
  if constexpr (NT == 2) _tile_loadd(1, p + 64, stride);
  if constexpr (MT == 2) _tile_loadd(2, p + 16 * stride, stride);
  if constexpr (MT == 2 && NT == 2) _tile_loadd(3, p + 16 * stride + 64, stride);
}

template <int MT, int NT>
EMBER_TARGET_AMX inline void store_c(void* c, std::int64_t stride) {
  char* p = static_cast<char*>(c);
  _tile_stored(0, p, stride);
  if constexpr (NT == 2) _tile_stored(1, p + 64, stride);
  if constexpr (MT == 2) _tile_stored(2, p + 16 * stride, stride);
  if constexpr (MT == 2 && NT == 2) _tile_stored(3, p + 16 * stride + 64, stride);
}

// The depth loop for MT×NT tiles of C, accumulating onto them. kInt8 selects tdpbusd.
template <int MT, int NT, bool kInt8>
EMBER_TARGET_AMX inline void tile_loop(std::int64_t blocks, const char* a, const char* b) {
  __asm__ volatile("" ::: "memory");  // the packed operands are in memory (see load_c)
  for (std::int64_t q = 0; q < blocks; ++q) {
    const char* aq = a + q * 2048;
    const char* bq = b + q * 2048;
    _tile_loadd(4, aq, 64);
    _tile_loadd(6, bq, 128);
    if constexpr (NT == 2) _tile_loadd(7, bq + 64, 128);
    if constexpr (MT == 2) _tile_loadd(5, aq + 1024, 64);
    if constexpr (kInt8) {
      _tile_dpbusd(0, 4, 6);
      if constexpr (NT == 2) _tile_dpbusd(1, 4, 7);
      if constexpr (MT == 2) _tile_dpbusd(2, 5, 6);
      if constexpr (MT == 2 && NT == 2) _tile_dpbusd(3, 5, 7);
    } else {
      _tile_dpbf16ps(0, 4, 6);
      if constexpr (NT == 2) _tile_dpbf16ps(1, 4, 7);
      if constexpr (MT == 2) _tile_dpbf16ps(2, 5, 6);
      if constexpr (MT == 2 && NT == 2) _tile_dpbf16ps(3, 5, 7);
    }
  }
}

/// c = alpha·buf + beta·c over m_cur × n_cur (beta == 0: c unread); integers wrap. Rows of C
/// contiguous (cs_c == 1): 16 lanes at a time, the row's tail masked; else element by element.
template <class TC>
EMBER_TARGET_AMX inline void combine(const TC (&buf)[32][32], TC* c, std::int64_t rs_c,
                                     std::int64_t cs_c, std::int64_t m_cur, std::int64_t n_cur,
                                     TC alpha, TC beta) {
  constexpr bool kFloat = std::is_same_v<TC, float>;
  if (cs_c == 1) {
    for (std::int64_t i = 0; i < m_cur; ++i) {
      TC* row = c + i * rs_c;
      for (std::int64_t j = 0; j < n_cur; j += 16) {
        const __mmask16 k = n_cur - j >= 16 ? __mmask16(0xFFFF)
                                            : static_cast<__mmask16>((1u << (n_cur - j)) - 1u);
        if constexpr (kFloat) {
          __m512 v = _mm512_mul_ps(_mm512_set1_ps(alpha), _mm512_load_ps(&buf[i][j]));
          if (beta != 0.0f)
            v = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(k, row + j), v);
          _mm512_mask_storeu_ps(row + j, k, v);
        } else {
          __m512i v = _mm512_mullo_epi32(_mm512_set1_epi32(alpha),
                                         _mm512_load_si512(static_cast<const void*>(&buf[i][j])));
          if (beta != 0)
            v = _mm512_add_epi32(v, _mm512_mullo_epi32(_mm512_set1_epi32(beta),
                                                       _mm512_maskz_loadu_epi32(k, row + j)));
          _mm512_mask_storeu_epi32(row + j, k, v);
        }
      }
    }
    return;
  }
  for (std::int64_t i = 0; i < m_cur; ++i) {
    for (std::int64_t j = 0; j < n_cur; ++j) {
      TC& cij = c[i * rs_c + j * cs_c];
      if constexpr (kFloat) {
        cij = beta == 0.0f ? alpha * buf[i][j] : alpha * buf[i][j] + beta * cij;
      } else {
        const auto prod = static_cast<std::uint32_t>(alpha) * static_cast<std::uint32_t>(buf[i][j]);
        const auto old =
            beta == 0 ? 0u : static_cast<std::uint32_t>(beta) * static_cast<std::uint32_t>(cij);
        cij = static_cast<TC>(prod + old);
      }
    }
  }
}

// One shape of C tiles. Where the tiles cover C exactly (m_cur = 16·MT, n_cur = 16·NT), rows
// are contiguous and alpha = 1, beta ∈ {0, 1} — every call of the driver's K loop but a user's
// alpha/beta, and most calls of a large product — the tiles start from C (beta = 1) or zero and
// are stored straight back into C. Otherwise they go through a 32×32 buffer and combine().
template <int MT, int NT, bool kInt8, class TC>
EMBER_TARGET_AMX inline void run(std::int64_t kp, const void* a, const void* b, TC* c,
                                 std::int64_t rs_c, std::int64_t cs_c, std::int64_t m_cur,
                                 std::int64_t n_cur, TC alpha, TC beta) {
  const std::int64_t blocks = kp / (kInt8 ? 64 : 32);
  const auto* ap = static_cast<const char*>(a);
  const auto* bp = static_cast<const char*>(b);
  if (m_cur == 16 * MT && n_cur == 16 * NT && cs_c == 1 && alpha == TC(1) &&
      (beta == TC(0) || beta == TC(1))) {
    const std::int64_t stride = rs_c * static_cast<std::int64_t>(sizeof(TC));
    if (beta == TC(0))
      zero_c<MT, NT>();
    else
      load_c<MT, NT>(c, stride);
    tile_loop<MT, NT, kInt8>(blocks, ap, bp);
    store_c<MT, NT>(c, stride);
    return;
  }
  alignas(64) TC buf[32][32];
  zero_c<MT, NT>();
  tile_loop<MT, NT, kInt8>(blocks, ap, bp);
  store_c<MT, NT>(buf, 128);
  combine(buf, c, rs_c, cs_c, m_cur, n_cur, alpha, beta);
}

template <bool kInt8, class TC>
EMBER_TARGET_AMX inline void ukernel(std::int64_t kp, const void* a, const void* b, TC* c,
                                     std::int64_t rs_c, std::int64_t cs_c, std::int64_t m_cur,
                                     std::int64_t n_cur, TC alpha, TC beta) {
  const bool two_m = m_cur > 16, two_n = n_cur > 16;
  if (two_m && two_n)
    run<2, 2, kInt8>(kp, a, b, c, rs_c, cs_c, m_cur, n_cur, alpha, beta);
  else if (two_m)
    run<2, 1, kInt8>(kp, a, b, c, rs_c, cs_c, m_cur, n_cur, alpha, beta);
  else if (two_n)
    run<1, 2, kInt8>(kp, a, b, c, rs_c, cs_c, m_cur, n_cur, alpha, beta);
  else
    run<1, 1, kInt8>(kp, a, b, c, rs_c, cs_c, m_cur, n_cur, alpha, beta);
}

EMBER_TARGET_AMX inline void ukernel_bf16(std::int64_t kp, const void* a, const void* b, float* c,
                                          std::int64_t rs_c, std::int64_t cs_c,
                                          std::int64_t m_cur, std::int64_t n_cur, float alpha,
                                          float beta) {
  ukernel<false, float>(kp, a, b, c, rs_c, cs_c, m_cur, n_cur, alpha, beta);
}

EMBER_TARGET_AMX inline void ukernel_u8s8(std::int64_t kp, const void* a, const void* b,
                                          std::int32_t* c, std::int64_t rs_c, std::int64_t cs_c,
                                          std::int64_t m_cur, std::int64_t n_cur,
                                          std::int32_t alpha, std::int32_t beta) {
  ukernel<true, std::int32_t>(kp, a, b, c, rs_c, cs_c, m_cur, n_cur, alpha, beta);
}

#undef EMBER_TARGET_AMX

}  // namespace ember::detail::amx
