// ember/kernels/gemm/pack.hpp — copying blocks of A and B into the micro-kernel's layout.
// Layer: kernels/gemm. Packing reads the operands through their strides (row-major,
// column-major, transposed or sliced views all cost the same) and writes slivers that the
// micro-kernel streams with unit stride. Edges are padded with zeros up to MR / NR, so the
// kernel always runs a full tile and only the store is clipped.
//
// Packed A block (mc×kc), one sliver per MR rows, each sliver column-major in MR:
//
//     sliver 0                      sliver 1
//     k=0      k=1      ...         k=0 ...
//     a00 a10 .. a(MR-1)0 | a01 a11 .. | ... || aMR,0 ...
//
// Packed B panel (kc×nc), one sliver per NR columns, each sliver row-major in NR:
//
//     sliver 0                            sliver 1
//     k=0            k=1                  k=0 ...
//     b00 b01 .. b0(NR-1) | b10 b11 .. | ... || b0,NR ...
#pragma once

#include <algorithm>
#include <cstdint>

namespace ember::detail {

/// Packing's element conversion when there is none (pack_avx2.hpp has a rounding one).
struct PackCopy {
  template <class T>
  static T one(T x) {
    return x;
  }
};

/// A (mc×kc at a, strides rs_a, cs_a) → ap, slivers of MR rows (zero-padded), each element
/// passed through Conv::one.
template <class T, class Conv = PackCopy>
void pack_a(std::int64_t mc, std::int64_t kc, const T* a, std::int64_t rs_a, std::int64_t cs_a,
            std::int64_t mr, T* ap) {
  for (std::int64_t i0 = 0; i0 < mc; i0 += mr) {
    const std::int64_t rows = std::min(mr, mc - i0);
    const T* src = a + i0 * rs_a;
    if (rows == mr &&
        rs_a == 1) {  // each k is a contiguous run of MR (A column-major, B row-major)
      for (std::int64_t p = 0; p < kc; ++p) {
        for (std::int64_t i = 0; i < mr; ++i) ap[p * mr + i] = Conv::one(src[p * cs_a + i]);
      }
    } else {
      for (std::int64_t p = 0; p < kc; ++p) {
        std::int64_t i = 0;
        for (; i < rows; ++i) ap[p * mr + i] = Conv::one(src[i * rs_a + p * cs_a]);
        for (; i < mr; ++i) ap[p * mr + i] = T(0);
      }
    }
    ap += mr * kc;
  }
}

/// B (kc×nc at b, strides rs_b, cs_b) → bp, slivers of NR columns (zero-padded). A B sliver is
/// laid out exactly like an A sliver of Bᵀ, so this is pack_a on the transposed view.
template <class T>
void pack_b(std::int64_t kc, std::int64_t nc, const T* b, std::int64_t rs_b, std::int64_t cs_b,
            std::int64_t nr, T* bp) {
  pack_a(nc, kc, b, cs_b, rs_b, nr, bp);
}

}  // namespace ember::detail
