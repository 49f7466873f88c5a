#include <cmath>
#include <limits>

#include "../test_util.hpp"

using ember::bfloat16;

TEST(DType, NamesAndSizes) {
  EXPECT_EQ(ember::dtype_name(ember::dtype_of<float>), "float32");
  EXPECT_EQ(ember::dtype_name(ember::dtype_of<double>), "float64");
  EXPECT_EQ(ember::dtype_name(ember::dtype_of<std::int32_t>), "int32");
  EXPECT_EQ(ember::dtype_name(ember::dtype_of<std::int64_t>), "int64");
  EXPECT_EQ(ember::dtype_name(ember::dtype_of<bool>), "bool");
  EXPECT_EQ(ember::dtype_name(ember::dtype_of<bfloat16>), "bfloat16");
  EXPECT_EQ(ember::dtype_size(ember::DType::BFloat16), 2);
  EXPECT_EQ(ember::dtype_size(ember::DType::Float64), 8);
}

TEST(BFloat16, ExactValuesRoundTrip) {
  for (float f : {0.0f, 1.0f, -2.0f, 0.5f, 256.0f, -0.0078125f}) {
    EXPECT_EQ(static_cast<float>(bfloat16(f)), f);
  }
}

TEST(BFloat16, RoundsToNearestEven) {
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(static_cast<float>(bfloat16(1.0f + 0x1.0p-8f)), 1.0f);
  // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6 (even).
  EXPECT_EQ(static_cast<float>(bfloat16(1.0f + 3 * 0x1.0p-8f)), 1.0f + 0x1.0p-6f);
  // Just above the halfway point rounds up.
  EXPECT_EQ(static_cast<float>(bfloat16(1.0f + 0x1.0p-8f + 0x1.0p-20f)), 1.0f + 0x1.0p-7f);
  EXPECT_EQ(bfloat16(3.14159265f).bits, 0x4049);  // 3.140625
}

TEST(BFloat16, SpecialValues) {
  EXPECT_TRUE(std::isnan(static_cast<float>(bfloat16(std::numeric_limits<float>::quiet_NaN()))));
  // A NaN whose payload lives only in the low 16 bits must not round to infinity.
  float low_nan = std::bit_cast<float>(0x7f800001u);
  EXPECT_TRUE(std::isnan(static_cast<float>(bfloat16(low_nan))));
  EXPECT_EQ(static_cast<float>(bfloat16(INFINITY)), INFINITY);
  EXPECT_EQ(static_cast<float>(bfloat16(-INFINITY)), -INFINITY);
  // The largest float rounds up to infinity in bfloat16, as IEEE rounding requires.
  EXPECT_EQ(static_cast<float>(bfloat16(std::numeric_limits<float>::max())), INFINITY);
}

TEST(DType, ConceptsClassifyTypes) {
  static_assert(ember::Scalar<float> && ember::Scalar<bool> && !ember::Scalar<char>);
  static_assert(ember::Numeric<int> == ember::Numeric<std::int32_t>);
  static_assert(!ember::Numeric<bool>);
  static_assert(ember::FloatingScalar<bfloat16> && !ember::FloatingScalar<std::int64_t>);
  static_assert(std::is_same_v<ember::compute_t<bfloat16>, float>);
  SUCCEED();
}
