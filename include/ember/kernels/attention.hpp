// ember/kernels/attention.hpp — fused multi-head scaled dot-product attention, forward and
// backward, on raw pointers.
// Layer: kernels. Shapes: B batch, H heads, Tq queries, Tk keys, dk = query/key width per head,
// dv = value width per head. Head h of q is the column block [h·dk, (h+1)·dk) of q's rows, so
// q, k, v are read in their projection layout (B, T, H·d) — with any batch and row stride, e.g.
// three views into one fused (B, T, 3·D) projection — and no (B, H, T, d) copy is made.
//
// For each (b, h), one task on one thread, every intermediate in that thread's cache:
//   S  = scale · Q Kᵀ                         (Tq, Tk)     GEMM
//   P  = softmax over the valid keys of S      (Tq, Tk)     invalid: padded (key_pad[b, j]) or,
//                                                           if causal, j > i; P = 0 there
//   Pd = P ⊙ keep / (1 − p)                    dropout; keep from a Philox counter (b·H+h, i, j),
//                                                           dropout.hpp
//   O  = Pd V                                  (Tq, dv)     GEMM, written into out (B, Tq, H·dv)
// A query row with no valid key gets uniform weights 1/Tk over all keys (finite, never NaN; the
// row is padding) and no gradient through the scores.
// Backward, per (b, h), from the saved P and keep mask:
//   dV = Pdᵀ dO,  dPd = dO Vᵀ,  dP = dPd ⊙ keep / (1 − p),
//   dS = P ⊙ (dP − rowsum(P ⊙ dP)),  dQ = scale · dS K,  dK = scale · dSᵀ Q.
// The five GEMMs per (b, h) are ember::gemm calls, serial inside the task (the tasks are the
// parallelism: B·H of them); matmul_precision() applies to them as to every fp32 GEMM.
//
// Against the composed graph (projections split into heads by permute + contiguous copies, a
// batched matmul, masked_fill, softmax, dropout with a float mask, a second batched matmul and a
// merge copy): the T×T matrices are written once (P, kept for backward) instead of five times,
// the dropout mask is one byte per weight instead of four, and no head is copied.
// Target: the attention part of bench_autograd encoder/step at ≤ 40% of its composed cost.
// Reached: see README, "Training step" (encoder/step before/after this kernel).
// The row loops (masking, softmax, dropout, dS) run in the widest copy (cpu.hpp), so a default
// build does not leave them at SSE2: bench_dispatch BM_attention (forward + backward, 8 × 4
// heads × 128², 1 thread, Zen 5) 46–48 → 65–77 M weights/s at AVX-512, 32 → 40 at AVX2.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "ember/core/random.hpp"
#include "ember/kernels/dropout.hpp"
#include "ember/kernels/gemm/gemm.hpp"
#include "ember/kernels/math.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/kernels/reduce.hpp"
#include "ember/kernels/softmax.hpp"

namespace ember::kernels {

/// Where attention's operands are and what it computes. Element (b, t, c) of q lives at
/// q[b·q_sb + t·q_st + c] (c < H·dk); likewise k (c < H·dk) and v (c < H·dv), over Tk rows.
template <class T>
struct AttentionArgs {
  std::int64_t B = 0, H = 0, Tq = 0, Tk = 0, dk = 0, dv = 0;
  const T* q = nullptr;
  std::int64_t q_sb = 0, q_st = 0;
  const T* k = nullptr;
  std::int64_t k_sb = 0, k_st = 0;
  const T* v = nullptr;
  std::int64_t v_sb = 0, v_st = 0;
  const bool* key_pad = nullptr;  // (B, Tk) contiguous, true at padding; null: none
  bool causal = false;            // query i sees keys j ≤ i (top-left aligned, as PyTorch)
  T scale = T(1);
  double dropout = 0.0;           // drop probability for the attention weights
  std::uint64_t seed = 0;         // Philox key of the dropout mask
};

namespace detail_attention {

// The dropout mask of row i of head bh: dropout.hpp's counter layout with coordinates
// (i, bh, bh >> 32), so the mask of weight (bh, i, j) does not depend on the thread count.
inline void dropout_row(std::uint8_t* keep, std::int64_t n, std::uint64_t bh, std::int64_t i,
                        std::uint64_t seed, double p) {
  dropout_keep_row(keep, n, dropout_key(seed), static_cast<std::uint32_t>(i),
                   static_cast<std::uint32_t>(bh), static_cast<std::uint32_t>(bh >> 32),
                   dropout_threshold(p));
}

// Per batch row b: valid[j] = 1 or 0 (T), and the first valid key (Tk when none).
template <class T>
std::int64_t key_validity(const bool* pad, std::int64_t Tk, T* valid) {
  std::int64_t first = Tk;
  for (std::int64_t j = 0; j < Tk; ++j) {
    const bool ok = pad == nullptr || !pad[j];
    valid[j] = ok ? T(1) : T(0);
    if (ok && first == Tk) first = j;
  }
  return first;
}

// The keys row i may see: [0, len) (then also valid[j]); len = Tk unless causal.
inline std::int64_t row_len(bool causal, std::int64_t i, std::int64_t Tk) {
  return causal ? std::min(i + 1, Tk) : Tk;
}

}  // namespace detail_attention

/// Forward. out: (B, Tq, H·dv) contiguous. probs: (B, H, Tq, Tk) contiguous, receives P (for
/// backward), or null. keep: (B, H, Tq, Tk) bytes, receives the dropout mask, or null (allowed
/// only when a.dropout == 0 or probs is null).
template <class T>
void attention_forward(const AttentionArgs<T>& a, T* out, T* probs, std::uint8_t* keep) {
  using CT = compute_t<T>;
  const std::int64_t B = a.B, H = a.H, Tq = a.Tq, Tk = a.Tk, TT = Tq * Tk;
  if (B * H * Tq == 0) return;
  const bool drop = a.dropout > 0;
  const T keep_scale = drop ? static_cast<T>(1.0 / (1.0 - a.dropout)) : T(1);
  const std::int64_t out_rs = H * a.dv;
  parallel_for(0, B * H, 1, [&](std::int64_t lo, std::int64_t hi) {
    // Scratch: S/P when probs is null, Pd when dropping, the valid-key row, a mask row.
    std::vector<T> s_buf(probs == nullptr ? static_cast<std::size_t>(TT) : 0);
    std::vector<T> pd_buf(drop ? static_cast<std::size_t>(TT) : 0);
    std::vector<T> valid(static_cast<std::size_t>(Tk));
    std::vector<std::uint8_t> keep_row(drop && keep == nullptr ? static_cast<std::size_t>(Tk) : 0);
    const T* vp = valid.data();
    for (std::int64_t bh = lo; bh < hi; ++bh) {
      const std::int64_t b = bh / H, h = bh % H;
      const std::int64_t first_valid = detail_attention::key_validity(
          a.key_pad == nullptr ? nullptr : a.key_pad + b * Tk, Tk, valid.data());
      T* p = probs != nullptr ? probs + bh * TT : s_buf.data();
      const T* qb = a.q + b * a.q_sb + h * a.dk;
      const T* kb = a.k + b * a.k_sb + h * a.dk;
      const T* vb = a.v + b * a.v_sb + h * a.dv;
      // S = scale · Q Kᵀ.
      gemm<T>(Tq, Tk, a.dk, a.scale, qb, a.q_st, 1, kb, 1, a.k_st, T(0), p, Tk, 1);
      // The row loops in the widest copy (cpu.hpp): a default build compiles this file for SSE2.
      ember::detail::with_widest_isa([&] {
        for (std::int64_t i = 0; i < Tq; ++i) {
          T* row = p + i * Tk;
          const std::int64_t len = detail_attention::row_len(a.causal, i, Tk);
          if (first_valid >= len) {  // no valid key: uniform weights
            std::fill(row, row + Tk, static_cast<T>(CT(1) / static_cast<CT>(Tk)));
          } else {
            // Invalid keys to −∞ (a select, so the loop vectorises), then the row maximum.
            for (std::int64_t j = 0; j < len; ++j)
              row[j] = vp[j] != T(0) ? row[j] : -std::numeric_limits<T>::infinity();
            const CT m = ember::detail::dense_extremum</*IsMax=*/true>(row, len);
            ember::detail::exp_shifted(row, row, len, m);
            for (std::int64_t j = 0; j < len; ++j) row[j] = row[j] * vp[j];
            std::fill(row + len, row + Tk, T(0));
            const CT inv = CT(1) / ember::detail::SumOp<T>::pairwise_sum(row, len);
            for (std::int64_t j = 0; j < len; ++j) row[j] = static_cast<T>(static_cast<CT>(row[j]) * inv);
          }
          if (drop) {
            std::uint8_t* kr = keep != nullptr ? keep + bh * TT + i * Tk : keep_row.data();
            detail_attention::dropout_row(kr, Tk, static_cast<std::uint64_t>(bh), i, a.seed,
                                          a.dropout);
            T* pd = pd_buf.data() + i * Tk;
            for (std::int64_t j = 0; j < Tk; ++j) pd[j] = row[j] * (static_cast<T>(kr[j]) * keep_scale);
          }
        }
      });
      // O = Pd V, straight into head h's columns of out.
      gemm<T>(Tq, a.dv, Tk, T(1), drop ? pd_buf.data() : p, Tk, 1, vb, a.v_st, 1, T(0),
              out + b * Tq * out_rs + h * a.dv, out_rs, 1);
    }
  });
}

/// Backward. dout: (B, Tq, H·dv) contiguous; probs and keep as saved by attention_forward (keep
/// may be null when a.dropout == 0). dq: (B, Tq, H·dk), dk: (B, Tk, H·dk), dv: (B, Tk, H·dv),
/// fully overwritten; row strides gq_st, gk_st, gv_st (0: contiguous rows, H·d), batch strides
/// T times those — so the three can be column blocks of one fused (B, T, 3·D) gradient.
template <class T>
void attention_backward(const AttentionArgs<T>& a, const T* dout, const T* probs,
                        const std::uint8_t* keep, T* dq, T* dk, T* dv, std::int64_t gq_st = 0,
                        std::int64_t gk_st = 0, std::int64_t gv_st = 0) {
  const std::int64_t B = a.B, H = a.H, Tq = a.Tq, Tk = a.Tk, TT = Tq * Tk;
  if (B * H == 0) return;
  const bool drop = a.dropout > 0;
  const T keep_scale = drop ? static_cast<T>(1.0 / (1.0 - a.dropout)) : T(1);
  const std::int64_t o_rs = H * a.dv;
  if (gq_st == 0) gq_st = H * a.dk;
  if (gk_st == 0) gk_st = H * a.dk;
  if (gv_st == 0) gv_st = H * a.dv;
  parallel_for(0, B * H, 1, [&](std::int64_t lo, std::int64_t hi) {
    std::vector<T> pd_buf(drop ? static_cast<std::size_t>(TT) : 0);
    std::vector<T> ds(static_cast<std::size_t>(TT));
    std::vector<T> valid(static_cast<std::size_t>(Tk));
    for (std::int64_t bh = lo; bh < hi; ++bh) {
      const std::int64_t b = bh / H, h = bh % H;
      const std::int64_t first_valid = detail_attention::key_validity(
          a.key_pad == nullptr ? nullptr : a.key_pad + b * Tk, Tk, valid.data());
      const T* p = probs + bh * TT;
      const std::uint8_t* kp = drop ? keep + bh * TT : nullptr;
      const T* pd = p;
      if (drop) {
        T* pdw = pd_buf.data();
        ember::detail::with_widest_isa([&] {
          for (std::int64_t e = 0; e < TT; ++e) pdw[e] = p[e] * (static_cast<T>(kp[e]) * keep_scale);
        });
        pd = pdw;
      }
      const T* qb = a.q + b * a.q_sb + h * a.dk;
      const T* kb = a.k + b * a.k_sb + h * a.dk;
      const T* vb = a.v + b * a.v_sb + h * a.dv;
      const T* dob = dout + b * Tq * o_rs + h * a.dv;
      // dV = Pdᵀ dO.
      gemm<T>(Tk, a.dv, Tq, T(1), pd, 1, Tk, dob, o_rs, 1, T(0), dv + b * Tk * gv_st + h * a.dv,
              gv_st, 1);
      // dPd = dO Vᵀ (into ds), then dS row by row.
      gemm<T>(Tq, Tk, a.dv, T(1), dob, o_rs, 1, vb, 1, a.v_st, T(0), ds.data(), Tk, 1);
      ember::detail::with_widest_isa([&] {
        for (std::int64_t i = 0; i < Tq; ++i) {
          T* d = ds.data() + i * Tk;
          const T* pr = p + i * Tk;
          if (first_valid >= detail_attention::row_len(a.causal, i, Tk)) {
            std::fill(d, d + Tk, T(0));  // uniform weights on a row without keys: no gradient
            continue;
          }
          if (drop) {
            const std::uint8_t* kr = kp + i * Tk;
            for (std::int64_t j = 0; j < Tk; ++j) d[j] *= static_cast<T>(kr[j]) * keep_scale;
          }
          for (std::int64_t j = 0; j < Tk; ++j) d[j] *= pr[j];  // P ⊙ dP
          const T c = static_cast<T>(ember::detail::SumOp<T>::pairwise_sum(d, Tk));
          for (std::int64_t j = 0; j < Tk; ++j) d[j] -= pr[j] * c;
        }
      });
      // dQ = scale · dS K, dK = scale · dSᵀ Q.
      gemm<T>(Tq, a.dk, Tk, a.scale, ds.data(), Tk, 1, kb, a.k_st, 1, T(0),
              dq + b * Tq * gq_st + h * a.dk, gq_st, 1);
      gemm<T>(Tk, a.dk, Tq, a.scale, ds.data(), 1, Tk, qb, a.q_st, 1, T(0),
              dk + b * Tk * gk_st + h * a.dk, gk_st, 1);
    }
  });
}

}  // namespace ember::kernels
