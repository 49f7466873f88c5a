#include <cmath>
#include <sstream>

#include "../test_util.hpp"

using ember::Tensor;

TEST(Print, MatchesNumpyStr) {
  EXPECT_EQ(ember::to_string(Tensor<float>{{1, 2}, {3, 4}}), "[[1. 2.]\n [3. 4.]]");
  EXPECT_EQ(ember::to_string(Tensor<int>{1, -20, 3}), "[  1 -20   3]");
  EXPECT_EQ(ember::to_string(Tensor<float>{0.5f, 0.25f}), "[0.5000 0.2500]");
  EXPECT_EQ(ember::to_string(Tensor<bool>{true, false}), "[ True False]");
  EXPECT_EQ(ember::to_string(ember::scalar_tensor(2.0)), "2.");
  EXPECT_EQ(ember::to_string(ember::zeros({0, 3})), "[]");
}

TEST(Print, ThreeDimsSeparateBlocksByBlankLine) {
  auto t = ember::arange<int>(8).reshape({2, 2, 2});
  EXPECT_EQ(ember::to_string(t), "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]");
}

TEST(Print, SpecialAndScientific) {
  EXPECT_EQ(ember::to_string(Tensor<double>{NAN, INFINITY, -INFINITY, 1.5}),
            "[   nan    inf   -inf 1.5000]");
  EXPECT_EQ(ember::to_string(Tensor<double>{1e-5, 1.0}), "[1.0000e-05 1.0000e+00]");
}

TEST(Print, LargeTensorsAreSummarised) {
  auto t = ember::arange<int>(2000);
  EXPECT_EQ(ember::to_string(t), "[   0    1    2 ... 1997 1998 1999]");
  auto m = ember::arange<int>(1100).reshape({100, 11});
  std::string s = ember::to_string(m);
  EXPECT_NE(s.find(" ...\n"), std::string::npos) << s;
  EXPECT_EQ(s.substr(0, 17), "[[   0    1    2 ");
  EXPECT_NE(s.find("1099]]"), std::string::npos);
}

TEST(Print, StreamOperatorAndViews) {
  std::ostringstream os;
  auto a = ember::arange(6).reshape({2, 3});
  os << a.t();
  EXPECT_EQ(os.str(), "[[0. 3.]\n [1. 4.]\n [2. 5.]]");
  std::ostringstream shape;
  shape << a.shape();
  EXPECT_EQ(shape.str(), "[2,3]");
}
