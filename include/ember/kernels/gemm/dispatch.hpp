// ember/kernels/gemm/dispatch.hpp — which fp32 micro-kernel runs: one table, chosen at run time.
// Layer: kernels/gemm. The level comes from kernels/cpu.hpp (the CPU's best, or EMBER_ISA /
// set_gemm_isa() forcing a lower one); levels above avx512 run the avx512 fp32 kernel.
// gemm_kernel_name() says which kernel runs.
//
// Block sizes, with the reasoning (development machine: L1d 48 KiB, L2 2 MiB per core, L3
// shared; ../shared/MACHINE.md's Zen 5 has a 1 MiB L2). The driver keeps one MR×KC sliver of A
// in L1 and streams KC×NR slivers of the packed KC×NC panel of B past it (driver.hpp):
//   avx512 14×32: KC = 256 → the A sliver is 14 KiB of L1, each B sliver 32 KiB streamed;
//                 NC = 1024 → the B panel is 1 MiB (L2); MC = 14·72 = 1008 → the A block is
//                 1 MiB (L3). Chosen by measurement among KC ∈ {256, 320, 384, 512},
//                 NC ∈ {320 … 3072} with bench_gemm (EMBER_GEMM_BLOCKS=mc,kc,nc): 1024³ went
//                 from 191 (504, 384, 3072) to 196 GFLOP/s, 128×768×3072 from 151 to 159.
//   avx2 6×16:    the same sizes. Measured on a Zen 3 guest without AVX-512 (2026-12-04; L2
//                 512 KiB, so the 1 MiB B panel lives in L3): among (mc, kc, nc) = (1008, 256,
//                 {256, 384, 512, 1024}), (1008, {128, 192, 384, 512}, ·), (504, 256, 384),
//                 1 thread, none beat (1008, 256, 1024) by more than the noise on 256³, 1024³,
//                 64×768×768 and 128×768×3072 (81 / 82 / 77 / 77 GFLOP/s of a 101 peak); kc 128
//                 lost 25%.
//   generic 8×8:  the same reasoning with its tile (not tuned).
// The figures these reach are in the README (bench_gemm).
#pragma once

#include <atomic>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ember/core/error.hpp"
#include "ember/kernels/gemm/blocking.hpp"
#include "ember/kernels/gemm/driver.hpp"
#include "ember/kernels/gemm/ukernel_ref.hpp"
#include "ember/kernels/cpu.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#define EMBER_GEMM_X86 1
#include "ember/kernels/gemm/x86/pack_avx2.hpp"
#include "ember/kernels/gemm/x86/ukernel_avx2_f32.hpp"
#include "ember/kernels/gemm/x86/ukernel_avx512_f32.hpp"
#else
#define EMBER_GEMM_X86 0
#endif

namespace ember {

namespace detail {

/// The four forms (packed or in-place A and B) of a kernel template K<PackedA, PackedB>.
template <class T, template <bool, bool> class K>
constexpr UKernelSet<T> kernel_set() {
  return {{{K<false, false>::run, K<false, true>::run}, {K<true, false>::run, K<true, true>::run}}};
}

template <class T, int MR, int NR>
struct RefKernel {
  template <bool PA, bool PB>
  struct K {
    static constexpr UKernel<T> run = &ukernel_ref<T, MR, NR, PA, PB>;
  };
};

/// One row of the kernel table.
struct GemmKernelF32 {
  const char* name;
  Isa isa;
  UKernelFamily<float> kernels;
  GemmBlocking blocking;
};

#if EMBER_GEMM_X86
template <bool PA, bool PB>
struct Avx512Kernel {
  static constexpr UKernel<float> run = &avx512::ukernel_f32<14, 2, PA, PB>;
};
template <int Rows>
struct Avx512EdgeKernel {  // Rows×32, reading A slivers packed for 14 rows
  template <bool PA, bool PB>
  struct K {
    static constexpr UKernel<float> run = &avx512::ukernel_f32<Rows, 2, PA, PB, 14>;
  };
};
template <bool PA, bool PB>
struct Avx2Kernel {
  static constexpr UKernel<float> run = &avx2::ukernel_f32<6, 2, PA, PB>;
};
#endif

inline const GemmKernelF32& kernel_table(Isa isa) {
  static const GemmKernelF32 generic{"ukernel_ref_f32_8x8",
                                     Isa::Generic,
                                     {kernel_set<float, RefKernel<float, 8, 8>::K>()},
                                     {8, 8, 512, 256, 1024}};
#if EMBER_GEMM_X86
  static const GemmKernelF32 avx2{"ukernel_avx2_f32_6x16",
                                  Isa::Avx2,
                                  {kernel_set<float, Avx2Kernel>(), 0, {0, 0}, {}, &avx2::pack_f32<>},
                                  {6, 16, 1008, 256, 1024}};
  static const GemmKernelF32 avx512{
      "ukernel_avx512_f32_14x32",
      Isa::Avx512,
      {kernel_set<float, Avx512Kernel>(),
       2,
       {4, 8},
       {kernel_set<float, Avx512EdgeKernel<4>::K>(), kernel_set<float, Avx512EdgeKernel<8>::K>()},
       &avx2::pack_f32<>},
      {14, 32, 1008, 256, 1024}};
  if (isa >= Isa::Avx512) return avx512;
  if (isa >= Isa::Avx2) return avx2;
#endif
  return generic;
}

}  // namespace detail

/// Name of the fp32 micro-kernel that runs, e.g. "ukernel_avx512_f32_14x32".
inline std::string gemm_kernel_name() {
  return detail::kernel_table(gemm_isa()).name;
}

}  // namespace ember
