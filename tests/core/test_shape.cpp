#include "../test_util.hpp"

using ember::Shape;

TEST(Shape, BasicsAndPrinting) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.rank(), 3);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.to_string(), "[2,3,4]");
  EXPECT_EQ(Shape{}.to_string(), "[]");
  EXPECT_EQ(Shape{}.numel(), 1);
  EXPECT_EQ(Shape(5), (Shape{5}));
  EXPECT_NE((Shape{2, 3}), (Shape{3, 2}));
}

TEST(Shape, InsertErase) {
  Shape s{2, 3};
  s.insert(1, 7);
  EXPECT_EQ(s, (Shape{2, 7, 3}));
  s.erase(0);
  EXPECT_EQ(s, (Shape{7, 3}));
  s.push_back(1);
  EXPECT_EQ(s, (Shape{7, 3, 1}));
}

TEST(Shape, RankLimitRaises) {
  Shape s = Shape::filled(ember::kMaxRank, 1);
  EXPECT_EMBER_ERROR(s.push_back(1), "exceeds the maximum rank");
}

TEST(Shape, NormalizeAxis) {
  EXPECT_EQ(ember::normalize_axis(-1, 3, "op"), 2);
  EXPECT_EQ(ember::normalize_axis(0, 3, "op"), 0);
  EXPECT_EMBER_ERROR(ember::normalize_axis(3, 3, "sum"),
                     "sum: axis 3 is out of range for a tensor of rank 3");
  EXPECT_EMBER_ERROR(ember::normalize_axis(-4, 3, "sum"), "axis -4 is out of range");
}

TEST(Shape, CheckedNumelRejectsNegativeAndOverflow) {
  EXPECT_EQ(ember::checked_numel({2, 0, 5}, "zeros"), 0);
  EXPECT_EMBER_ERROR(ember::checked_numel({2, -1}, "zeros"),
                     "zeros: negative dimension -1 in shape [2,-1]");
  EXPECT_EMBER_ERROR(ember::checked_numel({1LL << 40, 1LL << 40}, "zeros"), "size overflow");
  // Fits in elements but not in bytes.
  EXPECT_EMBER_ERROR(ember::checked_numel({1LL << 62}, "zeros", 8), "size overflow");
}
