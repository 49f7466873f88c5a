// Shared by the two translation units of the ODR test: each compiles this with its own flags.
#pragma once

#include <string>
#include <vector>

#include <ember/ember.hpp>

struct GemmProbe {
  std::string kernel;
  std::vector<float> c;
  std::string bf16_kernel, int8_kernel;  // the bf16 and u8·s8 products of the same shape
  std::vector<float> c_bf16;
  std::vector<std::int32_t> c_int8;
};

// 37×41 · 41×29 with fixed inputs, through the dispatched fp32 kernel.
inline GemmProbe run_gemm_probe() {
  ember::Generator g(123);
  auto a = ember::uniform<float>({37, 41}, -1, 1, g);
  auto b = ember::uniform<float>({41, 29}, -1, 1, g);
  auto c = ember::zeros({37, 29});
  ember::gemm(1.0f, a, b, 0.0f, c);
  GemmProbe probe{ember::gemm_kernel_name(), c.to_vector(), {}, {}, {}, {}};
  auto ab = a.to<ember::bfloat16>(), bb = b.to<ember::bfloat16>();
  probe.c_bf16.assign(37 * 29, 0.0f);
  ember::gemm(37, 29, 41, 1.0f, ab.data(), 41, 1, bb.data(), 29, 1, 0.0f, probe.c_bf16.data(), 29,
              1);
  std::vector<std::uint8_t> a8(37 * 41);
  std::vector<std::int8_t> b8(41 * 29);
  for (std::size_t i = 0; i < a8.size(); ++i) a8[i] = static_cast<std::uint8_t>(i * 37 % 256);
  for (std::size_t i = 0; i < b8.size(); ++i) b8[i] = static_cast<std::int8_t>(i * 11 % 256 - 128);
  probe.c_int8.assign(37 * 29, 0);
  ember::gemm(37, 29, 41, 1, a8.data(), 41, 1, b8.data(), 29, 1, 0, probe.c_int8.data(), 29, 1);
  probe.bf16_kernel = ember::gemm_kernel_name(ember::DType::BFloat16);
  probe.int8_kernel = ember::gemm_kernel_name(ember::DType::Int8);
  return probe;
}

GemmProbe probe_default_flags();
GemmProbe probe_avx2_flags();
