// ember/kernels/gemm/ukernel_ref.hpp — the portable reference micro-kernel, any T, any tile.
// Layer: kernels/gemm. Both the fallback on CPUs without a SIMD kernel (and for double and
// integer GEMM) and the oracle the SIMD kernels are tested against.
//
// Contract shared by every micro-kernel (the signature of UKernel in dispatch.hpp):
//   c[0:m_cur, 0:n_cur] = alpha · (A · B) + beta · c   (beta == 0: c is not read, so NaN in c
//                                                        does not propagate, as BLAS requires)
//   A, an MR×k sliver, is either packed (kPackedA: a[p*MR + i], rows padded with zeros; see
//     pack.hpp) or read in place from a row-major matrix (a[i*rs_a + p]; rows ≥ m_cur are
//     never read).
//   B, a k×NR sliver, is either packed (kPackedB: b[p*NR + j], zero-padded) or read in place
//     from a row-major matrix (b[p*rs_b + j]); in place, the sliver is always full width
//     (n_cur == NR: the driver packs a partial edge sliver), so SIMD kernels load it unmasked.
//   C(i, j) is c[i*rs_c + j*cs_c]; only the m_cur×n_cur corner is written.
// Reading A and B in place lets small products skip packing, whose cost there is comparable to
// the arithmetic (see driver.hpp).
// Integer products and sums wrap modulo 2^bits, as hardware integer accumulators do: they run in
// an unsigned type (at least unsigned int, so narrow types do not promote to a signed int),
// since signed overflow is undefined behaviour; the conversion back is modular (C++20).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace ember::detail {

template <class T, bool = std::is_integral_v<T>>
struct RefArith {
  using type = T;
};
template <class T>
struct RefArith<T, true> {
  using type = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;
};

template <class T, int MR, int NR, bool kPackedA, bool kPackedB>
void ukernel_ref(std::int64_t k, const T* a, std::int64_t rs_a, const T* b, std::int64_t rs_b, T* c,
                 std::int64_t rs_c, std::int64_t cs_c, std::int64_t m_cur, std::int64_t n_cur,
                 T alpha, T beta) {
  using U = typename RefArith<T>::type;
  U acc[MR][NR] = {};
  for (std::int64_t p = 0; p < k; ++p) {
    for (int i = 0; i < MR; ++i) {
      T ai;
      if constexpr (kPackedA)
        ai = a[p * MR + i];
      else
        ai = i < m_cur ? a[i * rs_a + p] : T(0);
      for (int j = 0; j < NR; ++j) {
        T bj;
        if constexpr (kPackedB)
          bj = b[p * NR + j];
        else
          bj = j < n_cur ? b[p * rs_b + j] : T(0);
        acc[i][j] += static_cast<U>(ai) * static_cast<U>(bj);
      }
    }
  }
  for (std::int64_t i = 0; i < m_cur; ++i) {
    for (std::int64_t j = 0; j < n_cur; ++j) {
      T& cij = c[i * rs_c + j * cs_c];
      const U r = beta == T(0) ? static_cast<U>(alpha) * acc[i][j]
                               : static_cast<U>(alpha) * acc[i][j] + static_cast<U>(beta) * static_cast<U>(cij);
      cij = static_cast<T>(r);
    }
  }
}

}  // namespace ember::detail
