// ember/kernels/gemm/driver.hpp — the GEMM as five loops around one micro-kernel (Goto/BLIS).
// Layer: kernels/gemm. C (m×n) = alpha · A (m×k) · B (k×n) + beta · C, every operand given by a
// pointer and row/column strides in elements, so transposes and sliced views need no copies
// beyond the packing every block gets anyway.
//
//   loop 5  jc: n in steps of NC   — a KC×NC panel of B, packed, sized to live in L2
//   loop 4  pc: k in steps of KC   — pack that B panel; beta applies on the first pc only
//   loop 3  ic: m in steps of MC   — an MC×KC block of A, packed, lives in L3
//   loop 2  ir: MC in steps of MR  — one MR×KC sliver of A, kept in L1
//   loop 1  jr: NC in steps of NR  — KC×NR slivers of B streamed from L2: the micro-kernel
//
// Why A stays in L1 and B streams (BLIS's order for column-major C, transposed): with C
// row-major, consecutive micro-tiles of loop 1 lie side by side in the same MR rows of C, so C
// is walked along its rows (prefetch-friendly, no cache-set conflicts for power-of-two leading
// dimensions). With jr outside ir each tile was MR rows further down: bench_gemm, 1 thread,
// same blocks: 1024³ 191 → 199 GFLOP/s, 2048×256×1024 200 → 209 with this order.
//
// Threads: one team of ember's pool for the whole call (no fork/join per block), working through
// phases (thread_pool.hpp's PhasedWork): pack each B panel and A block together (items: slivers),
// then compute the ir×jr grid of micro-tiles split by A slivers when there are enough, else by
// chunks of B slivers. Each phase starts when the previous one is complete (the barrier), and a
// thread that is descheduled has its items done by the others instead of being waited for. Packing buffers
// come from a per-thread cache that only grows, so a hot loop of GEMM calls allocates nothing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <type_traits>

#include "ember/config.hpp"
#include "ember/core/dtype.hpp"
#include "ember/core/error.hpp"
#include "ember/kernels/gemm/blocking.hpp"
#include "ember/kernels/activation.hpp"
#include "ember/kernels/gemm/pack.hpp"
#include "ember/kernels/thread_pool.hpp"

namespace ember::detail {

/// A matrix operand: element (i, j) at p[i*rs + j*cs].
template <class T>
struct MatRef {
  T* p;
  std::int64_t rs, cs;
};

/// A 64-byte aligned buffer that grows on demand and is never shrunk (reused across calls).
class ScratchBuffer {
 public:
  void* get(std::size_t bytes) {
    if (bytes > capacity_) {
      std::size_t cap = (std::max(bytes, capacity_ * 2) + 63) / 64 * 64;
      void* p = std::aligned_alloc(64, cap);
      if (p == nullptr) fail("gemm", "cannot allocate ", cap, " bytes of packing buffer");
      data_.reset(p);
      capacity_ = cap;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> data_;
  std::size_t capacity_ = 0;
};

inline ScratchBuffer& gemm_scratch(int slot) {
  // [0]: packed A block, [1]: packed B panel, [2]: one packed edge sliver of an in-place B.
  thread_local ScratchBuffer buffers[3];
  return buffers[slot];
}

/// A whole B packed ahead of time (packed.hpp) by the packing the driver would run: for each
/// depth block of kc (the last one shorter, its depth padded to the kernel's k-group), the
/// ⌈n/NR⌉ slivers of that block in order. Any panel of the driver (a multiple of NR wide) is
/// then a run of consecutive slivers.
struct PrepackedB {
  const unsigned char* data;
  std::int64_t kc;  // the depth block it was packed with (a multiple of the k-group)
};

/// The depth block of a product: kc rounded down to the kernel's k-group g (1 for fp32), at
/// least one group. The drivers and PackedB take it from here, so a packed B and the product
/// that reads it block the depth alike.
inline std::int64_t depth_block(std::int64_t kc, std::int64_t g) {
  return std::max(g, kc / g * g);
}

/// Byte offset of depth block `pc` (a multiple of kc) in a PrepackedB of n columns, packed in
/// slivers nr wide of `elem_bytes` elements.
inline std::int64_t prepacked_block_offset(std::int64_t n, std::int64_t nr, std::int64_t kc,
                                           std::int64_t elem_bytes, std::int64_t pc) {
  return (pc / kc) * ((n + nr - 1) / nr * nr) * kc * elem_bytes;
}

/// C = beta·C over an m×n view (beta == 0 writes zeros without reading C).
template <class T>
void scale_c(std::int64_t m, std::int64_t n, T beta, MatRef<T> c) {
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      T& x = c.p[i * c.rs + j * c.cs];
      x = beta == T(0) ? T(0) : beta * x;
    }
  }
}

/// One micro-kernel signature for every ISA and type (contract: ukernel_ref.hpp).
template <class T>
using UKernel = void (*)(std::int64_t k, const T* a, std::int64_t rs_a, const T* b,
                         std::int64_t rs_b, T* c, std::int64_t rs_c, std::int64_t cs_c,
                         std::int64_t m_cur, std::int64_t n_cur, T alpha, T beta);

/// A kernel in its four forms: fn[packed_a][packed_b].
template <class T>
struct UKernelSet {
  UKernel<T> fn[2][2];
};

// Epilogue (what the driver applies to each finished strip of micro-tiles of C, tile_strip
// below) lives in kernels/activation.hpp beside its one-pass loop.

/// Applies `ep` to the m_cur×n_cur block at c whose first element is C(i0, j0).
template <class T>
inline void apply_epilogue(const Epilogue<T>& ep, T* c, std::int64_t rs_c, std::int64_t cs_c,
                           std::int64_t m_cur, std::int64_t n_cur, std::int64_t i0,
                           std::int64_t j0) {
  if (ep.empty()) return;
  const Epilogue<T> tile = ep.at(i0, j0);
  if constexpr (std::is_floating_point_v<T>) {
    if (cs_c == 1) {
      if (!tile.gelu() && tile.residual == nullptr) {  // the bias alone: one add per element, no dispatch
        for (std::int64_t i = 0; i < m_cur; ++i) {
          T* row = c + i * rs_c;
          for (std::int64_t j = 0; j < n_cur; ++j) row[j] += tile.bias[j];
        }
        return;
      }
      epilogue_tile(tile, c, rs_c, m_cur, n_cur);  // all steps in one pass per row, one dispatch
      return;
    }
  }
  for (std::int64_t i = 0; i < m_cur; ++i) {
    T* row = c + i * rs_c;
    const Epilogue<T> r = tile.at(i, 0);
    // Strided C, or bfloat16 / integers: each step in compute_t (float for bfloat16), rounded
    // to T after it, as the separate ops round. linear() refuses GELU for integer types.
    using CT = compute_t<T>;
    for (std::int64_t j = 0; j < n_cur; ++j) {
      T& v = row[j * cs_c];
      if (r.bias != nullptr) v = static_cast<T>(static_cast<CT>(v) + static_cast<CT>(r.bias[j]));
      if (r.gelu()) {
        if (r.pre != nullptr) r.pre[j] = v;
        if constexpr (FloatingScalar<T>) v = static_cast<T>(gelu_value(static_cast<CT>(v)));
      }
      if (r.residual != nullptr) v = static_cast<T>(static_cast<CT>(v) + static_cast<CT>(r.residual[j]));
    }
  }
}

/// How many micro-tiles of one A sliver (consecutive B slivers) share one epilogue call: the
/// epilogue then runs over an MR × (8·NR) strip of C (AVX-512: 14 × 256 floats, 14 KB, still in
/// L1) instead of each MR × NR tile. Per 14 × 32 tile its writes of `pre` went to 14 rows 128
/// bytes at a time, which the prefetchers follow badly, and each row paid its loop setup on 32
/// elements: the GELU epilogue alone over 2048×512 (keeping pre, AVX-512, 1 thread) took 3.47 ms
/// per tile, 1.64 per 8-tile strip, 1.34 per 16, and the separate GELU kernel 1.19. In the GEMM
/// (2048×512×128 + bias + GELU, 1 thread, two rounds): per tile 5.46 / 6.74 ms against the plain
/// GEMM then the GELU kernel 4.63 / 5.65; per 8-tile strip 4.91 / 4.99 against 4.96 / 4.79 (4,
/// 16 and whole-panel strips within the same noise).
inline constexpr std::int64_t kEpilogueSlivers = 8;

/// Runs tile(jr) for jr in [jr_lo, jr_hi), the micro-tiles of the A sliver whose rows start at
/// C row `row0` (m_cur rows); with an epilogue (on the last depth block only), applies it to
/// each run of kEpilogueSlivers of them once they are done. `col0` is the panel's first column,
/// nc its width, NR the sliver width.
template <class T, class Tile>
EMBER_ALWAYS_INLINE void tile_strip(const Epilogue<T>* ep, MatRef<T> c, std::int64_t row0,
                                    std::int64_t m_cur, std::int64_t col0, std::int64_t nc,
                                    std::int64_t NR, std::int64_t jr_lo, std::int64_t jr_hi,
                                    Tile&& tile) {
  if (ep == nullptr) {
    for (std::int64_t jr = jr_lo; jr < jr_hi; ++jr) tile(jr);
    return;
  }
  for (std::int64_t lo = jr_lo; lo < jr_hi; lo += kEpilogueSlivers) {
    const std::int64_t hi = std::min(jr_hi, lo + kEpilogueSlivers);
    for (std::int64_t jr = lo; jr < hi; ++jr) tile(jr);
    const std::int64_t j0 = col0 + lo * NR, width = std::min(nc, hi * NR) - lo * NR;
    apply_epilogue(*ep, c.p + row0 * c.rs + j0 * c.cs, c.rs, c.cs, m_cur, width, row0, j0);
  }
}

/// pack_a's signature; a family may bring its own (pack_avx2.hpp transposes with shuffles).
template <class T>
using PackFn = void (*)(std::int64_t mc, std::int64_t kc, const T* a, std::int64_t rs_a,
                        std::int64_t cs_a, std::int64_t mr, T* ap);

/// A full MR×NR kernel and, optionally, kernels with fewer rows for the last A sliver of a
/// block (same NR and packed layout): with MR = 14, m = 32 would otherwise compute 42 rows for
/// 32 (76% useful work); with 4- and 8-row edge kernels it computes exactly 32.
template <class T>
struct UKernelFamily {
  UKernelSet<T> full;
  int n_edges = 0;
  std::int64_t edge_rows[2] = {0, 0};  // ascending
  UKernelSet<T> edge[2] = {};
  PackFn<T> pack = nullptr;  // null: pack_a

  const UKernelSet<T>& for_rows(std::int64_t m_cur) const {
    for (int e = 0; e < n_edges; ++e) {
      if (m_cur <= edge_rows[e]) return edge[e];
    }
    return full;
  }
};

/// Whether to read A and B in place instead of packing them. Packing costs about one cycle per
/// element; it pays when the packed block is reused by many micro-kernel calls. A's block is
/// reused once per NR-wide sliver of B, B's panel once per MR-tall sliver of A, so with n ≤ 4·NR
/// (resp. m ≤ 4·MR) packing would cost a large fraction of the arithmetic. Up to m ≤ 8·MR, B is
/// still read in place when k ≤ 256: a longer in-place sliver has its rows a leading dimension
/// apart, and rows that map to few cache sets evict each other (64×768×768 ran at 145 GFLOP/s
/// in place, 161 packed; 64³ at 209 in place, 191 packed; bench_gemm, 1 thread). In place
/// needs unit column stride (a row-major operand).
struct PackPlan {
  bool pack_a = true, pack_b = true;
};
inline PackPlan plan_packing(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t cs_a,
                             std::int64_t cs_b, const GemmBlocking& bs) {
  PackPlan plan;
  plan.pack_a = !(cs_a == 1 && n <= 4 * bs.nr);
  plan.pack_b = !(cs_b == 1 && (m <= 4 * bs.mr || (m <= 8 * bs.mr && k <= 256)));
  return plan;
}

/// Whether to split the ir×jr grid of micro-tiles between `team` threads by A slivers (true) or
/// B slivers: the dimension that divides more evenly (5 A slivers on 2 threads keep one thread
/// idle 1/6 of the time); on a tie, B's slivers unless the A block is larger: then each thread
/// computes only with B slivers it packed itself, and reading freshly packed lines out of the
/// other core's cache is what a split by A costs (128³ on 2 threads: 162 GFLOP/s split by A, 316
/// by B; 4096×64×64, where A dwarfs B: 279 split by B, 376 by A).
inline bool split_by_rows(std::int64_t m_slivers, std::int64_t n_slivers, std::int64_t mc,
                          std::int64_t nc, int team) {
  auto balance = [team](std::int64_t slivers) {
    const std::int64_t per = (slivers + team - 1) / team;
    return static_cast<double>(slivers) / static_cast<double>(per * team);
  };
  const double bal_ir = balance(m_slivers), bal_jr = balance(n_slivers);
  return bal_ir > bal_jr || (bal_ir == bal_jr && mc > nc);
}

/// Runs body(member) on an elastic team of up to `nthreads` threads of ember's pool (inline on
/// one): the body is a sequence of PhasedWork phases, which every member walks through and
/// whose items any member may do (thread_pool.hpp). `team` is the nominal team size that the
/// body's split decisions assume.
template <class Body>
void run_team(int nthreads, Body& body) {
  PhasedWork work(std::max(nthreads, 1));
  auto job = [&](int tid, int) {
    PhasedWork::Member me(work, tid);
    body(me, work.team());
  };
  if (nthreads > 1) {
    run_in_pool(nthreads, job);
  } else {
    job(0, 1);
  }
}

/// The items of a compute phase split by B slivers: `team` owners, each with `per_owner` chunks
/// of its share of the slivers (so an owner's chunks are the slivers it packed). Item i covers
/// slivers [lo, hi).
struct SliverChunks {
  std::int64_t slivers, team, per_owner;
  SliverChunks(std::int64_t n_slivers, int t) : slivers(n_slivers), team(t) {
    // About 4 slivers per chunk: each A sliver is reused from L1 across a chunk.
    const std::int64_t share = (n_slivers + t - 1) / t;
    per_owner = std::max<std::int64_t>(1, (share + 3) / 4);
  }
  std::int64_t items() const { return team * per_owner; }
  void range(std::int64_t item, std::int64_t& lo, std::int64_t& hi) const {
    const std::int64_t o = item / per_owner, c = item % per_owner;
    const std::int64_t olo = slivers * o / team, ohi = slivers * (o + 1) / team;
    lo = olo + (ohi - olo) * c / per_owner;
    hi = olo + (ohi - olo) * (c + 1) / per_owner;
  }
};

/// The compute phase of one block: tiles(ir, jr_lo, jr_hi) over the m_slivers × n_slivers grid of
/// micro-tiles, split by A slivers when split_by_rows says so, else by chunks of B slivers.
template <class Tiles>
void compute_phase(PhasedWork::Member& me, std::int64_t m_slivers, std::int64_t n_slivers,
                   std::int64_t mc, std::int64_t nc, int team, Tiles&& tiles) {
  if (split_by_rows(m_slivers, n_slivers, mc, nc, team)) {
    me.phase(m_slivers, [&](std::int64_t ir) { tiles(ir, 0, n_slivers); });
    return;
  }
  const SliverChunks chunks(n_slivers, team);
  me.phase(chunks.items(), [&](std::int64_t item) {
    std::int64_t jr_lo = 0, jr_hi = 0;
    chunks.range(item, jr_lo, jr_hi);
    for (std::int64_t ir = 0; ir < m_slivers; ++ir) tiles(ir, jr_lo, jr_hi);
  });
}

/// The five loops. `kernels` follows the contract in ukernel_ref.hpp; `bs` gives its tile.
template <class T>
void gemm_driver(std::int64_t m, std::int64_t n, std::int64_t k, T alpha, MatRef<const T> a,
                 MatRef<const T> b, T beta, MatRef<T> c, const GemmBlocking& bs,
                 const UKernelFamily<T>& kernels, int nthreads,
                 const Epilogue<T>* ep = nullptr, const PrepackedB* pre = nullptr) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) {
    scale_c(m, n, beta, c);
    if (ep != nullptr) apply_epilogue(*ep, c.p, c.rs, c.cs, m, n, 0, 0);
    return;
  }
  const std::int64_t MR = bs.mr, NR = bs.nr;
  // NC is per thread: threads usually split the B panel by slivers, so each core's L2 holds its
  // share (2048³ on 2 threads: 372 GFLOP/s with a 1024-wide panel, 398 with 2048).
  // Panels are then evened out (n = 3072 with NC = 2048: two panels of 1536, not 2048 + 1024).
  const std::int64_t MC = std::max(MR, bs.mc / MR * MR);
  const std::int64_t nc_cap = std::max(NR, bs.nc * std::max(nthreads, 1) / NR * NR);
  const std::int64_t n_panels = (n + nc_cap - 1) / nc_cap;
  const std::int64_t NC = ((n + n_panels - 1) / n_panels + NR - 1) / NR * NR;
  // A pre-packed B fixes the depth blocks it was packed with, and is read packed (b unused).
  const std::int64_t KC = pre != nullptr ? pre->kc : depth_block(bs.kc, 1);
  PackPlan plan = plan_packing(m, n, k, a.cs, b.cs, bs);
  if (pre != nullptr) plan.pack_b = true;
  // B slivers are laid out as A slivers of Bᵀ (pack.hpp), so one routine packs both.
  const PackFn<T> pack = kernels.pack != nullptr ? kernels.pack : &pack_a<T>;
  const std::int64_t mc_max = std::min(MC, (m + MR - 1) / MR * MR);
  const std::int64_t nc_max = std::min(NC, (n + NR - 1) / NR * NR);
  const std::int64_t kc_max = std::min(KC, k);
  T* ap = plan.pack_a ? static_cast<T*>(gemm_scratch(0).get(
                            sizeof(T) * static_cast<std::size_t>(mc_max * kc_max)))
                      : nullptr;
  T* bp = plan.pack_b && pre == nullptr ? static_cast<T*>(gemm_scratch(1).get(
                            sizeof(T) * static_cast<std::size_t>(nc_max * kc_max)))
                      : nullptr;

  // How the threads split the grid of micro-tiles: split_by_rows.

  // Body run by each member of the team. Phases: pack a B panel (items: B slivers; none when B
  // is pre-packed), pack an A block (items: A slivers), compute (items: A slivers, or chunks of
  // B slivers). The owner ranges of the items line up across phases, so a thread mostly
  // computes with slivers it packed itself (they stay in its own L2) unless it takes over a
  // late thread's items.
  auto body = [&](PhasedWork::Member& me, int team) {
    std::int64_t block = 0, edge_block = -1;  // (jc, pc) counter; the one b_edge was packed for
    T* b_edge = nullptr;
    for (std::int64_t jc = 0; jc < n; jc += NC) {
      const std::int64_t nc = std::min(NC, n - jc);
      const std::int64_t n_slivers = (nc + NR - 1) / NR;
      for (std::int64_t pc = 0; pc < k; pc += KC, ++block) {
        const std::int64_t kc = std::min(KC, k - pc);
        const T beta_pc = pc == 0 ? beta : T(1);
        const T* panel =
            pre != nullptr
                ? reinterpret_cast<const T*>(pre->data + prepacked_block_offset(n, NR, KC,
                                                                                sizeof(T), pc)) +
                      (jc / NR) * NR * kc
                : bp;
        if (plan.pack_b && pre == nullptr) {
          me.phase(n_slivers, [&](std::int64_t s) {
            const std::int64_t j0 = s * NR;
            pack(std::min(NR, nc - j0), kc, b.p + pc * b.rs + (jc + j0) * b.cs, b.cs, b.rs, NR,
                 bp + s * NR * kc);
          });
        }
        // In-place B slivers must be full width: a partial edge sliver (k×NR, zero-padded) is
        // packed into a per-thread buffer, once per block by each thread that computes with it,
        // and the packed-B form of the kernel runs on it.
        const std::int64_t n_edge = nc - (n_slivers - 1) * NR;
        const bool needs_edge = !plan.pack_b && n_edge < NR;
        auto edge_sliver = [&]() -> const T* {
          if (edge_block != block) {
            b_edge = static_cast<T*>(
                gemm_scratch(2).get(sizeof(T) * static_cast<std::size_t>(NR * kc)));
            pack(n_edge, kc, b.p + pc * b.rs + (jc + (n_slivers - 1) * NR) * b.cs, b.cs, b.rs,
                 NR, b_edge);
            edge_block = block;
          }
          return b_edge;
        };
        for (std::int64_t ic = 0; ic < m; ic += MC) {
          const std::int64_t mc = std::min(MC, m - ic);
          const std::int64_t m_slivers = (mc + MR - 1) / MR;
          if (plan.pack_a) {
            me.phase(m_slivers, [&](std::int64_t s) {
              const std::int64_t i0 = s * MR;
              pack(std::min(MR, mc - i0), kc, a.p + (ic + i0) * a.rs + pc * a.cs, a.rs, a.cs, MR,
                   ap + s * MR * kc);
            });
          }
          // Micro-tiles ir × [jr_lo, jr_hi): A sliver kept in L1, B slivers from L2.
          auto tiles = [&](std::int64_t ir, std::int64_t jr_lo, std::int64_t jr_hi) {
            const std::int64_t i0 = ir * MR, m_cur = std::min(MR, mc - i0);
            const T* a_sliver =
                plan.pack_a ? ap + ir * MR * kc : a.p + (ic + i0) * a.rs + pc * a.cs;
            const UKernelSet<T>& set = kernels.for_rows(m_cur);  // fewer rows at the m edge
            const Epilogue<T>* last_ep = pc + kc == k ? ep : nullptr;
            tile_strip(last_ep, c, ic + i0, m_cur, jc, nc, NR, jr_lo, jr_hi, [&](std::int64_t jr) {
              const std::int64_t j0 = jr * NR, n_cur = std::min(NR, nc - j0);
              const T* b_sliver =
                  plan.pack_b ? panel + jr * NR * kc : b.p + pc * b.rs + (jc + j0) * b.cs;
              UKernel<T> kern = set.fn[plan.pack_a][plan.pack_b];
              if (needs_edge && jr == n_slivers - 1) {
                b_sliver = edge_sliver();
                kern = set.fn[plan.pack_a][true];
              }
              T* c_tile = c.p + (ic + i0) * c.rs + (jc + j0) * c.cs;
              kern(kc, a_sliver, a.rs, b_sliver, b.rs, c_tile, c.rs, c.cs, m_cur, n_cur, alpha,
                   beta_pc);
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
