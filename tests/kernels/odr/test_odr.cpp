// Two translation units built with different -m flags, linked into one program (numpy#25274,
// pytorch#14436): both must run the kernel the dispatcher picks and give identical results.
#include <gtest/gtest.h>

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
}

TEST(GemmOdr, DefaultBuildRunsTheBestKernelForThisCpu) {
  // This program is compiled without -march=native; the kernel still matches the CPU.
  const char* expected = ember::cpu_isa() == ember::Isa::Avx512 ? "ukernel_avx512_f32_14x32"
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
