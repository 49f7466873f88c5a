#include "../test_util.hpp"

using ember::Shape;
using ember::Tensor;

TEST(Index, CatAndStack) {
  Tensor<int> a{{1, 2}, {3, 4}};
  Tensor<int> b{{5, 6}};
  EXPECT_EQ(values(ember::cat<int>({a, b}, 0)), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(values(ember::cat<int>({a, a.t()}, 1)), (std::vector<int>{1, 2, 1, 3, 3, 4, 2, 4}));
  auto s = ember::stack<int>({a, a}, 1);
  EXPECT_EQ(s.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(s.at(1, 1, 0), 3);
  EXPECT_EMBER_ERROR(ember::cat<int>({a, b}, 1),
                     "cat: tensor 1 has shape [1,2], incompatible with [2,2] along axis 1");
  EXPECT_EMBER_ERROR(ember::stack<int>({a, b}), "stack: tensor 1 has shape [1,2], expected [2,2]");
  EXPECT_EMBER_ERROR(ember::cat<int>({}, 0), "cat: needs at least one tensor");
}

TEST(Index, IndexSelectAndIndexAdd) {
  auto x = ember::arange(12).reshape({3, 4});
  auto r = ember::index_select(x, 0, Tensor<std::int64_t>{2, 0, 2});
  EXPECT_EQ(values(r), (std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  auto c = ember::index_select(x, 1, Tensor<std::int64_t>{3});
  EXPECT_EQ(values(c), (std::vector<float>{3, 7, 11}));
  EXPECT_EMBER_ERROR(ember::index_select(x, 0, Tensor<std::int64_t>{3}),
                     "index_select: index 3 is out of range for dimension 0 of size 3");
  auto acc = ember::zeros({3, 2});
  ember::index_add_(acc, 0, Tensor<std::int64_t>{1, 1, 2}, ember::ones({3, 2}));
  EXPECT_EQ(values(acc), (std::vector<float>{0, 0, 2, 2, 1, 1}));
  EXPECT_EMBER_ERROR(ember::index_add_(acc, 0, Tensor<std::int64_t>{5}, ember::ones({1, 2})),
                     "index_add_: index 5");
}
