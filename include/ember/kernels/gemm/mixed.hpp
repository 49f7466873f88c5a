// ember/kernels/gemm/mixed.hpp — bf16 and int8 GEMM: the kernel tables keyed by (input type,
// accumulator type, level), the choice among them, and the raw-pointer entry points.
// Layer: kernels/gemm.
//
//   bf16 products, fp32 accumulation (inputs bf16, or fp32 rounded to bf16 while packing):
//     amx          ukernel_amx_bf16_32x32         tdpbf16ps
//     avx512_bf16  ukernel_avx512_bf16_6x64       vdpbf16ps — only where it beats the fp32 FMA
//                                                 kernel: AMD (Zen 4/5 issue it at the FMA rate,
//                                                 2× the FLOPs); Intel issues it at half the FMA
//                                                 rate (../shared/MACHINE.md), so there the level
//                                                 runs the next row
//     avx512/avx2  the fp32 kernels on bf16-rounded operands ("…_f32_…+bf16in")
//     generic      the portable reference on bf16-rounded operands
//   u8 × s8 products, int32 accumulation:
//     amx          ukernel_amx_u8s8_32x32         tdpbusd
//     avx512+VNNI  ukernel_avx512_vnni_u8s8_6x64  vpdpbusd (assembly inner loop)
//     avx2         ukernel_avx2_u8s8_6x16         vpmaddwd on operands widened to int16 pairs
//     generic      ukernel_ref_s32_4x8            exact int32 arithmetic (wrapping as the
//                                                 hardware's int32 accumulators do)
// Every path computes each product exactly (bf16 × bf16 fits fp32; u8 × s8 fits int16) and
// accumulates in fp32 / int32: the paths differ only in fp32 summation order.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "ember/core/dtype.hpp"
#include "ember/kernels/cpu.hpp"
#include "ember/kernels/gemm/dispatch.hpp"
#include "ember/kernels/gemm/mixed_driver.hpp"
#include "ember/kernels/gemm/pack_mixed.hpp"
#include "ember/kernels/gemm/ukernel_ref.hpp"

#if EMBER_X86
#include "ember/kernels/gemm/x86/pack_avx2.hpp"
#include "ember/kernels/gemm/x86/ukernel_amx.hpp"
#include "ember/kernels/gemm/x86/ukernel_avx2_u8s8.hpp"
#include "ember/kernels/gemm/x86/ukernel_avx512_dot.hpp"
#endif

namespace ember {
namespace detail {

/// Packs with G elements per group and zero-fills the groups up to the kernel's k-group KG.
template <std::int64_t R, std::int64_t G, std::int64_t KG, class S, class D, class Fill>
void pack_padded(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                 std::int64_t cs, void* dst, Fill fill) {
  D* out = static_cast<D*>(dst);
  fill(rows, kc, src, rs, cs, out);
  const std::int64_t done = (kc + G - 1) / G, total = round_up(kc, KG) / G;
  if (total > done)
    std::memset(out + done * R * G, 0, static_cast<std::size_t>((total - done) * R * G) * sizeof(D));
}

// ---- packing functions of each row (plain functions: a table holds their addresses) ----------

template <std::int64_t R, std::int64_t G, std::int64_t KG, class S>
void pack_bf16_row(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                   std::int64_t cs, void* dst) {
  pack_padded<R, G, KG, S, std::uint16_t>(rows, kc, src, rs, cs, dst,
                                          [](auto... args) { pack_bf16<R, G>(args...); });
}
template <std::int64_t R, std::int64_t G, std::int64_t KG, class S, class D, class Conv>
void pack_conv_row(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                   std::int64_t cs, void* dst) {
  pack_padded<R, G, KG, S, D>(rows, kc, src, rs, cs, dst, [](auto... args) {
    pack_grouped_scalar<R, G>(args..., Conv{});
  });
}
template <std::int64_t R, std::int64_t KG, class S>
void pack_quads_cols(std::int64_t cols, std::int64_t kc, const S* src, std::int64_t rs,
                     std::int64_t cs, void* dst) {
  pack_padded<R, 4, KG, S, S>(cols, kc, src, cs, rs, dst,
                              [](auto... args) { pack_quads<R>(args...); });
}

#if EMBER_X86
/// The "+bf16in" rows' packing (G = KG = 1): for fp32 sources the vectorised fp32 packing of
/// pack_avx2.hpp with the bf16 rounding applied on the way (the scalar conversion loop it
/// replaces took 16% of the bf16 MLM step on a Zen 3 without AVX-512); bf16 sources widen in
/// the scalar loop. Target: packing ≤ 10% of that step (bench_models mlm_pretrain/train/bf16,
/// perf); reached 9.8% (the A and B packing together, 1 thread, 2026-12-04; the step 2,863 →
/// 2,647 ms), bound by the strided loads of the transposes.
template <std::int64_t R, class S>
void pack_bf16in_row(std::int64_t rows, std::int64_t kc, const S* src, std::int64_t rs,
                     std::int64_t cs, void* dst) {
  if constexpr (std::is_same_v<S, float>)
    avx2::pack_f32<avx2::RoundBf16F32>(rows, kc, src, rs, cs, R, static_cast<float*>(dst));
  else
    pack_conv_row<R, 1, 1, S, float, ToBf16Float>(rows, kc, src, rs, cs, dst);
}
template <std::int64_t R, class S>
void pack_bf16in_cols(std::int64_t cols, std::int64_t kc, const S* src, std::int64_t rs,
                      std::int64_t cs, void* dst) {
  pack_bf16in_row<R, S>(cols, kc, src, cs, rs, dst);
}

/// The AVX2 u8s8 kernel's A: int16 pairs, vectorised for a full sliver with contiguous rows.
inline void pack_a_pairs_avx2(std::int64_t rows, std::int64_t kc, const std::uint8_t* src,
                              std::int64_t rs, std::int64_t cs, void* dst) {
  if (rows == 6 && cs == 1) return avx2::pack_pairs_rows<6>(kc, src, rs, static_cast<std::int16_t*>(dst));
  pack_conv_row<6, 2, 2, std::uint8_t, std::int16_t, Widen<std::int16_t>>(rows, kc, src, rs, cs, dst);
}
/// The AVX2 u8s8 kernel's B: int16 pairs, vectorised for a full sliver whose columns are
/// contiguous (a row-major B) or whose depth is (Bᵀ row-major: the weights of x·Wᵀ).
inline void pack_b_pairs_avx2(std::int64_t cols, std::int64_t kc, const std::int8_t* src,
                              std::int64_t rs, std::int64_t cs, void* dst) {
  if (cols == 16 && cs == 1) return avx2::pack_b_pairs16(kc, src, rs, static_cast<std::int16_t*>(dst));
  if (cols == 16 && rs == 1) return avx2::pack_pairs_rows<16>(kc, src, cs, static_cast<std::int16_t*>(dst));
  pack_conv_row<16, 2, 2, std::int8_t, std::int16_t, Widen<std::int16_t>>(cols, kc, src, cs, rs, dst);
}
#endif

/// B (kc×cols, strides rs, cs) is packed as the rows of Bᵀ.
template <std::int64_t R, std::int64_t G, std::int64_t KG, class S>
void pack_bf16_cols(std::int64_t cols, std::int64_t kc, const S* src, std::int64_t rs,
                    std::int64_t cs, void* dst) {
  pack_bf16_row<R, G, KG, S>(cols, kc, src, cs, rs, dst);
}
template <std::int64_t R, std::int64_t G, std::int64_t KG, class S, class D, class Conv>
void pack_conv_cols(std::int64_t cols, std::int64_t kc, const S* src, std::int64_t rs,
                    std::int64_t cs, void* dst) {
  pack_conv_row<R, G, KG, S, D, Conv>(cols, kc, src, cs, rs, dst);
}

/// A packed fp32-layout kernel (contract of ukernel_ref.hpp, both operands packed) as a mixed
/// kernel.
template <class T, UKernel<T> K>
void as_mixed(std::int64_t kp, const void* a, const void* b, T* c, std::int64_t rs_c,
              std::int64_t cs_c, std::int64_t m_cur, std::int64_t n_cur, T alpha, T beta) {
  K(kp, static_cast<const T*>(a), 0, static_cast<const T*>(b), 0, c, rs_c, cs_c, m_cur, n_cur,
    alpha, beta);
}

/// The AMX kernels' arithmetic in portable C++, reading the same packed layout: what the tests
/// check the AMX packing and driver against on machines without AMX.
template <bool kInt8, class TC>
void ukernel_amx_layout_ref(std::int64_t kp, const void* a_, const void* b_, TC* c,
                            std::int64_t rs_c, std::int64_t cs_c, std::int64_t m_cur,
                            std::int64_t n_cur, TC alpha, TC beta) {
  const auto* a = static_cast<const unsigned char*>(a_);
  const auto* b = static_cast<const unsigned char*>(b_);
  constexpr std::int64_t kElem = kInt8 ? 1 : 2, kDepthPerRow = 64 / kElem, kG = 4 / kElem;
  for (std::int64_t i = 0; i < m_cur; ++i) {
    for (std::int64_t j = 0; j < n_cur; ++j) {
      TC acc = 0;
      for (std::int64_t d = 0; d < kp; ++d) {
        const std::int64_t q = d / kDepthPerRow, dd = d % kDepthPerRow;
        const unsigned char* ap = a + ((q * 32 + i) * kDepthPerRow + dd) * kElem;
        const std::int64_t grp = d / kG, g = d % kG;
        const unsigned char* bp = b + ((grp * 32 + j) * kG + g) * kElem;
        if constexpr (kInt8) {
          acc = static_cast<TC>(static_cast<std::uint32_t>(acc) +
                                static_cast<std::uint32_t>(static_cast<std::int32_t>(*ap) *
                                                           static_cast<std::int8_t>(*bp)));
        } else {
          std::uint16_t x = 0, y = 0;
          std::memcpy(&x, ap, 2);
          std::memcpy(&y, bp, 2);
          acc += static_cast<float>(bfloat16::from_bits(x)) * static_cast<float>(bfloat16::from_bits(y));
        }
      }
      TC& cij = c[i * rs_c + j * cs_c];
      if constexpr (kInt8) {
        const auto prod = static_cast<std::uint32_t>(alpha) * static_cast<std::uint32_t>(acc);
        const auto old =
            beta == 0 ? 0u : static_cast<std::uint32_t>(beta) * static_cast<std::uint32_t>(cij);
        cij = static_cast<TC>(prod + old);
      } else {
        cij = beta == 0.0f ? alpha * acc : alpha * acc + beta * cij;
      }
    }
  }
}

template <class S>
using Bf16Kernel = MixedKernel<S, S, float>;
using U8S8Kernel = MixedKernel<std::uint8_t, std::int8_t, std::int32_t>;

#if EMBER_X86
inline void amx_begin() {
  amx::configure();
}
inline void amx_end() {
  amx::release();
}
#endif

/// Every bf16 row this build has (for inputs of type S: float or bfloat16), best first. The
/// layout-reference row (name ends in "_layout_ref") runs the AMX layout in portable code.
template <class S>
const std::vector<Bf16Kernel<S>>& bf16_kernels() {
  static const std::vector<Bf16Kernel<S>> rows = [] {
    std::vector<Bf16Kernel<S>> r;
#if EMBER_X86
    r.push_back({"ukernel_amx_bf16_32x32", Isa::Amx, 32, 32, 32, 2, 2, {32, 32, 256, 512, 512},
                 &pack_bf16_row<32, 32, 32, S>, &pack_bf16_cols<32, 2, 32, S>,
                 &amx::ukernel_bf16, &amx_begin, &amx_end});
    r.push_back({"ukernel_avx512_bf16_6x64", Isa::Avx512Bf16, 6, 64, 2, 2, 2,
                 {6, 64, 1002, 512, 1024}, &pack_bf16_rows<6, 2, S>,
                 &pack_bf16_cols<64, 2, 2, S>, &avx512_dot::ukernel_bf16_asm_6x64, nullptr,
                 nullptr, &pack_bf16_rows_block<6, 2, S>, 8});
    r.push_back({"ukernel_avx512_bf16_14x32", Isa::Avx512Bf16, 14, 32, 2, 2, 2,
                 {14, 32, 1008, 512, 1024}, &pack_bf16_rows<14, 2, S>,
                 &pack_bf16_cols<32, 2, 2, S>, &avx512_dot::ukernel_bf16<14>, nullptr, nullptr,
                 &pack_bf16_rows_block<14, 2, S>, 8});
    r.push_back({"ukernel_avx512_f32_14x32+bf16in", Isa::Avx512, 14, 32, 1, 4, 4,
                 {14, 32, 1008, 256, 1024}, &pack_bf16in_row<14, S>, &pack_bf16in_cols<32, S>,
                 &as_mixed<float, &avx512::ukernel_f32<14, 2, true, true>>});
    r.push_back({"ukernel_avx2_f32_6x16+bf16in", Isa::Avx2, 6, 16, 1, 4, 4,
                 {6, 16, 1008, 256, 1024}, &pack_bf16in_row<6, S>, &pack_bf16in_cols<16, S>,
                 &as_mixed<float, &avx2::ukernel_f32<6, 2, true, true>>});
#endif
    r.push_back({"ukernel_ref_f32_8x8+bf16in", Isa::Generic, 8, 8, 1, 4, 4, {8, 8, 512, 256, 1024},
                 &pack_conv_row<8, 1, 1, S, float, ToBf16Float>,
                 &pack_conv_cols<8, 1, 1, S, float, ToBf16Float>,
                 &as_mixed<float, &ukernel_ref<float, 8, 8, true, true>>});
    r.push_back({"ukernel_amx_bf16_32x32_layout_ref", Isa::Generic, 32, 32, 32, 2, 2,
                 {32, 32, 256, 512, 512}, &pack_bf16_row<32, 32, 32, S>,
                 &pack_bf16_cols<32, 2, 32, S>, &ukernel_amx_layout_ref<false, float>});
    return r;
  }();
  return rows;
}

/// Every u8·s8 → s32 row this build has, best first (the last one: the AMX layout in portable
/// code, for tests).
inline const std::vector<U8S8Kernel>& u8s8_kernels() {
  static const std::vector<U8S8Kernel> rows = [] {
    std::vector<U8S8Kernel> r;
#if EMBER_X86
    r.push_back({"ukernel_amx_u8s8_32x32", Isa::Amx, 32, 32, 64, 1, 1, {32, 32, 256, 1024, 512},
                 &pack_conv_row<32, 64, 64, std::uint8_t, std::uint8_t, Widen<std::uint8_t>>,
                 &pack_quads_cols<32, 64, std::int8_t>, &amx::ukernel_u8s8, &amx_begin, &amx_end});
    r.push_back({"ukernel_avx512_vnni_u8s8_6x64", Isa::Avx512, 6, 64, 4, 1, 1,
                 {6, 64, 1002, 1024, 1024},
                 &pack_int8_rows<6, 4, std::uint8_t>, &pack_quads_cols<64, 4, std::int8_t>,
                 &avx512_dot::ukernel_u8s8_asm_6x64});
    // Intrinsics kernels, kept as rows the tests check (the assembly ones above run): 7 rows,
    // not 14, because g++ 12 kept 14 rows' int32 accumulators in memory (bench_gemm
    // ukernel_int8/…/k256, Zen 5: 14×32 248 GOP/s, 7×32 585, the 6×64 assembly loop 792).
    r.push_back({"ukernel_avx512_vnni_u8s8_7x32", Isa::Avx512, 7, 32, 4, 1, 1,
                 {7, 32, 1008, 1024, 1024},
                 &pack_int8_rows<7, 4, std::uint8_t>, &pack_quads_cols<32, 4, std::int8_t>,
                 &avx512_dot::ukernel_u8s8<7>});
    // CPUs without VNNI: u8 and s8 widened to int16 pairs while packing, vpmaddwd.
    r.push_back({"ukernel_avx2_u8s8_6x16", Isa::Avx2, 6, 16, 2, 2, 2, {6, 16, 1008, 512, 1024},
                 &pack_a_pairs_avx2, &pack_b_pairs_avx2, &avx2::ukernel_u8s8_6x16});
#endif
    r.push_back({"ukernel_ref_s32_4x8", Isa::Generic, 4, 8, 1, 4, 4, {4, 8, 128, 256, 2048},
                 &pack_conv_row<4, 1, 1, std::uint8_t, std::int32_t, Widen<std::int32_t>>,
                 &pack_conv_cols<8, 1, 1, std::int8_t, std::int32_t, Widen<std::int32_t>>,
                 &as_mixed<std::int32_t, &ukernel_ref<std::int32_t, 4, 8, true, true>>});
    r.push_back({"ukernel_amx_u8s8_32x32_layout_ref", Isa::Generic, 32, 32, 64, 1, 1,
                 {32, 32, 256, 1024, 512},
                 &pack_conv_row<32, 64, 64, std::uint8_t, std::uint8_t, Widen<std::uint8_t>>,
                 &pack_quads_cols<32, 64, std::int8_t>, &ukernel_amx_layout_ref<true, std::int32_t>});
    return r;
  }();
  return rows;
}

inline bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

/// Whether this CPU (and the level in force) can run a row.
template <class Row>
bool kernel_runnable(const Row& row) {
  if (static_cast<int>(row.isa) > static_cast<int>(gemm_isa())) return false;
  const std::string_view name = row.name;
  if (name.find("vnni") != std::string_view::npos) return cpu_features().avx512_vnni;
  if (name.find("avx512_bf16") != std::string_view::npos) return cpu_features().avx512_bf16;
  return true;
}

/// The bf16 row that runs at the level in force (see the file comment for the policy).
template <class S>
const Bf16Kernel<S>& bf16_kernel() {
  for (const auto& row : bf16_kernels<S>()) {
    if (ends_with(row.name, "_layout_ref") || !kernel_runnable(row)) continue;
    // vdpbf16ps beats the fp32 kernel only where it issues at the FMA rate (AMD Zen 4/5).
    if (row.isa == Isa::Avx512Bf16 && !cpu_features().amd) continue;
    return row;
  }
  return bf16_kernels<S>().back();  // unreachable: the generic row is always runnable
}

inline const U8S8Kernel& u8s8_kernel() {
  for (const auto& row : u8s8_kernels()) {
    if (ends_with(row.name, "_layout_ref") || !kernel_runnable(row)) continue;
    return row;
  }
  return u8s8_kernels().back();
}

}  // namespace detail
}  // namespace ember
