// ember/kernels/gemm/blocking.hpp — the block sizes of the GEMM, as data.
// Layer: kernels/gemm. Vocabulary (BLIS): C (m×n) += A (m×k) · B (k×n).
//   MR×NR  the register tile one micro-kernel call computes (fixed by the kernel);
//   KC     depth of the packed panels: a KC×NR sliver of B stays in L1 across the ir loop;
//   MC     rows of the packed MC×KC block of A, kept in L2;
//   NC     columns of the packed KC×NC panel of B, kept in L3 (shared by the threads).
// Every kernel registers its own sizes in dispatch.hpp; tests override them with tiny values
// (set_gemm_blocking) so every edge path runs at small sizes.
#pragma once

#include <cstdint>

namespace ember {

/// Cache and register block sizes of one GEMM kernel.
struct GemmBlocking {
  std::int64_t mr = 1, nr = 1;          // register tile (must match the kernel)
  std::int64_t mc = 1, kc = 1, nc = 1;  // cache blocks; mc a multiple of mr, nc of nr
};

}  // namespace ember
