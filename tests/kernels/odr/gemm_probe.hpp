// Shared by the two translation units of the ODR test: each compiles this with its own flags.
#pragma once

#include <string>
#include <vector>

#include <ember/ember.hpp>

struct GemmProbe {
  std::string kernel;
  std::vector<float> c;
};

// 37×41 · 41×29 with fixed inputs, through the dispatched fp32 kernel.
inline GemmProbe run_gemm_probe() {
  ember::Generator g(123);
  auto a = ember::uniform<float>({37, 41}, -1, 1, g);
  auto b = ember::uniform<float>({41, 29}, -1, 1, g);
  auto c = ember::zeros({37, 29});
  ember::gemm(1.0f, a, b, 0.0f, c);
  return {ember::gemm_kernel_name(), c.to_vector()};
}

GemmProbe probe_default_flags();
GemmProbe probe_avx2_flags();
