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

#include <cstdint>

namespace ember::detail {

/// A (mc×kc at a, strides rs_a, cs_a) → ap, slivers of MR rows (zero-padded).
template <class T>
void pack_a(std::int64_t mc, std::int64_t kc, const T* a, std::int64_t rs_a, std::int64_t cs_a,
            std::int64_t mr, T* ap) {
  for (std::int64_t i0 = 0; i0 < mc; i0 += mr) {
    const std::int64_t rows = std::min(mr, mc - i0);
    const T* src = a + i0 * rs_a;
    if (rows == mr && rs_a == 1) {  // column-major source: each k is a contiguous run of MR
      for (std::int64_t p = 0; p < kc; ++p) {
        for (std::int64_t i = 0; i < mr; ++i) ap[p * mr + i] = src[p * cs_a + i];
      }
    } else {
      for (std::int64_t p = 0; p < kc; ++p) {
        std::int64_t i = 0;
        for (; i < rows; ++i) ap[p * mr + i] = src[i * rs_a + p * cs_a];
        for (; i < mr; ++i) ap[p * mr + i] = T(0);
      }
    }
    ap += mr * kc;
  }
}

/// B (kc×nc at b, strides rs_b, cs_b) → bp, slivers of NR columns (zero-padded).
template <class T>
void pack_b(std::int64_t kc, std::int64_t nc, const T* b, std::int64_t rs_b, std::int64_t cs_b,
            std::int64_t nr, T* bp) {
  for (std::int64_t j0 = 0; j0 < nc; j0 += nr) {
    const std::int64_t cols = std::min(nr, nc - j0);
    const T* src = b + j0 * cs_b;
    if (cols == nr && cs_b == 1) {  // row-major source: each k is a contiguous run of NR
      for (std::int64_t p = 0; p < kc; ++p) {
        for (std::int64_t j = 0; j < nr; ++j) bp[p * nr + j] = src[p * rs_b + j];
      }
    } else {
      for (std::int64_t p = 0; p < kc; ++p) {
        std::int64_t j = 0;
        for (; j < cols; ++j) bp[p * nr + j] = src[p * rs_b + j * cs_b];
        for (; j < nr; ++j) bp[p * nr + j] = T(0);
      }
    }
    bp += nr * kc;
  }
}

}  // namespace ember::detail
