// ember/kernels/gemm/ukernel_ref.hpp — the portable reference micro-kernel, any T, any tile.
// Layer: kernels/gemm. Both the fallback on CPUs without a SIMD kernel (and for double and
// integer GEMM) and the oracle the SIMD kernels are tested against.
//
// Contract shared by every micro-kernel (see dispatch.hpp):
//   c[0:m_cur, 0:n_cur] = alpha · (a · b) + beta · c    (beta == 0: c is not read, so NaN in c
//                                                         does not propagate, as BLAS requires)
//   a: packed MR×k sliver,  a[p*MR + i] = A(i, p)   (see pack.hpp)
//   b: packed k×NR sliver,  b[p*NR + j] = B(p, j)
//   c: element (i, j) at c[i*rs_c + j*cs_c]; only the m_cur×n_cur corner is written.
#pragma once

#include <cstdint>

namespace ember::detail {

template <class T, int MR, int NR>
void ukernel_ref(std::int64_t k, const T* a, const T* b, T* c, std::int64_t rs_c, std::int64_t cs_c,
                 std::int64_t m_cur, std::int64_t n_cur, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (std::int64_t p = 0; p < k; ++p) {
    for (int i = 0; i < MR; ++i) {
      const T ai = a[p * MR + i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[p * NR + j];
    }
  }
  for (std::int64_t i = 0; i < m_cur; ++i) {
    for (std::int64_t j = 0; j < n_cur; ++j) {
      T& cij = c[i * rs_c + j * cs_c];
      cij = beta == T(0) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * cij;
    }
  }
}

}  // namespace ember::detail
