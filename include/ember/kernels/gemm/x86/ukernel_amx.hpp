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
// they do not need.
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
// thread, ≥ 1.0× oneDNN. Not measured yet: the machines of the sessions that wrote this code
// had no AMX (see README's GEMM section for what was measured and where).
#pragma once

#include <immintrin.h>

#include <cstdint>

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

// The depth loop for MT×NT tiles of C. kInt8 selects tdpbusd over tdpbf16ps.
template <int MT, int NT, bool kInt8>
EMBER_TARGET_AMX inline void tile_loop(std::int64_t blocks, const char* a, const char* b) {
  _tile_zero(0);
  if constexpr (NT == 2) _tile_zero(1);
  if constexpr (MT == 2) _tile_zero(2);
  if constexpr (MT == 2 && NT == 2) _tile_zero(3);
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

// Stores the C tiles into a 32×32 buffer (row stride 128 bytes).
template <int MT, int NT>
EMBER_TARGET_AMX inline void store_tiles(void* buf) {
  char* p = static_cast<char*>(buf);
  _tile_stored(0, p, 128);
  if constexpr (NT == 2) _tile_stored(1, p + 64, 128);
  if constexpr (MT == 2) _tile_stored(2, p + 16 * 128, 128);
  if constexpr (MT == 2 && NT == 2) _tile_stored(3, p + 16 * 128 + 64, 128);
}

template <int MT, int NT, bool kInt8, class TC>
EMBER_TARGET_AMX inline void run(std::int64_t kp, const void* a, const void* b, TC (&buf)[32][32]) {
  const std::int64_t blocks = kp / (kInt8 ? 64 : 32);
  tile_loop<MT, NT, kInt8>(blocks, static_cast<const char*>(a), static_cast<const char*>(b));
  store_tiles<MT, NT>(buf);
}

/// c = alpha·buf + beta·c over m_cur × n_cur (beta == 0: c unread); integers wrap.
template <class TC>
EMBER_TARGET_AMX inline void combine(const TC (&buf)[32][32], TC* c, std::int64_t rs_c,
                                     std::int64_t cs_c, std::int64_t m_cur, std::int64_t n_cur,
                                     TC alpha, TC beta) {
  for (std::int64_t i = 0; i < m_cur; ++i) {
    for (std::int64_t j = 0; j < n_cur; ++j) {
      TC& cij = c[i * rs_c + j * cs_c];
      if constexpr (std::is_same_v<TC, float>) {
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

template <bool kInt8, class TC>
EMBER_TARGET_AMX inline void ukernel(std::int64_t kp, const void* a, const void* b, TC* c,
                                     std::int64_t rs_c, std::int64_t cs_c, std::int64_t m_cur,
                                     std::int64_t n_cur, TC alpha, TC beta) {
  alignas(64) TC buf[32][32];
  const bool two_m = m_cur > 16, two_n = n_cur > 16;
  if (two_m && two_n)
    run<2, 2, kInt8>(kp, a, b, buf);
  else if (two_m)
    run<2, 1, kInt8>(kp, a, b, buf);
  else if (two_n)
    run<1, 2, kInt8>(kp, a, b, buf);
  else
    run<1, 1, kInt8>(kp, a, b, buf);
  combine(buf, c, rs_c, cs_c, m_cur, n_cur, alpha, beta);
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
