// ember/kernels/gemm/mixed_driver.hpp — the GEMM driver for kernels whose inputs, packed
// operands and accumulator differ in type: bf16 products with fp32 accumulation, u8·s8 with
// int32 accumulation, and fp32 kernels fed bf16-rounded operands.
// Layer: kernels/gemm. The same five loops as driver.hpp (read its comment for the loop order
// and the thread split), with two differences:
//   * packing converts while it lays out (fp32 → bf16, u8/s8 → the kernel's type) and always
//     runs: every kernel here reads its own packed layout (pair- or quad-interleaved for the
//     dot-product instructions, tile rows for AMX), never the caller's matrix — except that B
//     may come packed ahead of time (PrepackedB; packed.hpp), for weights used many times;
//   * the depth of a packed block is padded with zeros to a multiple of the kernel's k-group
//     (2 for bf16 pairs, 4 for int8 quads, 32/64 for AMX tiles), so odd k needs no edge kernel.
//
// A kernel row (MixedKernel) says everything the driver needs: tile MR×NR, k-group, bytes per
// packed element, block sizes, its two packing functions and the micro-kernel; optionally a
// per-thread begin/end (AMX loads its tile configuration and releases the tiles).
#pragma once

#include <algorithm>
#include <cstdint>

#include "ember/kernels/cpu.hpp"
#include "ember/kernels/gemm/blocking.hpp"
#include "ember/kernels/gemm/driver.hpp"

namespace ember::detail {

/// One row of a mixed-type kernel table: C (TC) = alpha·A (TA)·B (TB) + beta·C.
template <class TA, class TB, class TC>
struct MixedKernel {
  const char* name;
  Isa isa;
  std::int64_t mr, nr, kgroup;
  std::int64_t a_elem_bytes, b_elem_bytes;  // size of one packed element
  GemmBlocking blocking;                    // mr, nr repeated; kc a multiple of kgroup
  /// Packs rows×kc of A (rows ≤ mr) into one sliver of mr rows, depth padded to kp.
  void (*pack_a)(std::int64_t rows, std::int64_t kc, const TA* a, std::int64_t rs,
                 std::int64_t cs, void* dst);
  /// Packs kc×cols of B (cols ≤ nr) into one sliver of nr columns, depth padded to kp.
  void (*pack_b)(std::int64_t cols, std::int64_t kc, const TB* b, std::int64_t rs,
                 std::int64_t cs, void* dst);
  /// c[0:m_cur, 0:n_cur] = alpha·(A·B) + beta·c over a padded depth kp (beta == 0: c unread).
  void (*kernel)(std::int64_t kp, const void* a, const void* b, TC* c, std::int64_t rs_c,
                 std::int64_t cs_c, std::int64_t m_cur, std::int64_t n_cur, TC alpha, TC beta);
  void (*thread_begin)() = nullptr;
  void (*thread_end)() = nullptr;
  /// Optional: packs rows×kc of A (rows ≤ a_block·mr) into ⌈rows/mr⌉ consecutive slivers,
  /// the same bytes as pack_a per sliver, where a pass over several slivers is cheaper (a
  /// transposed A's 16×16 transposes then keep all 16 rows). null: pack_a per sliver.
  void (*pack_a_block)(std::int64_t rows, std::int64_t kc, const TA* a, std::int64_t rs,
                       std::int64_t cs, void* dst) = nullptr;
  std::int64_t a_block = 1;  // slivers per pack_a_block call
};

inline std::int64_t round_up(std::int64_t x, std::int64_t to) {
  return (x + to - 1) / to * to;
}

/// The five loops for a mixed kernel (always packing both operands).
template <class TA, class TB, class TC>
void mixed_gemm_driver(std::int64_t m, std::int64_t n, std::int64_t k, TC alpha,
                       MatRef<const TA> a, MatRef<const TB> b, TC beta, MatRef<TC> c,
                       const MixedKernel<TA, TB, TC>& kern, GemmBlocking bs, int nthreads,
                       const Epilogue<TC>* ep = nullptr, const PrepackedB* pre = nullptr) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == TC(0)) {
    scale_c(m, n, beta, c);
    if (ep != nullptr) apply_epilogue(*ep, c.p, c.rs, c.cs, m, n, 0, 0);
    return;
  }
  const std::int64_t MR = kern.mr, NR = kern.nr, G = kern.kgroup;
  const std::int64_t MC = std::max(MR, bs.mc / MR * MR);
  const std::int64_t nc_cap = std::max(NR, bs.nc * std::max(nthreads, 1) / NR * NR);
  const std::int64_t n_panels = (n + nc_cap - 1) / nc_cap;
  const std::int64_t NC = ((n + n_panels - 1) / n_panels + NR - 1) / NR * NR;
  // A pre-packed B fixes the depth blocks it was packed with (b is then unused).
  const std::int64_t KC = pre != nullptr ? pre->kc : depth_block(bs.kc, G);
  const std::int64_t mc_max = std::min(MC, round_up(m, MR));
  const std::int64_t nc_max = std::min(NC, round_up(n, NR));
  const std::int64_t kp_max = round_up(std::min(KC, k), G);
  auto* ap = static_cast<unsigned char*>(gemm_scratch(0).get(
      static_cast<std::size_t>(mc_max * kp_max * kern.a_elem_bytes)));
  auto* bp = pre != nullptr ? nullptr
                            : static_cast<unsigned char*>(gemm_scratch(1).get(
                                  static_cast<std::size_t>(nc_max * kp_max * kern.b_elem_bytes)));

  // Phases as in driver.hpp: pack B (items: B slivers; none when B is pre-packed), pack A
  // (items: A slivers), compute.
  auto body = [&](PhasedWork::Member& me, int team) {
    if (kern.thread_begin) kern.thread_begin();
    struct End {  // releases the AMX tiles even if a phase throws
      void (*end)();
      ~End() {
        if (end) end();
      }
    } end{kern.thread_end};
    for (std::int64_t jc = 0; jc < n; jc += NC) {
      const std::int64_t nc = std::min(NC, n - jc);
      const std::int64_t n_slivers = (nc + NR - 1) / NR;
      for (std::int64_t pc = 0; pc < k; pc += KC) {
        const std::int64_t kc = std::min(KC, k - pc), kp = round_up(kc, G);
        const std::int64_t a_sliver = MR * kp * kern.a_elem_bytes;
        const std::int64_t b_sliver = NR * kp * kern.b_elem_bytes;
        const TC beta_pc = pc == 0 ? beta : TC(1);
        const unsigned char* panel =
            pre != nullptr ? pre->data + prepacked_block_offset(n, NR, KC, kern.b_elem_bytes, pc) +
                                 (jc / NR) * b_sliver
                           : bp;
        if (pre == nullptr) {
          me.phase(n_slivers, [&](std::int64_t s) {
            const std::int64_t j0 = s * NR;
            kern.pack_b(std::min(NR, nc - j0), kc, b.p + pc * b.rs + (jc + j0) * b.cs, b.rs, b.cs,
                        bp + s * b_sliver);
          });
        }
        for (std::int64_t ic = 0; ic < m; ic += MC) {
          const std::int64_t mc = std::min(MC, m - ic);
          const std::int64_t m_slivers = (mc + MR - 1) / MR;
          // Items: blocks of a_block slivers where the row packs them at once, else slivers.
          const std::int64_t per = kern.pack_a_block != nullptr ? kern.a_block : 1;
          me.phase((m_slivers + per - 1) / per, [&](std::int64_t s) {
            const std::int64_t i0 = s * per * MR, rows = std::min(per * MR, mc - i0);
            const TA* src = a.p + (ic + i0) * a.rs + pc * a.cs;
            unsigned char* dst = ap + s * per * a_sliver;
            if (kern.pack_a_block != nullptr)
              kern.pack_a_block(rows, kc, src, a.rs, a.cs, dst);
            else
              kern.pack_a(rows, kc, src, a.rs, a.cs, dst);
          });
          auto tiles = [&](std::int64_t ir, std::int64_t jr_lo, std::int64_t jr_hi) {
            const std::int64_t i0 = ir * MR, m_cur = std::min(MR, mc - i0);
            const Epilogue<TC>* last_ep = pc + kc == k ? ep : nullptr;
            tile_strip(last_ep, c, ic + i0, m_cur, jc, nc, NR, jr_lo, jr_hi, [&](std::int64_t jr) {
              const std::int64_t j0 = jr * NR, n_cur = std::min(NR, nc - j0);
              TC* c_tile = c.p + (ic + i0) * c.rs + (jc + j0) * c.cs;
              kern.kernel(kp, ap + ir * a_sliver, panel + jr * b_sliver, c_tile, c.rs, c.cs, m_cur,
                          n_cur, alpha, beta_pc);
            });
          };
          compute_phase(me, m_slivers, n_slivers, mc, nc, team, tiles);
        }
      }
    }
  };

  run_team(nthreads, body);
}

}  // namespace ember::detail
