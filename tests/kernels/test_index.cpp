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

TEST(Index, GatherAndScatterAdd) {
  // torch.gather(x, 1, idx): out[i][j] = x[i][idx[i][j]].
  Tensor<float> x{{1, 2, 3}, {4, 5, 6}};
  Tensor<std::int64_t> idx{{2, 0}, {1, 1}};
  EXPECT_EQ(values(ember::gather(x, 1, idx)), (std::vector<float>{3, 1, 5, 5}));
  // Along axis 0 with an index smaller than x in the other dim: out[i][j] = x[idx[i][j]][j].
  EXPECT_EQ(values(ember::gather(x, 0, Tensor<std::int64_t>{{1, 0}})),
            (std::vector<float>{4, 2}));
  // On a transposed view (strides are honoured).
  EXPECT_EQ(values(ember::gather(x.t(), 0, Tensor<std::int64_t>{{1, 0}})),
            (std::vector<float>{2, 4}));
  // scatter_add_ is gather's adjoint: repeated targets add up.
  Tensor<float> acc = ember::zeros<float>({2, 3});
  ember::scatter_add_(acc, 1, idx, Tensor<float>{{10, 20}, {30, 40}});
  EXPECT_EQ(values(acc), (std::vector<float>{20, 0, 10, 0, 70, 0}));
  EXPECT_EMBER_ERROR(ember::gather(x, 1, Tensor<std::int64_t>{{3}}),
                     "gather: index 3 is out of range for dimension 1 of size 3");
  EXPECT_EMBER_ERROR(ember::gather(x, 1, Tensor<std::int64_t>{1, 2}),
                     "gather: index [2] must have the rank of [2,3]");
  EXPECT_EMBER_ERROR(ember::gather(x, 1, Tensor<std::int64_t>{{0}, {0}, {0}}),
                     "gather: index [3,1] is larger than [2,3] in dimension 0");
  EXPECT_EMBER_ERROR(ember::scatter_add_(acc, 1, idx, Tensor<float>{1, 2}),
                     "scatter_add_: source [2] does not match index [2,2]");
}
