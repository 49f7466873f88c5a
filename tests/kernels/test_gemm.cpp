// GEMM against a double-precision reference and Eigen, over shapes around the register tile and
// cache blocks, every transpose and layout, strided views, alpha/beta (beta = 0 with NaN in C),
// every ISA this CPU supports, tiny forced cache blocks, and 1 and 2 threads.
//
// Error bound: each C(i,j) is a sum of k products. In IEEE single precision with unit roundoff
// u = 2^-24 the computed sum satisfies |ĉ - c| <= γ_k · Σ_p |A(i,p)||B(p,j)|, γ_k = k·u/(1 - k·u)
// (Higham, Accuracy and Stability of Numerical Algorithms, §3.5), whatever the summation order
// or blocking; alpha and beta add a few more roundings. The tests allow (k + 4)·u times that
// magnitude — the worst-case bound, so a failure is a real bug, not noise.
#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <tuple>
#include <vector>

#include <ember/eigen.hpp>

#include "../test_util.hpp"

using ember::Tensor;

namespace {

struct Case {
  std::int64_t m, n, k;
};

// Reference C = alpha·A·B + beta·C in double, plus Σ|A||B| for the error bound.
template <class T>
void reference(std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const T* a,
               std::int64_t rs_a, std::int64_t cs_a, const T* b, std::int64_t rs_b,
               std::int64_t cs_b, double beta, const std::vector<double>& c0,
               std::vector<double>& c, std::vector<double>& mag) {
  c.assign(static_cast<std::size_t>(m * n), 0.0);
  mag.assign(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0, g = 0;
      for (std::int64_t p = 0; p < k; ++p) {
        double x = static_cast<double>(a[i * rs_a + p * cs_a]) *
                   static_cast<double>(b[p * rs_b + j * cs_b]);
        s += x;
        g += std::fabs(x);
      }
      const std::size_t ij = static_cast<std::size_t>(i * n + j);
      c[ij] = alpha * s + (beta == 0 ? 0.0 : beta * c0[ij]);
      mag[ij] = std::fabs(alpha) * g + std::fabs(beta * (beta == 0 ? 0.0 : c0[ij]));
    }
}

// Runs one strided sgemm and checks it; C is row-major with leading dim n + pad.
void check_float_case(const Case& cs, bool ta, bool tb, float alpha, float beta,
                      ember::Generator& g, const char* what) {
  const auto [m, n, k] = cs;
  auto A = ember::uniform<float>({ta ? k : m, ta ? m : k}, -1, 1, g);
  auto B = ember::uniform<float>({tb ? n : k, tb ? k : n}, -1, 1, g);
  if (ta) A = A.t();
  if (tb) B = B.t();
  const std::int64_t ldc = n + 3;
  std::vector<float> c(static_cast<std::size_t>(std::max<std::int64_t>(1, m * ldc)));
  std::vector<double> c0(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      float v = beta == 0.0f ? std::numeric_limits<float>::quiet_NaN()
                             : static_cast<float>(g.next_float() - 0.5f);
      c[static_cast<std::size_t>(i * ldc + j)] = v;
      c0[static_cast<std::size_t>(i * n + j)] = v;
    }
  ember::gemm<float>(m, n, k, alpha, A.data(), A.stride(0), A.stride(1), B.data(), B.stride(0),
                     B.stride(1), beta, c.data(), ldc, 1);
  std::vector<double> ref, mag;
  reference(m, n, k, alpha, A.data(), A.stride(0), A.stride(1), B.data(), B.stride(0), B.stride(1),
            beta, c0, ref, mag);
  const double u = std::ldexp(1.0, -24);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      const std::size_t ij = static_cast<std::size_t>(i * n + j);
      const double got = c[static_cast<std::size_t>(i * ldc + j)];
      const double tol = static_cast<double>(k + 4) * u * mag[ij] + 1e-30;
      ASSERT_LE(std::fabs(got - ref[ij]), tol)
          << what << " m=" << m << " n=" << n << " k=" << k << " ta=" << ta << " tb=" << tb
          << " alpha=" << alpha << " beta=" << beta << " at (" << i << "," << j << ") kernel "
          << ember::gemm_kernel_name();
    }
}

std::vector<ember::Isa> supported_isas() {
  std::vector<ember::Isa> v{ember::Isa::Generic};
  if (ember::cpu_isa() >= ember::Isa::Avx2) v.push_back(ember::Isa::Avx2);
  if (ember::cpu_isa() >= ember::Isa::Avx512) v.push_back(ember::Isa::Avx512);
  return v;
}

// Restores the ISA, thread count and block sizes after each test.
class Gemm : public ::testing::Test {
 protected:
  void TearDown() override {
    ember::set_gemm_isa(ember::cpu_isa());
    ember::detail::gemm_blocking_override() = nullptr;
    ember::set_num_threads(2);
  }
};

const Case kEdgeCases[] = {{1, 1, 1},    {2, 3, 4},     {13, 17, 19}, {14, 32, 7},
                           {15, 33, 1},  {28, 64, 64},  {29, 65, 31}, {1, 97, 300},
                           {97, 1, 256}, {47, 31, 385}, {64, 64, 64}, {130, 70, 50}};

}  // namespace

TEST_F(Gemm, EveryIsaEveryTransposeAgainstDoubleReference) {
  ember::Generator g(1);
  for (ember::Isa isa : supported_isas()) {
    ember::set_gemm_isa(isa);
    for (const Case& c : kEdgeCases)
      for (bool ta : {false, true})
        for (bool tb : {false, true}) check_float_case(c, ta, tb, 1.0f, 0.0f, g, "plain");
  }
}

TEST_F(Gemm, AlphaBetaIncludingBetaZeroIgnoresNanInC) {
  ember::Generator g(2);
  for (ember::Isa isa : supported_isas()) {
    ember::set_gemm_isa(isa);
    for (auto [alpha, beta] :
         {std::pair{1.0f, 0.0f}, {2.5f, 0.0f}, {-1.0f, 1.0f}, {0.5f, -2.0f}, {0.0f, 3.0f}}) {
      check_float_case({17, 35, 29}, false, false, alpha, beta, g, "alpha-beta");
      check_float_case({33, 16, 3}, true, false, alpha, beta, g, "alpha-beta");
    }
  }
}

TEST_F(Gemm, TinyCacheBlocksReachEveryEdgePath) {
  ember::Generator g(3);
  for (ember::Isa isa : supported_isas()) {
    ember::set_gemm_isa(isa);
    const auto& kern = ember::detail::kernel_table(isa);
    // MC = 2 tiles, KC = 5 (so beta is applied on the first of many k blocks), NC = 2 tiles.
    ember::GemmBlocking tiny{kern.blocking.mr, kern.blocking.nr, 2 * kern.blocking.mr, 5,
                             2 * kern.blocking.nr};
    ember::detail::gemm_blocking_override() = &tiny;
    for (const Case& c :
         {Case{37, 71, 23}, Case{5 * kern.blocking.mr + 1, 3 * kern.blocking.nr - 1, 11}})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) check_float_case(c, ta, tb, 1.5f, 0.5f, g, "tiny blocks");
  }
}

TEST_F(Gemm, RandomShapesOneAndTwoThreads) {
  ember::Generator g(4);
  const std::int64_t sizes[] = {0, 1, 2, 3, 5, 7, 13, 16, 31, 32, 33, 64, 97, 127, 128, 251, 300};
  for (int threads : {1, 2}) {
    ember::set_num_threads(threads);
    for (int t = 0; t < 30; ++t) {
      Case c{sizes[g.next_below(17)], sizes[g.next_below(17)], sizes[g.next_below(17)]};
      check_float_case(c, g.next_below(2) == 1, g.next_below(2) == 1, 1.0f, 0.0f, g, "random");
    }
    // Large enough to take the multi-threaded path with several MC and KC blocks.
    check_float_case({300, 290, 400}, false, false, 1.0f, 0.0f, g, "threaded");
    check_float_case({600, 70, 500}, true, true, 0.5f, 1.0f, g, "threaded");
  }
}

TEST_F(Gemm, TwoThreadsEverySplitAndPackingPlan) {
  // Each shape is above the parallel threshold and picks a different path: A in place and a
  // split by A (1500×64×64), B in place with a partial edge sliver packed per thread
  // (33×40×1000, 100×200×600), both packed with a split by B (128³), transposed operands
  // (always packed), and tiny blocks so several jc/pc/ic blocks pass the barriers.
  ember::Generator g(13);
  ember::set_num_threads(2);
  for (ember::Isa isa : supported_isas()) {
    ember::set_gemm_isa(isa);
    for (const Case& c : {Case{1500, 64, 64}, Case{33, 1000, 40}, Case{100, 600, 200},
                          Case{128, 128, 128}, Case{257, 129, 97}})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) check_float_case(c, ta, tb, 1.0f, 0.5f, g, "two threads");
    const auto& kern = ember::detail::kernel_table(isa);
    ember::GemmBlocking tiny{kern.blocking.mr, kern.blocking.nr, 3 * kern.blocking.mr, 7,
                             3 * kern.blocking.nr};
    ember::detail::gemm_blocking_override() = &tiny;
    check_float_case({211, 223, 61}, false, false, 1.0f, 0.0f, g, "two threads, tiny blocks");
    check_float_case({211, 223, 61}, true, true, 1.0f, 2.0f, g, "two threads, tiny blocks");
    ember::detail::gemm_blocking_override() = nullptr;
  }
}

TEST_F(Gemm, AgreesWithEigen) {
  ember::Generator g(5);
  for (auto [m, n, k] : {std::tuple{64L, 64L, 64L}, {128L, 768L, 96L}, {255L, 129L, 257L}}) {
    auto a = ember::randn({m, k}, g), b = ember::randn({k, n}, g);
    auto c = ember::matmul(a, b);
    Eigen::MatrixXf ref = ember::as_eigen(a) * ember::as_eigen(b);
    const double tol = static_cast<double>(k + 4) * std::ldexp(1.0, -24);
    for (std::int64_t i = 0; i < m; i += 7)
      for (std::int64_t j = 0; j < n; j += 5) {
        double mag = 0;
        for (std::int64_t p = 0; p < k; ++p) mag += std::fabs(a.at(i, p) * b.at(p, j));
        ASSERT_NEAR(c.at(i, j), ref(i, j), 2 * tol * mag);
      }
  }
}

TEST_F(Gemm, BlasConventionAllLayoutsAndTransposes) {
  ember::Generator g(6);
  const std::int64_t m = 7, n = 5, k = 6;
  for (ember::Layout layout : {ember::Layout::RowMajor, ember::Layout::ColMajor})
    for (ember::Trans ta : {ember::Trans::No, ember::Trans::Yes})
      for (ember::Trans tb : {ember::Trans::No, ember::Trans::Yes}) {
        const bool row = layout == ember::Layout::RowMajor;
        // Stored shapes (before op) with a padded leading dimension.
        std::int64_t ar = ta == ember::Trans::No ? m : k, ac = ta == ember::Trans::No ? k : m;
        std::int64_t br = tb == ember::Trans::No ? k : n, bc = tb == ember::Trans::No ? n : k;
        std::int64_t lda = (row ? ac : ar) + 2, ldb = (row ? bc : br) + 1, ldc = (row ? n : m) + 3;
        auto a = ember::randn<double>({(row ? ar : ac) * lda}, g);
        auto b = ember::randn<double>({(row ? br : bc) * ldb}, g);
        auto c = ember::zeros<double>({(row ? m : n) * ldc});
        ember::gemm(layout, ta, tb, m, n, k, 1.0, a.data(), lda, b.data(), ldb, 0.0, c.data(), ldc);
        auto A = [&](std::int64_t i, std::int64_t p) {  // op(A)(i,p)
          std::int64_t r = ta == ember::Trans::No ? i : p, q = ta == ember::Trans::No ? p : i;
          return a.data()[row ? r * lda + q : q * lda + r];
        };
        auto B = [&](std::int64_t p, std::int64_t j) {
          std::int64_t r = tb == ember::Trans::No ? p : j, q = tb == ember::Trans::No ? j : p;
          return b.data()[row ? r * ldb + q : q * ldb + r];
        };
        for (std::int64_t i = 0; i < m; ++i)
          for (std::int64_t j = 0; j < n; ++j) {
            double s = 0;
            for (std::int64_t p = 0; p < k; ++p) s += A(i, p) * B(p, j);
            EXPECT_NEAR(c.data()[row ? i * ldc + j : j * ldc + i], s, 1e-13);
          }
      }
}

TEST_F(Gemm, BlasLeadingDimensionErrors) {
  std::vector<float> a(100), b(100), c(100);
  EXPECT_EMBER_ERROR(ember::gemm(ember::Layout::RowMajor, ember::Trans::No, ember::Trans::No, 4L,
                                 5L, 6L, 1.0f, a.data(), 5L, b.data(), 5L, 0.0f, c.data(), 5L),
                     "gemm: lda=5 is smaller than 6 (a 4x6 row-major matrix)");
  EXPECT_EMBER_ERROR(ember::gemm(ember::Layout::ColMajor, ember::Trans::No, ember::Trans::Yes, 4L,
                                 5L, 6L, 1.0f, a.data(), 4L, b.data(), 4L, 0.0f, c.data(), 4L),
                     "gemm: ldb=4 is smaller than 5 (a 5x6 column-major matrix)");
}

TEST_F(Gemm, TensorGemmOnStridedAndOffsetViews) {
  ember::Generator g(7);
  auto big_a = ember::randn<double>({20, 30}, g);
  auto big_b = ember::randn<double>({25, 40}, g);
  auto a = big_a.slice(0, 2, 18, 2).slice(1, 3, 14);  // [8,11], row stride 60, offset
  auto b = big_b.slice(1, 1, 40, 3).slice(0, 0, 11);  // [11,13], column stride 3
  auto c_big = ember::ones<double>({10, 30});
  auto c = c_big.slice(1, 2, 28, 2);  // [10,13] strided output
  c = c.slice(0, 1, 9);               // [8,13]
  ember::gemm(2.0, a, b, -1.0, c);
  for (std::int64_t i = 0; i < 8; ++i)
    for (std::int64_t j = 0; j < 13; ++j) {
      double s = 0;
      for (std::int64_t p = 0; p < 11; ++p) s += a.at(i, p) * b.at(p, j);
      EXPECT_NEAR(c.at(i, j), 2.0 * s - 1.0, 1e-12);
    }
  EXPECT_EQ(c_big.at(0, 2), 1.0);  // outside the view: untouched
  EXPECT_EQ(c_big.at(1, 3), 1.0);
}

TEST_F(Gemm, TensorGemmErrors) {
  auto a = ember::zeros({2, 3}), b = ember::zeros({3, 4}), c = ember::zeros({2, 4});
  EXPECT_EMBER_ERROR(ember::gemm(1.0f, a, a, 0.0f, c),
                     "gemm: shapes [2,3] · [2,3] do not give [2,4]");
  EXPECT_EMBER_ERROR(ember::gemm(1.0f, a, b, 0.0f, ember::zeros({4})), "gemm: expects 2-D tensors");
  auto s = ember::zeros({3, 3});
  EXPECT_EMBER_ERROR(ember::gemm(1.0f, s, s, 0.0f, s), "must not share memory");
  EXPECT_EMBER_ERROR(ember::gemm(1.0f, a, b, 0.0f, ember::zeros({1, 4}).expand({2, 4})),
                     "cannot write in place");
}

TEST_F(Gemm, DoubleAndIntegerTakeThePortablePath) {
  ember::Generator g(8);
  auto a = ember::randint<std::int64_t>(-5, 6, {23, 19}, g);
  auto b = ember::randint<std::int64_t>(-5, 6, {19, 31}, g);
  auto c = ember::matmul(a, b);
  for (std::int64_t i = 0; i < 23; ++i)
    for (std::int64_t j = 0; j < 31; ++j) {
      std::int64_t s = 0;
      for (std::int64_t p = 0; p < 19; ++p) s += a.at(i, p) * b.at(p, j);
      ASSERT_EQ(c.at(i, j), s);  // integers: exact
    }
  auto ai = a.to<int>(), bi = b.to<int>();
  EXPECT_TRUE(ember::equal(ember::matmul(ai, bi), c.to<int>()));
}

TEST_F(Gemm, ZeroSizesAndKZeroScaleC) {
  auto c = ember::full<float>({3, 4}, 2.0f);
  ember::gemm(1.0f, ember::zeros({3, 0}), ember::zeros({0, 4}), 0.5f, c);
  EXPECT_EQ(values(c), std::vector<float>(12, 1.0f));  // k = 0: C = beta·C
  ember::gemm(1.0f, ember::zeros({3, 0}), ember::zeros({0, 4}), 0.0f, c);
  EXPECT_EQ(values(c), std::vector<float>(12, 0.0f));
  EXPECT_EQ(ember::matmul(ember::zeros({0, 5}), ember::zeros({5, 3})).shape(),
            (ember::Shape{0, 3}));
  auto nan_c = ember::full<float>({2, 2}, NAN);
  ember::gemm(0.0f, ember::ones({2, 2}), ember::ones({2, 2}), 0.0f, nan_c);  // alpha = beta = 0
  EXPECT_EQ(values(nan_c), std::vector<float>(4, 0.0f));
}

TEST_F(Gemm, KernelNameAndIsaOverride) {
  ember::set_gemm_isa(ember::Isa::Generic);
  EXPECT_EQ(ember::gemm_kernel_name(), "ukernel_ref_f32_8x8");
  EXPECT_EQ(ember::gemm_isa(), ember::Isa::Generic);
  if (ember::cpu_isa() >= ember::Isa::Avx512) {
    ember::set_gemm_isa(ember::Isa::Avx512);
    EXPECT_EQ(ember::gemm_kernel_name(), "ukernel_avx512_f32_14x32");
  } else {
    EXPECT_EMBER_ERROR(ember::set_gemm_isa(ember::Isa::Avx512),
                       "set_gemm_isa: ISA avx512 is not supported");
  }
}

TEST_F(Gemm, BatchedWithExpandedOperand) {
  ember::Generator g(9);
  auto a = ember::randn<double>({4, 5, 6}, g);
  auto w = ember::randn<double>({6, 3}, g);
  auto c = ember::zeros<double>({4, 5, 3});
  ember::gemm_batched(1.0, a, w.unsqueeze(0).expand({4, 6, 3}), 0.0, c);
  for (std::int64_t bi = 0; bi < 4; ++bi) {
    auto ref = ember::matmul(a[bi], w);
    EXPECT_TRUE(ember::allclose(c[bi], ref, 1e-13, 1e-13));
  }
  EXPECT_EMBER_ERROR(ember::gemm_batched(1.0, a, w.unsqueeze(0), 0.0, c), "gemm_batched: shapes");
}

TEST(Matmul, PytorchSemantics) {
  Tensor<double> v{1, 2, 3};
  Tensor<double> m{{1, 0}, {0, 1}, {1, 1}};  // [3,2]
  auto dot = ember::matmul(v, v);
  EXPECT_EQ(dot.dim(), 0);
  EXPECT_EQ(dot.item(), 14.0);
  auto vm = ember::matmul(v, m);  // [3]·[3,2] → [2]
  EXPECT_EQ(vm.shape(), (ember::Shape{2}));
  EXPECT_EQ(values(vm), (std::vector<double>{4, 5}));
  auto mv = ember::matmul(m.t(), v);  // [2,3]·[3] → [2]
  EXPECT_EQ(values(mv), (std::vector<double>{4, 5}));
  // Batch dims broadcast: [2,1,4,3]·[5,3,2] → [2,5,4,2].
  ember::Generator g(10);
  auto a = ember::randn<double>({2, 1, 4, 3}, g);
  auto b = ember::randn<double>({5, 3, 2}, g);
  auto c = ember::matmul(a, b);
  ASSERT_EQ(c.shape(), (ember::Shape{2, 5, 4, 2}));
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t j = 0; j < 5; ++j)
      EXPECT_TRUE(ember::allclose(c[i][j], ember::matmul(a[i][0], b[j]), 1e-14, 1e-14));
  auto bv = ember::matmul(a, v);  // [2,1,4,3]·[3] → [2,1,4]
  EXPECT_EQ(bv.shape(), (ember::Shape{2, 1, 4}));
  EXPECT_NEAR(bv.at(1, 0, 2), a.at(1, 0, 2, 0) + 2 * a.at(1, 0, 2, 1) + 3 * a.at(1, 0, 2, 2),
              1e-14);
}

TEST(Matmul, ShapeErrors) {
  EXPECT_EMBER_ERROR(ember::matmul(ember::zeros({2, 3}), ember::zeros({4, 5})),
                     "matmul: shapes [2,3] and [4,5] cannot be multiplied (3 != 4)");
  EXPECT_EMBER_ERROR(ember::matmul(ember::zeros({2, 2, 3}), ember::zeros({3, 3, 2})),
                     "matmul: cannot broadcast [2] with [3]");
  EXPECT_EMBER_ERROR(ember::matmul(ember::scalar_tensor(1.0f), ember::zeros({2})),
                     "matmul: both operands need at least 1 dim");
}

TEST(Linear, MatchesMatmulPlusBias) {
  ember::Generator g(11);
  auto x = ember::randn<double>({2, 3, 5}, g);
  auto w = ember::randn<double>({4, 5}, g);
  auto bias = ember::randn<double>({4}, g);
  auto y = ember::linear(x, w, bias);
  ASSERT_EQ(y.shape(), (ember::Shape{2, 3, 4}));
  auto ref = ember::matmul(x, w.t()) + bias;
  EXPECT_TRUE(ember::allclose(y, ref, 1e-14, 1e-14));
  EXPECT_TRUE(ember::allclose(ember::linear(x, w), ember::matmul(x, w.t()), 1e-14, 1e-14));
  EXPECT_EMBER_ERROR(ember::linear(x, w.t()),
                     "linear: x [2,3,5] and weight [5,4] disagree on in_features (5 != 4)");
  EXPECT_EMBER_ERROR(ember::linear(x, w, Tensor<double>{1, 2}),
                     "linear: bias [2] does not match out_features 4");
}

#if EMBER_GEMM_X86
// The AVX packing routine writes exactly what the generic pack_a writes, for every layout, sliver
// height and depth remainder, and nothing past the block (a guard zone stays untouched).
TEST(GemmPack, AvxPackMatchesGenericPackByteForByte) {
  if (ember::cpu_isa() < ember::Isa::Avx2) GTEST_SKIP() << "no AVX2 on this CPU";
  ember::Generator g(11);
  for (std::int64_t mr : {6L, 8L, 14L, 16L, 32L})
    for (std::int64_t mc : {std::int64_t{1}, 3L, 4L, 5L, 7L, 8L, 9L, 13L, mr, mr + 1, 2 * mr + 3})
      for (std::int64_t kc : {1L, 3L, 4L, 7L, 8L, 9L, 17L})
        for (bool row_major : {true, false})
          for (std::int64_t pad : {0L, 5L}) {
            // Source mc×kc with leading dimension (row or column) plus `pad`.
            const std::int64_t ld = (row_major ? kc : mc) + pad;
            std::vector<float> src(static_cast<std::size_t>((row_major ? mc : kc) * ld));
            for (auto& x : src) x = g.next_float();
            const std::int64_t rs = row_major ? ld : 1, cs = row_major ? 1 : ld;
            const std::int64_t slivers = (mc + mr - 1) / mr, size = slivers * mr * kc;
            std::vector<float> want(static_cast<std::size_t>(size + 16), -7.0f), got = want;
            ember::detail::pack_a<float>(mc, kc, src.data(), rs, cs, mr, want.data());
            ember::detail::avx2::pack_f32(mc, kc, src.data(), rs, cs, mr, got.data());
            ASSERT_EQ(want, got) << "mr=" << mr << " mc=" << mc << " kc=" << kc
                                 << (row_major ? " row-major" : " column-major") << " pad=" << pad;
          }
}

// The same routine rounding to bf16 on the way (the "+bf16in" rows of the mixed GEMM): every
// element equals ember::bfloat16's rounding bit for bit — ties to even, NaN quiet with its sign,
// infinities, the largest floats rounding to infinity, subnormals not flushed — in every layout.
TEST(GemmPack, AvxBf16RoundingPackMatchesTheScalarConversionBitForBit) {
  if (ember::cpu_isa() < ember::Isa::Avx2) GTEST_SKIP() << "no AVX2 on this CPU";
  const std::uint32_t specials[] = {
      0x3f808000u,  // 1 + 2^-8: a tie, to the even 1.0
      0x3f818000u,  // 1 + 3·2^-8: a tie, to the even 1 + 2^-6
      0xbf808000u, 0xbf818000u, 0x3f808001u, 0x3f807fffu,
      0x7f800001u,  // signalling NaN → quiet
      0xffa00000u, 0x7fc00000u, 0x7f800000u, 0xff800000u,
      0x7f7fffffu,  // FLT_MAX → +inf
      0xff7fffffu, 0x00008000u, 0x00018000u, 0x00000001u, 0x80000000u, 0x00000000u};
  auto bits = [](const std::vector<float>& v) {
    std::vector<std::uint32_t> out(v.size());
    std::memcpy(out.data(), v.data(), v.size() * sizeof(float));
    return out;
  };
  ember::Generator g(12);
  for (std::int64_t mr : {6L, 14L, 16L, 32L})
    for (std::int64_t mc : {std::int64_t{1}, 3L, 4L, 7L, 8L, 9L, mr, mr + 1, 2 * mr + 3})
      for (std::int64_t kc : {1L, 3L, 4L, 8L, 9L, 17L})
        for (int layout : {0, 1, 2}) {  // row-major, column-major, neither stride 1
          const std::int64_t rows_src = layout == 1 ? kc : mc, cols_src = layout == 1 ? mc : kc;
          const std::int64_t ld = cols_src + 3;
          std::vector<float> src(static_cast<std::size_t>(rows_src * ld * (layout == 2 ? 2 : 1)));
          for (std::size_t i = 0; i < src.size(); ++i) {
            if (g.next_u32() % 4 == 0) {
              const std::uint32_t u = specials[g.next_u32() % std::size(specials)];
              std::memcpy(&src[i], &u, sizeof u);
            } else {
              src[i] = (g.next_float() - 0.5f) * 8.0f;
            }
          }
          const std::int64_t rs = layout == 0 ? ld : layout == 1 ? 1 : 2 * ld,
                             cs = layout == 0 ? 1 : layout == 1 ? ld : 2;
          std::vector<float> rounded = src;
          for (float& x : rounded) x = static_cast<float>(ember::bfloat16(x));
          const std::int64_t size = (mc + mr - 1) / mr * mr * kc;
          std::vector<float> want(static_cast<std::size_t>(size + 16), -7.0f), got = want;
          ember::detail::pack_a<float>(mc, kc, rounded.data(), rs, cs, mr, want.data());
          ember::detail::avx2::pack_f32<ember::detail::avx2::RoundBf16F32>(mc, kc, src.data(), rs,
                                                                            cs, mr, got.data());
          ASSERT_EQ(bits(want), bits(got)) << "mr=" << mr << " mc=" << mc << " kc=" << kc
                                           << " layout=" << layout;
        }
}
#endif

// Runs f(where) on every ISA's kernels, with default and tiny blocks (many depth blocks, edge
// tiles), on 1 and 2 threads: every path an epilogue is applied on.
template <class F>
void for_each_epilogue_path(F f) {
  for (ember::Isa isa : supported_isas()) {
    ember::set_gemm_isa(isa);
    const auto& kern = ember::detail::kernel_table(isa);
    ember::GemmBlocking tiny{kern.blocking.mr, kern.blocking.nr, 2 * kern.blocking.mr, 5,
                             2 * kern.blocking.nr};
    for (bool small_blocks : {false, true}) {
      ember::detail::gemm_blocking_override() = small_blocks ? &tiny : nullptr;
      for (int threads : {1, 2}) {
        ember::set_num_threads(threads);
        f(std::string(ember::gemm_kernel_name()) + (small_blocks ? " tiny blocks" : "") + " t" +
          std::to_string(threads));
      }
    }
  }
  ember::detail::gemm_blocking_override() = nullptr;
}

// The bias epilogue: added once per element (after the last depth block, with many blocks), on
// every ISA's kernels, edge tiles included, in fp32 and under bf16 matrix products, on 1 and 2
// threads; an empty input adds the bias alone.
TEST_F(Gemm, LinearBiasEpilogueOnEveryPath) {
  ember::Generator g(12);
  const auto x = ember::randn<float>({2, 37, 23}, g);
  const auto w = ember::randn<float>({45, 23}, g);
  const auto bias = ember::randn<float>({45}, g);
  const auto ref = (ember::matmul(x.to<double>(), w.to<double>().t()) + bias.to<double>());
  for_each_epilogue_path([&](const std::string& where) {
    EXPECT_TRUE(ember::allclose(ember::linear(x, w, bias).to<double>(), ref, 1e-5, 1e-5)) << where;
    ember::MatmulPrecisionGuard bf16(ember::Precision::bf16);
    EXPECT_TRUE(ember::allclose(ember::linear(x, w, bias).to<double>(), ref, 0.05, 0.05))
        << "bf16 " << where;
  });
  const auto none = ember::zeros<float>({3, 0});
  const auto w0 = ember::zeros<float>({4, 0});
  const auto b4 = Tensor<float>{1, 2, 3, 4};
  EXPECT_TRUE(ember::equal(ember::linear(none, w0, b4), b4.unsqueeze(0).expand({3, 4}).contiguous()));
}

// The GELU and residual epilogues against the separate ops in double: y = gelu(x·wᵀ + b) + r
// with pre = x·wᵀ + b kept, on every ISA's kernels, tiny blocks (many depth blocks, edge
// tiles), 1 and 2 threads, fp32 and bf16 matrix products, and bfloat16 tensors. 301 outputs:
// more than the 8 micro-tiles that share one epilogue call (driver.hpp, kEpilogueSlivers) on
// every ISA, with a partial strip and a partial tile after them.
TEST_F(Gemm, LinearGeluAndResidualEpiloguesOnEveryPath) {
  ember::Generator g(13);
  const auto x = ember::randn<float>({3, 29, 23}, g);
  const auto w = ember::randn<float>({301, 23}, g) * 0.3f;
  const auto bias = ember::randn<float>({301}, g);
  const auto res = ember::randn<float>({3, 29, 301}, g);
  const auto pre_ref = ember::matmul(x.to<double>(), w.to<double>().t()) + bias.to<double>();
  const auto y_ref = ember::gelu(pre_ref) + res.to<double>();
  auto check = [&](double tol, const std::string& where) {
    ember::LinearEpilogue<float> fused{.gelu = true, .pre_gelu = ember::empty<float>({3, 29, 301}),
                                       .residual = res};
    const auto y = ember::linear(x, w, bias, fused);
    EXPECT_TRUE(ember::allclose(fused.pre_gelu.to<double>(), pre_ref, tol, tol)) << where;
    EXPECT_TRUE(ember::allclose(y.to<double>(), y_ref, tol, tol)) << where;
    // Each alone, and GELU without keeping its input.
    EXPECT_TRUE(ember::allclose(ember::linear(x, w, bias, {.gelu = true}).to<double>(),
                                ember::gelu(pre_ref), tol, tol)) << where;
    EXPECT_TRUE(ember::allclose(ember::linear(x, w, Tensor<float>(), {.residual = res}).to<double>(),
                                pre_ref - bias.to<double>() + res.to<double>(), tol, tol)) << where;
  };
  for_each_epilogue_path([&](const std::string& where) {
    check(1e-5, where);
    ember::MatmulPrecisionGuard bf16(ember::Precision::bf16);
    check(0.05, "bf16 " + where);
  });
  // bfloat16 tensors: the GELU computed in float on the rounded pre-activation.
  const auto xb = x.to<ember::bfloat16>(), wb = w.to<ember::bfloat16>();
  const auto bb = bias.to<ember::bfloat16>(), rb = res.to<ember::bfloat16>();
  const auto yb = ember::linear(xb, wb, bb, {.gelu = true, .residual = rb});
  const auto pre_b = ember::matmul(xb.to<double>(), wb.to<double>().t()) + bb.to<double>();
  EXPECT_TRUE(ember::allclose(yb.to<double>(), ember::gelu(pre_b) + rb.to<double>(), 0.05, 0.05));
  // Refusals name the op and the shapes.
  EXPECT_EMBER_ERROR(ember::linear(x, w, bias, {.residual = ember::zeros<float>({3, 29, 300})}),
                     "linear: residual [3,29,300] must have the output's shape [3,29,301]");
  EXPECT_EMBER_ERROR(ember::linear(x, w, bias, {.pre_gelu = ember::empty<float>({3, 29, 301})}),
                     "linear: pre_gelu is given without gelu");
  EXPECT_EMBER_ERROR(
      ember::linear(x, w, bias, {.gelu = true, .pre_gelu = ember::empty<float>({29, 3, 301}).transpose(0, 1)}),
      "pre_gelu must be contiguous with the output's shape [3,29,301], got [3,29,301] (not contiguous)");
  const auto xi = ember::ones<std::int32_t>({2, 3}), wi = ember::ones<std::int32_t>({4, 3});
  EXPECT_EMBER_ERROR(ember::linear(xi, wi, Tensor<std::int32_t>(), {.gelu = true}),
                     "linear: a GELU epilogue needs a floating-point type, got int32");
  EXPECT_TRUE(ember::equal(ember::linear(xi, wi, Tensor<std::int32_t>(), {.residual = ember::ones<std::int32_t>({2, 4})}),
                           ember::full<std::int32_t>({2, 4}, 4)));  // 3 + 1
}
