// ember/kernels/simd_store.hpp — stores of 16 AVX-512 lanes under a mask, plain when the mask
// is full. Layer: kernels.
//
// Why: on Zen 5 (this project's AMD machine) a masked store costs several times a plain one
// even with every lane set. Measured on one core: dropout's forward 14.3 → 33.0 GB/s with its
// full-width masked stores made plain (bench_elementwise BM_kernel_dropout_forward). Kernels
// that clip an edge with a mask call these, so only the edge pays.
#pragma once

#include "ember/kernels/cpu.hpp"

#if EMBER_X86
#include <immintrin.h>

namespace ember::detail {

#define EMBER_TARGET_STORE __attribute__((target("avx512f")))

/// p[i] = v[i] for the lanes i set in m (16 floats).
EMBER_TARGET_STORE inline void store_ps_lanes(float* p, __mmask16 m, __m512 v) {
  if (m == static_cast<__mmask16>(0xffff))
    _mm512_storeu_ps(p, v);
  else
    _mm512_mask_storeu_ps(p, m, v);
}

/// The 32-bit lanes of v set in m, to p (16 lanes of 4 bytes).
EMBER_TARGET_STORE inline void store_epi32_lanes(void* p, __mmask16 m, __m512i v) {
  if (m == static_cast<__mmask16>(0xffff))
    _mm512_storeu_si512(p, v);
  else
    _mm512_mask_storeu_epi32(p, m, v);
}

#undef EMBER_TARGET_STORE

}  // namespace ember::detail
#endif
