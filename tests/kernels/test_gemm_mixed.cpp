// bf16 and int8 GEMM: every kernel row this CPU can run (and the AMX layout in portable code),
// against references, over shapes that miss every tile and group size, transposes, strided and
// column-major C, alpha/beta (beta = 0 with NaN in C), tiny cache blocks, 1 and 2 threads.
//
// bf16 error bound. The reference is computed in double from the bf16-rounded inputs, so the
// rounding of the inputs is not an error of the kernel. Each product of two bf16 values is exact
// in fp32 (8 + 8 significant bits ≤ 24), so what remains is fp32 summation of k exact terms:
// |ĉ − c| ≤ γ_k · Σ_p |A(i,p)||B(p,j)|, γ_k = k·u/(1 − k·u), u = 2^-24 (Higham §3.5), in any
// order and blocking; alpha and beta add a few roundings. Allowed: (k + 4)·u·Σ|A||B|(+|βC|),
// the worst case, so a failure is a bug (a wrong packed element is off by ~|A||B|, far more).
//
// int8: exact, against an int64 reference (the test values cannot overflow int32).
#include <cmath>
#include <cstdlib>
#include <limits>

#include "../test_util.hpp"
#include "gemm_rows.hpp"

namespace {

using ember::bfloat16;
using ember::Tensor;

struct Shape3 {
  std::int64_t m, n, k;
};

// m, n across the 14/32-row and 32-column tiles, k across the 2/4/32/64 groups.
const Shape3 kShapes[] = {{1, 1, 1},    {3, 5, 2},     {14, 32, 32},  {15, 33, 33},
                          {32, 32, 64}, {33, 17, 65},  {31, 63, 127}, {64, 96, 128},
                          {7, 130, 3},  {100, 45, 257}};

class GemmMixed : public ::testing::Test {
 protected:
  void TearDown() override {
    ember::detail::gemm_blocking_override() = nullptr;
    ember::set_num_threads(2);
  }
};

template <class S>
S make(float x) {
  if constexpr (std::is_same_v<S, float>)
    return x;
  else
    return bfloat16(x);
}

template <class S>
double rounded(S x) {  // the bf16 value the kernels multiply
  return static_cast<double>(static_cast<float>(bfloat16(static_cast<float>(x))));
}

// One bf16 case: A (m×k) and B (k×n), transposed if asked; C with leading dim n + 3, or
// column-major when col_c.
template <class S>
void check_bf16(const ember::detail::Bf16Kernel<S>& row, const Shape3& sh, bool ta, bool tb,
                bool col_c, float alpha, float beta, int threads, ember::Generator& g) {
  const auto [m, n, k] = sh;
  std::vector<S> a(static_cast<std::size_t>(m * k)), b(static_cast<std::size_t>(k * n));
  for (auto& x : a) x = make<S>(g.next_float() * 2 - 1);
  for (auto& x : b) x = make<S>(g.next_float() * 2 - 1);
  const std::int64_t rs_a = ta ? 1 : k, cs_a = ta ? m : 1, rs_b = tb ? 1 : n, cs_b = tb ? k : 1;
  const std::int64_t ld = col_c ? m + 2 : n + 3;
  const std::int64_t rs_c = col_c ? 1 : ld, cs_c = col_c ? ld : 1;
  std::vector<float> c(static_cast<std::size_t>((col_c ? n : m) * ld));
  for (auto& x : c)
    x = beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : g.next_float() - 0.5f;
  const std::vector<float> c0 = c;
  ember::detail::gemm_mixed_with<S, S, float>(row, m, n, k, alpha, {a.data(), rs_a, cs_a},
                                              {b.data(), rs_b, cs_b}, beta,
                                              {c.data(), rs_c, cs_c}, threads);
  const double u = std::ldexp(1.0, -24);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0, mag = 0;
      for (std::int64_t p = 0; p < k; ++p) {
        const double x = rounded(a[static_cast<std::size_t>(i * rs_a + p * cs_a)]) *
                         rounded(b[static_cast<std::size_t>(p * rs_b + j * cs_b)]);
        s += x;
        mag += std::fabs(x);
      }
      const double old = c0[static_cast<std::size_t>(i * rs_c + j * cs_c)];
      const double want = alpha * s + (beta == 0.0f ? 0.0 : beta * old);
      const double tol = (static_cast<double>(k) + 4) * u *
                             (std::fabs(alpha) * mag + (beta == 0.0f ? 0.0 : std::fabs(beta * old))) +
                         1e-30;
      const double got = c[static_cast<std::size_t>(i * rs_c + j * cs_c)];
      ASSERT_LE(std::fabs(got - want), tol)
          << row.name << " m=" << m << " n=" << n << " k=" << k << " ta=" << ta << " tb=" << tb
          << " col_c=" << col_c << " alpha=" << alpha << " beta=" << beta
          << " threads=" << threads << " at (" << i << "," << j << ")";
    }
  // Nothing outside the m×n view of C was written.
  for (std::size_t idx = 0; idx < c.size(); ++idx) {
    const std::int64_t major = static_cast<std::int64_t>(idx) / ld,
                       minor = static_cast<std::int64_t>(idx) % ld;
    if (minor >= (col_c ? m : n)) {
      ASSERT_TRUE(std::isnan(c[idx]) ? std::isnan(c0[idx]) : c[idx] == c0[idx])
          << row.name << " wrote padding at " << major << "," << minor;
    }
  }
}

template <class S>
void every_bf16_row(ember::Generator& g) {
  for (const auto* row : runnable(ember::detail::bf16_kernels<S>())) {
    for (const Shape3& sh : kShapes)
      for (int t = 0; t < 4; ++t)
        check_bf16<S>(*row, sh, t & 1, t & 2, false, 1.0f, 0.0f, 1, g);
    for (const Shape3& sh : {Shape3{33, 40, 70}, Shape3{5, 3, 9}}) {
      check_bf16<S>(*row, sh, false, true, true, -0.5f, 0.25f, 1, g);
      check_bf16<S>(*row, sh, true, false, false, 2.0f, 1.0f, 2, g);
      check_bf16<S>(*row, sh, false, false, true, 1.0f, 0.0f, 2, g);
    }
  }
}

TEST_F(GemmMixed, Bf16EveryKernelFromFloatAgainstDoubleReference) {
  ember::Generator g(11);
  every_bf16_row<float>(g);
}

TEST_F(GemmMixed, Bf16EveryKernelFromBf16AgainstDoubleReference) {
  ember::Generator g(12);
  every_bf16_row<bfloat16>(g);
}

TEST_F(GemmMixed, Bf16TinyBlocksAndTwoThreadsReachEverySplit) {
  ember::Generator g(13);
  ember::GemmBlocking tiny{1, 1, 40, 40, 40};  // mc, kc, nc (rounded to each kernel's tile)
  ember::detail::gemm_blocking_override() = &tiny;
  for (const auto* row : runnable(ember::detail::bf16_kernels<float>())) {
    for (const Shape3& sh : {Shape3{70, 90, 100}, Shape3{150, 33, 66}, Shape3{20, 200, 41}}) {
      check_bf16<float>(*row, sh, false, false, false, 1.0f, 0.5f, 1, g);
      check_bf16<float>(*row, sh, true, true, false, 1.0f, 0.0f, 2, g);
    }
  }
}

// int8: exact against int64.
void check_u8s8(const ember::detail::U8S8Kernel& row, const Shape3& sh, bool ta, bool tb,
                std::int32_t alpha, std::int32_t beta, int threads, ember::Generator& g) {
  const auto [m, n, k] = sh;
  std::vector<std::uint8_t> a(static_cast<std::size_t>(m * k));
  std::vector<std::int8_t> b(static_cast<std::size_t>(k * n));
  for (auto& x : a) x = static_cast<std::uint8_t>(g.next_u32() & 0xff);
  for (auto& x : b) x = static_cast<std::int8_t>(static_cast<int>(g.next_u32() & 0xff) - 128);
  const std::int64_t rs_a = ta ? 1 : k, cs_a = ta ? m : 1, rs_b = tb ? 1 : n, cs_b = tb ? k : 1;
  const std::int64_t ld = n + 1;
  std::vector<std::int32_t> c(static_cast<std::size_t>(m * ld));
  for (auto& x : c) x = static_cast<std::int32_t>(g.next_u32() % 2001) - 1000;
  const auto c0 = c;
  ember::detail::gemm_mixed_with<std::uint8_t, std::int8_t, std::int32_t>(
      row, m, n, k, alpha, {a.data(), rs_a, cs_a}, {b.data(), rs_b, cs_b}, beta, {c.data(), ld, 1},
      threads);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      std::int64_t s = 0;
      for (std::int64_t p = 0; p < k; ++p)
        s += std::int64_t{a[static_cast<std::size_t>(i * rs_a + p * cs_a)]} *
             b[static_cast<std::size_t>(p * rs_b + j * cs_b)];
      const std::int64_t want =
          alpha * s + (beta == 0 ? 0 : beta * std::int64_t{c0[static_cast<std::size_t>(i * ld + j)]});
      ASSERT_EQ(c[static_cast<std::size_t>(i * ld + j)], want)
          << row.name << " m=" << m << " n=" << n << " k=" << k << " ta=" << ta << " tb=" << tb
          << " at (" << i << "," << j << ")";
    }
  for (std::int64_t i = 0; i < m; ++i)
    ASSERT_EQ(c[static_cast<std::size_t>(i * ld + n)], c0[static_cast<std::size_t>(i * ld + n)]);
}

TEST_F(GemmMixed, Int8EveryKernelExactAgainstInt64) {
  ember::Generator g(21);
  for (const auto* row : runnable(ember::detail::u8s8_kernels())) {
    for (const Shape3& sh : kShapes)
      for (int t = 0; t < 4; ++t) check_u8s8(*row, sh, t & 1, t & 2, 1, 0, 1, g);
    check_u8s8(*row, {70, 50, 130}, false, true, 3, -2, 2, g);
    check_u8s8(*row, {9, 100, 5}, true, false, -1, 1, 2, g);
  }
}

// The largest products in every position: a kernel that sums u8·s8 pairs in int16 (as
// vpmaddubsw does) saturates here (255·(−128)·2 < −32 768). A depth past 65 793 takes the sums
// beyond int32: every row wraps them as the hardware's int32 accumulators do.
TEST_F(GemmMixed, Int8ExtremeValuesAreExactAndWrap) {
  for (const auto* row : runnable(ember::detail::u8s8_kernels())) {
    for (const std::int64_t k : {std::int64_t{257}, std::int64_t{70001}}) {
      const std::int64_t m = 7, n = 17;
      std::vector<std::uint8_t> a(static_cast<std::size_t>(m * k), 255);
      std::vector<std::int8_t> b(static_cast<std::size_t>(k * n));
      // Columns of −128, of 127, and alternating (pairs that cancel, an odd k left over).
      for (std::int64_t p = 0; p < k; ++p)
        for (std::int64_t j = 0; j < n; ++j) {
          const int kind = static_cast<int>(j % 3);
          b[static_cast<std::size_t>(p * n + j)] =
              static_cast<std::int8_t>(kind == 0 ? -128 : kind == 1 || p % 2 == 0 ? 127 : -128);
        }
      std::vector<std::int32_t> c(static_cast<std::size_t>(m * n), 12345);
      ember::detail::gemm_mixed_with<std::uint8_t, std::int8_t, std::int32_t>(
          *row, m, n, k, 1, {a.data(), k, 1}, {b.data(), n, 1}, 0, {c.data(), n, 1}, 2);
      for (std::int64_t j = 0; j < n; ++j) {
        std::int64_t s = 0;
        for (std::int64_t p = 0; p < k; ++p) s += 255 * std::int64_t{b[static_cast<std::size_t>(p * n + j)]};
        const auto want = static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(s)));
        for (std::int64_t i = 0; i < m; ++i)
          ASSERT_EQ(c[static_cast<std::size_t>(i * n + j)], want)
              << row->name << " k=" << k << " at (" << i << "," << j << ")";
      }
    }
  }
}

TEST_F(GemmMixed, Int8TinyBlocks) {
  ember::Generator g(22);
  ember::GemmBlocking tiny{1, 1, 40, 40, 40};
  ember::detail::gemm_blocking_override() = &tiny;
  for (const auto* row : runnable(ember::detail::u8s8_kernels()))
    check_u8s8(*row, {90, 70, 150}, false, false, 1, 1, 2, g);
}

TEST_F(GemmMixed, PublicEntryPointsAndKernelNames) {
  ember::Generator g(31);
  auto A = ember::uniform<float>({37, 70}, -1, 1, g), B = ember::uniform<float>({70, 45}, -1, 1, g);
  auto Ab = A.to<bfloat16>(), Bb = B.to<bfloat16>();
  std::vector<float> c(37 * 45, std::numeric_limits<float>::quiet_NaN());
  ember::gemm(37, 45, 70, 1.0f, Ab.data(), 70, 1, Bb.data(), 45, 1, 0.0f, c.data(), 45, 1);
  // Under bf16 precision an fp32 gemm multiplies the same bf16 values.
  std::vector<float> c2(37 * 45);
  {
    ember::MatmulPrecisionGuard bf16(ember::Precision::bf16);
    EXPECT_EQ(ember::matmul_precision(), ember::Precision::bf16);
    EXPECT_EQ(ember::gemm_kernel_name(ember::DType::Float32),
              ember::gemm_kernel_name(ember::DType::BFloat16));
    ember::gemm<float>(37, 45, 70, 1.0f, A.data(), 70, 1, B.data(), 45, 1, 0.0f, c2.data(), 45, 1);
  }
  EXPECT_EQ(ember::matmul_precision(), ember::Precision::fp32);
  EXPECT_EQ(ember::gemm_kernel_name(ember::DType::Float32), ember::gemm_kernel_name());
  const double u = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_NEAR(c[i], c2[i], 2 * 74 * u * 70);
  // The fp32 product differs from the bf16 one by about the inputs' rounding (2^-9 relative).
  std::vector<float> c3(37 * 45);
  ember::gemm<float>(37, 45, 70, 1.0f, A.data(), 70, 1, B.data(), 45, 1, 0.0f, c3.data(), 45, 1);
  double diff = 0;
  for (std::size_t i = 0; i < c.size(); ++i) diff = std::max(diff, std::fabs(double(c[i]) - c3[i]));
  EXPECT_GT(diff, 0.0);
  EXPECT_LT(diff, 70 * std::ldexp(1.0, -8));

  std::vector<std::uint8_t> a8{1, 2, 3, 255};
  std::vector<std::int8_t> b8{-128, 127, 1, -1};
  std::vector<std::int32_t> c8(4);
  ember::gemm(2, 2, 2, 1, a8.data(), 2, 1, b8.data(), 2, 1, 0, c8.data(), 2, 1);
  EXPECT_EQ(c8, (std::vector<std::int32_t>{1 * -128 + 2 * 1, 1 * 127 + 2 * -1,
                                           3 * -128 + 255 * 1, 3 * 127 + 255 * -1}));
  EXPECT_EMBER_ERROR(
      ember::gemm(-1, 2, 2, 1, a8.data(), 2, 1, b8.data(), 2, 1, 0, c8.data(), 2, 1),
      "gemm: negative size");
}

// matmul on bf16 tensors: bf16 out, each element the fp32 sum of exact products rounded once
// (so within half a bf16 ulp plus the fp32 summation bound of the exact value).
TEST_F(GemmMixed, MatmulOnBf16TensorsRoundsOnce) {
  ember::Generator g(41);
  auto A = ember::uniform<float>({2, 9, 40}, -1, 1, g).to<bfloat16>();
  auto B = ember::uniform<float>({40, 13}, -1, 1, g).to<bfloat16>();
  Tensor<bfloat16> C = ember::matmul(A, B);
  ASSERT_EQ(C.shape(), ember::Shape({2, 9, 13}));
  for (std::int64_t b = 0; b < 2; ++b)
    for (std::int64_t i = 0; i < 9; ++i)
      for (std::int64_t j = 0; j < 13; ++j) {
        double s = 0, mag = 0;
        for (std::int64_t p = 0; p < 40; ++p) {
          const double x = double(float(A.at(b, i, p))) * double(float(B.at(p, j)));
          s += x;
          mag += std::fabs(x);
        }
        const double got = float(C.at(b, i, j));
        ASSERT_LE(std::fabs(got - s), std::ldexp(std::fabs(s), -8) + 44 * std::ldexp(mag, -24))
            << b << "," << i << "," << j;
      }
}

// pack_bf16_rows_block writes the bytes of one pack_bf16_rows per sliver (the last sliver
// padded with zero rows), for A with depth contiguous, rows contiguous (a transposed A: the
// block-wise 16×16 transposes) and neither (the scalar loop), at every level this CPU has.
template <std::int64_t R, class S>
void check_block_pack(ember::Generator& g) {
  using ember::detail::pack_bf16_rows;
  using ember::detail::pack_bf16_rows_block;
  for (std::int64_t rows : {1, 5, 6, 7, 13, 14, 15, 16, 17, 31, 47, 48, 49, 60, 112}) {
    for (std::int64_t kc : {1, 2, 15, 16, 17, 33, 100}) {
      const std::int64_t kp = (kc + 1) / 2 * 2, slivers = (rows + R - 1) / R;
      for (int layout = 0; layout < 3; ++layout) {
        // layout 0: A(i, p) at i·(kc + 3) + p; 1: at p·(rows + 5) + i; 2: at 2·(i·kc + p).
        const std::int64_t rs = layout == 0 ? kc + 3 : layout == 1 ? 1 : 2 * kc;
        const std::int64_t cs = layout == 0 ? 1 : layout == 1 ? rows + 5 : 2;
        std::vector<S> src(static_cast<std::size_t>((rows + 5) * (kc + 3) * 2));
        for (auto& x : src) x = make<S>(g.next_float() * 2 - 1);
        std::vector<std::uint16_t> want(static_cast<std::size_t>(slivers * R * kp), 0xdead);
        std::vector<std::uint16_t> got(want.size(), 0xbeef);
        for (std::int64_t s = 0; s < slivers; ++s)
          pack_bf16_rows<R, 2, S>(std::min(R, rows - s * R), kc, src.data() + s * R * rs, rs, cs,
                                  want.data() + s * R * kp);
        pack_bf16_rows_block<R, 2, S>(rows, kc, src.data(), rs, cs, got.data());
        ASSERT_EQ(got, want) << "R=" << R << " rows=" << rows << " kc=" << kc << " layout=" << layout;
      }
    }
  }
}

TEST_F(GemmMixed, BlockPackEqualsPackingEachSliver) {
  ember::Generator g(21);
  const ember::Isa best = ember::cpu_isa();
  for (ember::Isa level : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512}) {
    if (level > best) continue;
    ember::set_gemm_isa(level);
    check_block_pack<6, float>(g);
    check_block_pack<14, float>(g);
    check_block_pack<6, bfloat16>(g);
  }
  ember::set_gemm_isa(best);
}

TEST_F(GemmMixed, LevelsSelectTheExpectedKernel) {
  const ember::Isa best = ember::cpu_isa();
  ember::set_gemm_isa(ember::Isa::Generic);
  EXPECT_EQ(ember::gemm_kernel_name(ember::DType::BFloat16), "ukernel_ref_f32_8x8+bf16in");
  EXPECT_EQ(ember::gemm_kernel_name(ember::DType::Int8), "ukernel_ref_s32_4x8");
  if (best >= ember::Isa::Avx2) {
    ember::set_gemm_isa(ember::Isa::Avx2);
    EXPECT_EQ(ember::gemm_kernel_name(ember::DType::BFloat16), "ukernel_avx2_f32_6x16+bf16in");
    EXPECT_EQ(ember::gemm_kernel_name(ember::DType::Int8), "ukernel_avx2_u8s8_6x16");
  }
  if (best >= ember::Isa::Avx512) {
    ember::set_gemm_isa(ember::Isa::Avx512);
    EXPECT_EQ(ember::gemm_kernel_name(ember::DType::BFloat16), "ukernel_avx512_f32_14x32+bf16in");
    EXPECT_EQ(ember::gemm_kernel_name(ember::DType::Int8),
              ember::cpu_features().avx512_vnni ? "ukernel_avx512_vnni_u8s8_6x64"
                                                : "ukernel_avx2_u8s8_6x16");
  }
  if (best >= ember::Isa::Avx512Bf16) {
    ember::set_gemm_isa(ember::Isa::Avx512Bf16);
    EXPECT_EQ(ember::gemm_kernel_name(ember::DType::BFloat16),
              ember::cpu_features().amd ? "ukernel_avx512_bf16_6x64"
                                        : "ukernel_avx512_f32_14x32+bf16in");
  }
  if (best == ember::Isa::Amx) {
    ember::set_gemm_isa(ember::Isa::Amx);
    EXPECT_EQ(ember::gemm_kernel_name(ember::DType::BFloat16), "ukernel_amx_bf16_32x32");
    EXPECT_EQ(ember::gemm_kernel_name(ember::DType::Int8), "ukernel_amx_u8s8_32x32");
  } else {
    EXPECT_EMBER_ERROR(ember::set_gemm_isa(ember::Isa::Amx), "ISA amx is not supported");
  }
  ember::set_gemm_isa(best);
}

// EMBER_AMX: unset, empty, on or 1 let AMX run where granted; off or 0 keep it out; anything
// else is an error naming the variable.
TEST(Amx, EmberAmxSettingParses) {
  EXPECT_TRUE(ember::detail::amx_setting(nullptr));
  EXPECT_TRUE(ember::detail::amx_setting(""));
  EXPECT_TRUE(ember::detail::amx_setting("on"));
  EXPECT_TRUE(ember::detail::amx_setting("1"));
  EXPECT_FALSE(ember::detail::amx_setting("off"));
  EXPECT_FALSE(ember::detail::amx_setting("0"));
  EXPECT_EMBER_ERROR(ember::detail::amx_setting("yes"), "EMBER_AMX");
  EXPECT_EMBER_ERROR(ember::detail::amx_setting("yes"), "unknown value 'yes'");
}

#if EMBER_X86
// The configuration ldtilecfg loads is the one the kernels need (read back with sttilecfg), and
// release() clears it. g++ 12's _tile_loadconfig once let the compiler drop the row and column
// sizes, so every AMX GEMM raised SIGILL on its first tile load; this catches that on any AMX
// machine even before a kernel runs.
TEST(Amx, ConfigureLoadsTheKernelsTilesAndReleaseClearsThem) {
  if (!ember::amx_granted()) GTEST_SKIP() << "no AMX (or not granted / not enabled) here";
  namespace amx = ember::detail::amx;
  amx::configure();
  const amx::TileConfig got = amx::loaded_config();
  amx::release();
  const amx::TileConfig after = amx::loaded_config();
  EXPECT_EQ(got.palette_id, 1);
  for (int t = 0; t < 16; ++t) {
    EXPECT_EQ(got.rows[t], t < 8 ? 16 : 0) << "tile " << t;
    EXPECT_EQ(got.colsb[t], t < 8 ? 64 : 0) << "tile " << t;
  }
  EXPECT_EQ(after.palette_id, 0);
  EXPECT_EQ(after.rows[0], 0);
  EXPECT_EQ(after.colsb[0], 0);
}
#endif

}  // namespace
