#include <cmath>
#include <limits>

#include <ember/kernels/math.hpp>

#include "../test_util.hpp"

namespace {
// Distance in units in the last place between two finite floats of the same sign.
std::int64_t ulp_distance(float a, float b) {
  auto key = [](float f) {
    std::int32_t i = std::bit_cast<std::int32_t>(f);
    return i < 0 ? std::int64_t{std::numeric_limits<std::int32_t>::min()} - i : std::int64_t{i};
  };
  return std::llabs(key(a) - key(b));
}
}  // namespace

TEST(Math, ExpFastWithinTwoUlpOverTheWholeRange) {
  // Every 97th float bit pattern between -104 and 89 (about 10 million inputs), against
  // exp computed in double and rounded once to float (the correctly rounded value, up to
  // double's own 0.5 ulp).
  std::int64_t worst = 0;
  float worst_x = 0;
  // Bit patterns grow with magnitude on each side of zero: [+0, 89) and [-0, -104).
  const std::pair<float, float> ranges[] = {{0.0f, 89.0f}, {-0.0f, -104.0f}};
  for (auto [from, to] : ranges) {
    std::uint32_t a = std::bit_cast<std::uint32_t>(from), b = std::bit_cast<std::uint32_t>(to);
    for (std::uint32_t u = a; u < b; u += 97) {
      float x = std::bit_cast<float>(u);
      float ref = static_cast<float>(std::exp(static_cast<double>(x)));
      float got = ember::detail::exp_fast(x);
      if (ref == 0.0f || std::isinf(ref)) {
        ASSERT_EQ(got, ref) << "x=" << x;
        continue;
      }
      // Denormal results carry fewer significant bits; compare them absolutely.
      if (ref < std::numeric_limits<float>::min()) {
        ASSERT_LE(std::fabs(got - ref), 2 * std::numeric_limits<float>::denorm_min()) << "x=" << x;
        continue;
      }
      std::int64_t d = ulp_distance(got, ref);
      if (d > worst) {
        worst = d;
        worst_x = x;
      }
    }
  }
  EXPECT_LE(worst, 2) << "worst at x=" << worst_x;
}

TEST(Math, ExpFastSpecialValues) {
  using ember::detail::exp_fast;
  EXPECT_EQ(exp_fast(0.0f), 1.0f);
  EXPECT_EQ(exp_fast(-0.0f), 1.0f);
  EXPECT_EQ(exp_fast(INFINITY), INFINITY);
  EXPECT_EQ(exp_fast(-INFINITY), 0.0f);
  EXPECT_EQ(exp_fast(88.8f), INFINITY);  // e^88.8 > FLT_MAX
  EXPECT_TRUE(std::isfinite(exp_fast(88.72f)));
  EXPECT_EQ(exp_fast(-200.0f), 0.0f);
  EXPECT_GT(exp_fast(-100.0f), 0.0f);  // a denormal, not flushed to zero
  EXPECT_TRUE(std::isnan(exp_fast(NAN)));
}
