#include "../test_util.hpp"

using ember::Shape;

TEST(Broadcast, NumpyRules) {
  EXPECT_EQ(ember::broadcast_shapes({2, 3}, {3}), (Shape{2, 3}));
  EXPECT_EQ(ember::broadcast_shapes({2, 1}, {1, 3}), (Shape{2, 3}));
  EXPECT_EQ(ember::broadcast_shapes({5, 1, 4}, {3, 1}), (Shape{5, 3, 4}));
  EXPECT_EQ(ember::broadcast_shapes({}, {2, 2}), (Shape{2, 2}));
  EXPECT_EQ(ember::broadcast_shapes({}, {}), (Shape{}));
}

TEST(Broadcast, ZeroSizeDims) {
  // 0 pairs with 1 (result 0) and with 0, never with another size.
  EXPECT_EQ(ember::broadcast_shapes({0, 3}, {1, 3}), (Shape{0, 3}));
  EXPECT_EQ(ember::broadcast_shapes({0}, {1}), (Shape{0}));
  EXPECT_EQ(ember::broadcast_shapes({2, 0}, {0}), (Shape{2, 0}));
  EXPECT_EMBER_ERROR(ember::broadcast_shapes({0}, {2}, "add"),
                     "add: cannot broadcast [0] with [2]");
}

TEST(Broadcast, IncompatibleRaisesWithBothShapes) {
  EXPECT_EMBER_ERROR(ember::broadcast_shapes({2, 3}, {4, 3}, "add"),
                     "add: cannot broadcast [2,3] with [4,3]");
}

TEST(Broadcast, StridesAreZeroAlongBroadcastDims) {
  Shape target{4, 2, 3};
  auto st = ember::broadcast_strides({2, 1}, {1, 1}, target);
  EXPECT_EQ(st, (Shape{0, 1, 0}));
  EXPECT_TRUE(ember::broadcastable_to({3}, target));
  EXPECT_FALSE(ember::broadcastable_to({2}, target));
  EXPECT_FALSE(ember::broadcastable_to({1, 4, 2, 3}, {4, 2, 3}));
}
