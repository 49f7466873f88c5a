// Built into its own executable with EMBER_DEBUG defined: in a header-only library, compiling
// Tensor::operator() both with and without the macro into one program would break the
// one-definition rule.
#include "../test_util.hpp"

#ifndef EMBER_DEBUG
#error "this test must be compiled with EMBER_DEBUG"
#endif

TEST(DebugAccess, UncheckedAccessIsCheckedUnderEmberDebug) {
  auto a = ember::zeros({2, 3});
  a(1, 2) = 4.0f;
  EXPECT_EQ(a.at(1, 2), 4.0f);
  EXPECT_EMBER_ERROR(a(2, 0), "at: index 2 is out of bounds for dimension 0 with size 2 in [2,3]");
  EXPECT_EMBER_ERROR(a(0), "at: expected 2 indices for a tensor of shape [2,3], got 1");
}
