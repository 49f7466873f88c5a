// Pre-packed B (kernels/gemm/packed.hpp): for every fp32 kernel and every int8 and bf16 kernel
// row this CPU can run (and the AMX layout in portable code), a product with B packed once
// equals, bit for bit, the product that packs B on the call (or reads it in place) — itself checked against exact and double references in
// test_gemm_mixed.cpp — and, for int8, the exact int64 sum. Shapes miss every tile, k-group and
// depth block (one, two and three blocks; tiny blocks), with transposed and strided operands,
// alpha/beta, 1 and 2 threads.
#include <cmath>
#include <cstring>
#include <limits>

#include "../test_util.hpp"
#include "gemm_rows.hpp"

namespace {

using ember::bfloat16;
using ember::PackedB;

struct Case {
  std::int64_t m, n, k;
  bool ta, tb;
  int threads;
};

// k from 1 to three depth blocks of the default blocking (kc 256–1024 by row), n across tiles.
const Case kCases[] = {{1, 1, 1, false, false, 1},     {3, 5, 2, true, false, 1},
                       {15, 33, 33, false, true, 2},   {33, 17, 65, true, true, 1},
                       {64, 96, 128, false, true, 2},  {7, 130, 3, false, false, 1},
                       {40, 70, 1100, false, true, 2}, {9, 45, 2100, true, false, 1},
                       {70, 50, 600, false, false, 2}};

class GemmPacked : public ::testing::Test {
 protected:
  void TearDown() override {
    ember::detail::gemm_blocking_override() = nullptr;
    ember::set_num_threads(2);
    ember::set_gemm_isa(ember::cpu_isa());
  }
};

template <class T>
bool same_bits(const std::vector<T>& x, const std::vector<T>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

// One case on one kernel (a mixed row, or for float an fp32 kernel): C with leading dimension
// n + 1 (its last column must stay untouched).
template <class TB, class Kernel>
void check(const Kernel& row, const Case& cs, typename PackedB<TB>::C alpha,
           typename PackedB<TB>::C beta, ember::Generator& g) {
  using TA = typename PackedB<TB>::A;
  using TC = typename PackedB<TB>::C;
  const auto [m, n, k, ta, tb, threads] = cs;
  ember::set_num_threads(threads);
  std::vector<TA> a(static_cast<std::size_t>(m * k));
  std::vector<TB> b(static_cast<std::size_t>(k * n));
  if constexpr (std::is_same_v<TB, std::int8_t>) {
    for (auto& x : a) x = static_cast<std::uint8_t>(g.next_u32() & 0xff);
    for (auto& x : b) x = static_cast<std::int8_t>(static_cast<int>(g.next_u32() & 0xff) - 128);
  } else {
    for (auto& x : a) x = TA(g.next_float() * 2 - 1);
    for (auto& x : b) x = TB(g.next_float() * 2 - 1);
  }
  const std::int64_t rs_a = ta ? 1 : k, ca = ta ? m : 1, rs_b = tb ? 1 : n, cb = tb ? k : 1;
  const std::int64_t ld = n + 1;
  std::vector<TC> c0(static_cast<std::size_t>(m * ld));
  for (auto& x : c0) {
    if constexpr (std::is_same_v<TC, float>)
      x = beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : g.next_float() - 0.5f;
    else
      x = static_cast<std::int32_t>(g.next_u32() % 2001) - 1000;
  }
  std::vector<TC> want = c0, got = c0;
  const int team = ember::detail::gemm_threads(m, n, k);
  if constexpr (std::is_same_v<Kernel, ember::detail::GemmKernelF32>)
    ember::detail::gemm_driver<float>(m, n, k, alpha, {a.data(), rs_a, ca}, {b.data(), rs_b, cb},
                                      beta, {want.data(), ld, 1},
                                      ember::detail::effective_blocking<float>(row.blocking),
                                      row.kernels, team);
  else
    ember::detail::gemm_mixed_with<TA, TB, TC>(row, m, n, k, alpha, {a.data(), rs_a, ca},
                                               {b.data(), rs_b, cb}, beta, {want.data(), ld, 1},
                                               team);
  const PackedB<TB> packed(row, k, n, b.data(), rs_b, cb);
  const std::vector<TB> packed_source = b;
  std::fill(b.begin(), b.end(), TB{});  // the packed copy no longer reads the source
  ember::gemm(m, alpha, a.data(), rs_a, ca, packed, beta, got.data(), ld, 1);
  ASSERT_TRUE(same_bits(got, want)) << row.name << " m=" << m << " n=" << n << " k=" << k
                                    << " ta=" << ta << " tb=" << tb << " threads=" << threads;
  for (std::int64_t i = 0; i < m; ++i)  // the column past the view: untouched
    ASSERT_TRUE(same_bits(std::vector<TC>{got[static_cast<std::size_t>(i * ld + n)]},
                          std::vector<TC>{c0[static_cast<std::size_t>(i * ld + n)]}));
  if constexpr (std::is_same_v<TC, std::int32_t>) {  // and the exact sums
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        std::int64_t s = 0;
        for (std::int64_t p = 0; p < k; ++p)
          s += std::int64_t{a[static_cast<std::size_t>(i * rs_a + p * ca)]} *
               packed_source[static_cast<std::size_t>(p * rs_b + j * cb)];
        const std::int64_t old = c0[static_cast<std::size_t>(i * ld + j)];
        ASSERT_EQ(got[static_cast<std::size_t>(i * ld + j)], alpha * s + (beta == 0 ? 0 : beta * old))
            << row.name << " at (" << i << "," << j << ")";
      }
  }
}

// Random u8 A (m×k) and s8 B (k×n), row-major.
struct U8S8 {
  std::vector<std::uint8_t> a;
  std::vector<std::int8_t> b;
};
U8S8 random_u8s8(std::int64_t m, std::int64_t n, std::int64_t k, ember::Generator& g) {
  U8S8 r{std::vector<std::uint8_t>(static_cast<std::size_t>(m * k)),
         std::vector<std::int8_t>(static_cast<std::size_t>(k * n))};
  for (auto& x : r.a) x = static_cast<std::uint8_t>(g.next_u32() & 0xff);
  for (auto& x : r.b) x = static_cast<std::int8_t>(static_cast<int>(g.next_u32() & 0xff) - 128);
  return r;
}

// The exact int64 result of one int8 product, for the checks that do not go through `check`.
std::vector<std::int32_t> exact_u8s8(std::int64_t m, std::int64_t n, std::int64_t k,
                                     const std::vector<std::uint8_t>& a,
                                     const std::vector<std::int8_t>& b) {
  std::vector<std::int32_t> c(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      std::int64_t s = 0;
      for (std::int64_t p = 0; p < k; ++p)
        s += std::int64_t{a[static_cast<std::size_t>(i * k + p)]} * b[static_cast<std::size_t>(p * n + j)];
      c[static_cast<std::size_t>(i * n + j)] = static_cast<std::int32_t>(s);
    }
  return c;
}

}  // namespace

TEST_F(GemmPacked, Int8EveryRowEqualsPackingOnTheCall) {
  ember::Generator g(41);
  for (const auto* row : runnable(ember::detail::u8s8_kernels())) {
    for (const Case& cs : kCases) check<std::int8_t>(*row, cs, 1, 0, g);
    check<std::int8_t>(*row, {70, 50, 130, false, true, 2}, 3, -2, g);
  }
}

TEST_F(GemmPacked, Bf16EveryRowEqualsPackingOnTheCall) {
  ember::Generator g(42);
  for (const auto* row : runnable(ember::detail::bf16_kernels<bfloat16>())) {
    for (const Case& cs : kCases) check<bfloat16>(*row, cs, 1.0f, 0.0f, g);
    check<bfloat16>(*row, {33, 40, 70, true, true, 2}, -0.5f, 0.25f, g);
  }
}

// fp32 B: every fp32 kernel level this CPU has (B read in place by the call where the driver
// would: small m, row-major B), and every bf16 row on fp32 operands rounded while packing.
TEST_F(GemmPacked, Fp32EveryKernelEqualsPackingOnTheCall) {
  ember::Generator g(46);
  for (ember::Isa isa : {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512}) {
    if (isa > ember::cpu_isa()) continue;
    const auto& kern = ember::detail::kernel_table(isa);
    for (const Case& cs : kCases) check<float>(kern, cs, 1.0f, 0.0f, g);
    check<float>(kern, {33, 40, 70, true, true, 2}, -0.5f, 0.25f, g);
  }
  for (const auto* row : runnable(ember::detail::bf16_kernels<float>())) {
    for (const Case& cs : kCases) check<float>(*row, cs, 1.0f, 0.0f, g);
    check<float>(*row, {33, 40, 70, false, true, 2}, 2.0f, 1.0f, g);
  }
}

// float packs for this thread's precision, and keeps it: a product under the other precision
// still runs the kernel it was packed for.
TEST_F(GemmPacked, Fp32FollowsThePrecisionAtPackingTime) {
  ember::Generator g(47);
  const std::int64_t m = 20, n = 50, k = 300;
  auto A = ember::uniform<float>({m, k}, -1, 1, g), B = ember::uniform<float>({k, n}, -1, 1, g);
  const PackedB<float> f32(k, n, B.data(), n, 1);
  EXPECT_EQ(std::string(f32.kernel_name()), ember::gemm_kernel_name());
  PackedB<float> bf16;
  std::string bf16_name;
  {
    ember::MatmulPrecisionGuard guard(ember::Precision::bf16);
    bf16 = PackedB<float>(k, n, B.data(), n, 1);
    bf16_name = ember::gemm_kernel_name(ember::DType::Float32);
  }
  EXPECT_EQ(std::string(bf16.kernel_name()), bf16_name);
  EXPECT_EQ(bf16.fp32_kernel(), nullptr);
  ember::Tensor<float> want32 = ember::zeros({m, n}), want16 = ember::zeros({m, n});
  ember::gemm(1.0f, A, B, 0.0f, want32);
  {
    ember::MatmulPrecisionGuard guard(ember::Precision::bf16);
    ember::gemm(1.0f, A, B, 0.0f, want16);
  }
  std::vector<float> got32(static_cast<std::size_t>(m * n)), got16(got32.size());
  {
    ember::MatmulPrecisionGuard guard(ember::Precision::bf16);  // ignored by the fp32 packing
    ember::gemm(m, 1.0f, A.data(), k, 1, f32, 0.0f, got32.data(), n, 1);
  }
  ember::gemm(m, 1.0f, A.data(), k, 1, bf16, 0.0f, got16.data(), n, 1);  // and by the bf16 one
  EXPECT_TRUE(same_bits(got32, values(want32)));
  EXPECT_TRUE(same_bits(got16, values(want16)));
  EXPECT_FALSE(same_bits(got32, got16));  // the two precisions really differ here
}

// Tiny cache blocks: many depth blocks (the last one short), panels of one or two slivers.
TEST_F(GemmPacked, TinyBlocksReachEverySplit) {
  ember::Generator g(43);
  ember::GemmBlocking tiny{1, 1, 40, 40, 40};
  ember::detail::gemm_blocking_override() = &tiny;
  for (const auto* row : runnable(ember::detail::u8s8_kernels()))
    check<std::int8_t>(*row, {90, 70, 150, false, true, 2}, 1, 1, g);
  for (const auto* row : runnable(ember::detail::bf16_kernels<bfloat16>()))
    check<bfloat16>(*row, {50, 90, 100, false, false, 2}, 1.0f, 0.5f, g);
  check<float>(ember::detail::kernel_table(ember::gemm_isa()), {50, 90, 100, false, false, 2},
               1.0f, 0.5f, g);
  check<float>(ember::detail::kernel_table(ember::gemm_isa()), {5, 90, 100, false, false, 1},
               1.0f, 0.0f, g);
}

// The public form: the kernel in force, its size, shared copies, and the exact answer.
TEST_F(GemmPacked, PublicEntryPoint) {
  ember::Generator g(44);
  const std::int64_t m = 21, n = 37, k = 75;
  const auto [a, b] = random_u8s8(m, n, k, g);
  const auto want = exact_u8s8(m, n, k, a, b);
  PackedB<std::int8_t> packed;
  {
    const PackedB<std::int8_t> original(k, n, b.data(), n, 1);
    packed = original;  // a copy shares the packed bytes and outlives the original
  }
  EXPECT_EQ(packed.rows(), k);
  EXPECT_EQ(packed.cols(), n);
  EXPECT_EQ(std::string(packed.kernel_name()), ember::gemm_kernel_name(ember::DType::Int8));
  const auto& row = packed.row();
  const std::int64_t n_pad = (n + row.nr - 1) / row.nr * row.nr;
  const std::int64_t k_pad = (k + row.kgroup - 1) / row.kgroup * row.kgroup;  // one depth block
  EXPECT_EQ(packed.bytes(), static_cast<std::size_t>(n_pad * k_pad * row.b_elem_bytes));
  std::vector<std::int32_t> c(static_cast<std::size_t>(m * n), 7);
  ember::gemm(m, 1, a.data(), k, 1, packed, 0, c.data(), n, 1);
  EXPECT_EQ(c, want);
  // beta = 1 adds; alpha scales.
  ember::gemm(m, 2, a.data(), k, 1, packed, 1, c.data(), n, 1);
  for (std::size_t i = 0; i < c.size(); ++i) ASSERT_EQ(c[i], 3 * want[i]) << i;

  // Empty shapes: m = 0 and n = 0 write nothing; k = 0 scales C by beta.
  ember::gemm(0, 1, a.data(), k, 1, packed, 0, c.data(), n, 1);
  const PackedB<std::int8_t> none;
  EXPECT_EQ(none.rows(), 0);
  EXPECT_EQ(none.bytes(), 0u);
  ember::gemm(m, 1, a.data(), 0, 1, none, 0, c.data(), n, 1);
  const PackedB<std::int8_t> k0(0, n, nullptr, n, 1);
  std::vector<std::int32_t> c2(static_cast<std::size_t>(m * n), 5);
  ember::gemm(m, 1, a.data(), 0, 1, k0, 3, c2.data(), n, 1);
  for (std::int32_t v : c2) ASSERT_EQ(v, 15);

  EXPECT_EMBER_ERROR(PackedB<std::int8_t>(-1, n, b.data(), n, 1), "PackedB: negative size k=-1");
  EXPECT_EMBER_ERROR(PackedB<std::int8_t>(k, n, nullptr, n, 1), "null source");
  EXPECT_EMBER_ERROR(ember::gemm(-2, 1, a.data(), k, 1, packed, 0, c.data(), n, 1),
                     "negative size m=-2 with a packed 75x37 B");
}

// A packed matrix keeps the row it was packed for when the level changes afterwards.
TEST_F(GemmPacked, KeepsItsKernelWhenTheLevelChanges) {
  ember::Generator g(45);
  const std::int64_t m = 30, n = 40, k = 90;
  const auto [a, b] = random_u8s8(m, n, k, g);
  const PackedB<std::int8_t> packed(k, n, b.data(), n, 1);
  const std::string name = packed.kernel_name();
  ember::set_gemm_isa(ember::Isa::Generic);
  EXPECT_EQ(ember::gemm_kernel_name(ember::DType::Int8), "ukernel_ref_s32_4x8");
  std::vector<std::int32_t> c(static_cast<std::size_t>(m * n));
  ember::gemm(m, 1, a.data(), k, 1, packed, 0, c.data(), n, 1);
  EXPECT_EQ(packed.kernel_name(), name);
  EXPECT_EQ(c, exact_u8s8(m, n, k, a, b));
}
