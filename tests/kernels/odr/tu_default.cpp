// Built with the default flags (no -m options).
#include "gemm_probe.hpp"

GemmProbe probe_default_flags() {
  return run_gemm_probe();
}
