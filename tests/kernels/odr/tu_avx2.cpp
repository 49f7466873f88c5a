// Built with -mavx2 -mfma: its inline functions differ from tu_default.cpp's copies. ember's
// SIMD kernels must still be one definition (target attributes, ISA-named namespaces), so the
// program runs the same dispatched kernel from both units.
#include "gemm_probe.hpp"

GemmProbe probe_avx2_flags() {
  return run_gemm_probe();
}
