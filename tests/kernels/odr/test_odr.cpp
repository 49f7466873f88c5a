// Two translation units built with different -m flags, linked into one program (numpy#25274,
// pytorch#14436): both must run the kernel the dispatcher picks and give identical results.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "gemm_probe.hpp"

TEST(GemmOdr, TranslationUnitsWithDifferentFlagsAgree) {
  if (ember::cpu_isa() < ember::Isa::Avx2) GTEST_SKIP() << "the -mavx2 unit needs an AVX2 CPU";
  GemmProbe a = probe_default_flags();
  GemmProbe b = probe_avx2_flags();
  EXPECT_EQ(a.kernel, ember::gemm_kernel_name());
  EXPECT_EQ(a.kernel, b.kernel);
  ASSERT_EQ(a.c.size(), b.c.size());
  for (std::size_t i = 0; i < a.c.size(); ++i) ASSERT_EQ(a.c[i], b.c[i]) << "element " << i;
  EXPECT_EQ(a.bf16_kernel, b.bf16_kernel);
  EXPECT_EQ(a.int8_kernel, b.int8_kernel);
  EXPECT_EQ(a.c_bf16, b.c_bf16);
  EXPECT_EQ(a.c_int8, b.c_int8);
}

// Neither unit is built with -mamx-* or -mavx512bf16: the bf16 and int8 products still run the
// CPU's best kernel (AMX tiles where the OS grants them), and give the right answer.
TEST(GemmOdr, DefaultBuildRunsTheBestBf16AndInt8Kernels) {
  if (std::getenv("EMBER_ISA") != nullptr || std::getenv("EMBER_AMX_PERMISSION") != nullptr)
    GTEST_SKIP() << "the environment overrides the choice";
  GemmProbe a = probe_default_flags();
  const ember::CpuFeatures& f = ember::cpu_features();
  const ember::Isa best = ember::cpu_isa();
  const char* bf16 = best == ember::Isa::Amx ? "ukernel_amx_bf16_32x32"
                     : best == ember::Isa::Avx512Bf16 && f.amd ? "ukernel_avx512_bf16_6x64"
                     : best >= ember::Isa::Avx512              ? "ukernel_avx512_f32_14x32+bf16in"
                     : best == ember::Isa::Avx2                ? "ukernel_avx2_f32_6x16+bf16in"
                                                               : "ukernel_ref_f32_8x8+bf16in";
  const char* int8 = best == ember::Isa::Amx                   ? "ukernel_amx_u8s8_32x32"
                     : best >= ember::Isa::Avx512 && f.avx512_vnni ? "ukernel_avx512_vnni_u8s8_6x64"
                     : best >= ember::Isa::Avx2                    ? "ukernel_avx2_u8s8_6x16"
                                                                   : "ukernel_ref_s32_4x8";
  EXPECT_EQ(a.bf16_kernel, bf16);
  EXPECT_EQ(a.int8_kernel, int8);
  // Exact int8 reference, and the bf16 result within fp32 summation error of the fp32 one
  // computed from the same bf16-rounded values (|error| ≤ (k + 4)·u·Σ|a||b|, k = 41).
  ember::Generator g(123);
  auto fa = ember::uniform<float>({37, 41}, -1, 1, g);
  auto fb = ember::uniform<float>({41, 29}, -1, 1, g);
  for (int i = 0; i < 37; ++i)
    for (int j = 0; j < 29; ++j) {
      std::int64_t s8 = 0;
      double s = 0, mag = 0;
      for (int p = 0; p < 41; ++p) {
        s8 += std::int64_t{static_cast<std::uint8_t>((i * 41 + p) * 37 % 256)} *
              static_cast<std::int8_t>((p * 29 + j) * 11 % 256 - 128);
        const double x = double(float(ember::bfloat16(fa.at(i, p)))) *
                         double(float(ember::bfloat16(fb.at(p, j))));
        s += x;
        mag += std::fabs(x);
      }
      ASSERT_EQ(a.c_int8[static_cast<std::size_t>(i * 29 + j)], s8);
      ASSERT_NEAR(a.c_bf16[static_cast<std::size_t>(i * 29 + j)], s, 45 * std::ldexp(1.0, -24) * mag);
    }
}

namespace {
// No AMX in force: not granted, not the level, no AMX kernel chosen for bf16 or int8.
void expect_amx_kept_out() {
  EXPECT_FALSE(ember::amx_granted());
  EXPECT_NE(ember::cpu_isa(), ember::Isa::Amx);
  EXPECT_EQ(ember::gemm_kernel_name(ember::DType::BFloat16).find("amx"), std::string::npos);
  EXPECT_EQ(ember::gemm_kernel_name(ember::DType::Int8).find("amx"), std::string::npos);
}
}  // namespace

// Run by ctest with EMBER_AMX_PERMISSION=deny (gemm.env.amx_denied): a refused grant runs the
// next level, never SIGILL.
TEST(GemmEnv, AmxPermissionRefusedRunsTheNextLevel) {
  if (std::getenv("EMBER_AMX_PERMISSION") == nullptr) GTEST_SKIP() << "set EMBER_AMX_PERMISSION";
  expect_amx_kept_out();
  GemmProbe a = probe_default_flags();  // runs, on the next level's kernels
  EXPECT_EQ(a.c_int8.size(), 37u * 29u);
}

// Run by ctest with EMBER_AMX=off (gemm.env.amx_off): the AMX kernels stay out even where the
// CPU and OS grant the tiles; the products run on the next level.
TEST(GemmEnv, AmxOffKeepsTheTilesOut) {
  const char* env = std::getenv("EMBER_AMX");
  if (env == nullptr || std::string(env) != "off") GTEST_SKIP() << "set EMBER_AMX=off";
  expect_amx_kept_out();
  EXPECT_THROW(ember::set_gemm_isa(ember::Isa::Amx), ember::Error);
}

// Run by ctest with EMBER_AMX=maybe (gemm.env.amx_bad): a wrong value is an error naming the
// variable on every CPU, AMX or not, at the first choice of a kernel.
TEST(GemmEnv, AmxWrongValueIsAnError) {
  const char* env = std::getenv("EMBER_AMX");
  if (env == nullptr || std::string(env) != "maybe") GTEST_SKIP() << "set EMBER_AMX=maybe";
  try {
    (void)ember::cpu_isa();
    ADD_FAILURE() << "no error for EMBER_AMX=maybe";
  } catch (const ember::Error& e) {
    EXPECT_NE(std::string(e.what()).find("EMBER_AMX"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'maybe'"), std::string::npos) << e.what();
  }
}

TEST(GemmOdr, DefaultBuildRunsTheBestKernelForThisCpu) {
  // This program is compiled without -march=native; the kernel still matches the CPU.
  const char* expected = ember::cpu_isa() >= ember::Isa::Avx512 ? "ukernel_avx512_f32_14x32"
                         : ember::cpu_isa() == ember::Isa::Avx2 ? "ukernel_avx2_f32_6x16"
                                                                : "ukernel_ref_f32_8x8";
  if (std::getenv("EMBER_ISA") != nullptr) GTEST_SKIP() << "EMBER_ISA overrides the choice";
  EXPECT_EQ(probe_default_flags().kernel, expected);
}

// Run by ctest with EMBER_ISA=generic (gemm.env.generic): the environment forces the kernel.
TEST(GemmEnv, EmberIsaSelectsTheKernel) {
  const char* env = std::getenv("EMBER_ISA");
  if (env == nullptr) GTEST_SKIP() << "set EMBER_ISA to run this test";
  const std::string want = env;
  EXPECT_EQ(std::string(ember::isa_name(ember::gemm_isa())), want);
  EXPECT_NE(ember::gemm_kernel_name().find(want == "generic" ? "ref" : want), std::string::npos);
}
