#include "../test_util.hpp"

using ember::Shape;
using ember::Tensor;

namespace {
Tensor<float> grid(std::int64_t rows, std::int64_t cols) {
  return ember::arange(rows * cols).reshape({rows, cols});
}
}  // namespace

TEST(View, SliceFollowsPythonSemantics) {
  auto a = ember::arange(10);
  EXPECT_EQ(values(a.slice(0, 2, 5)), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(values(a.slice(0, -3)), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(values(a.slice(0, 1, 8, 3)), (std::vector<float>{1, 4, 7}));
  EXPECT_EQ(a.slice(0, 5, 100).numel(), 5);  // clamped like a[5:100]
  EXPECT_EQ(a.slice(0, 7, 3).numel(), 0);    // empty like a[7:3]
  EXPECT_EMBER_ERROR(a.slice(0, 0, 5, 0), "slice: step must be positive, got 0");
}

TEST(View, SliceSharesStorage) {
  auto a = grid(3, 4);
  auto s = a.slice(1, 1, 3);
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  EXPECT_EQ(s.strides(), (Shape{4, 1}));
  EXPECT_TRUE(s.storage().same(a.storage()));
  s.at(2, 1) = -1;
  EXPECT_EQ(a.at(2, 2), -1.0f);
}

TEST(View, NarrowChecksRange) {
  auto a = grid(3, 4);
  EXPECT_EQ(values(a.narrow(0, 1, 2).select(1, 0)), (std::vector<float>{4, 8}));
  EXPECT_EMBER_ERROR(a.narrow(1, 2, 3),
                     "narrow: start 2 and length 3 exceed dimension 1 of size 4 in [3,4]");
}

TEST(View, SelectRemovesDim) {
  auto a = grid(3, 4);
  auto col = a.select(1, 2);
  EXPECT_EQ(col.shape(), (Shape{3}));
  EXPECT_EQ(values(col), (std::vector<float>{2, 6, 10}));
  EXPECT_EQ(values(a[-1]), (std::vector<float>{8, 9, 10, 11}));
  col.at(0) = 100;
  EXPECT_EQ(a.at(0, 2), 100.0f);
  EXPECT_EMBER_ERROR(a.select(0, 3),
                     "select: index 3 is out of bounds for dimension 0 with size 3");
}

TEST(View, TransposeAndPermute) {
  auto a = ember::arange(24).reshape({2, 3, 4});
  auto p = a.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.at(3, 1, 2), a.at(1, 2, 3));
  auto t = a.transpose(0, -1);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.at(1, 2, 0), a.at(0, 2, 1));
  EXPECT_EMBER_ERROR(a.permute({0, 0, 1}), "permute: axes [0,0,1] are not a permutation of 3 dims");
  EXPECT_EMBER_ERROR(a.permute({0, 1}), "do not match rank 3");
  EXPECT_EMBER_ERROR(a.t(), "t: expects a tensor of rank <= 2");
}

TEST(View, ViewAndReshape) {
  auto a = grid(3, 4);
  auto v = a.view({2, -1});
  EXPECT_EQ(v.shape(), (Shape{2, 6}));
  EXPECT_TRUE(v.storage().same(a.storage()));
  // A transpose can't be flattened without copying: view raises, reshape copies.
  EXPECT_EMBER_ERROR(a.t().view({12}),
                     "view: cannot view shape [4,3] with strides [1,4] as [12] without copying");
  auto r = a.t().reshape({12});
  EXPECT_FALSE(r.storage().same(a.storage()));
  EXPECT_EQ(values(r), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
}

TEST(View, ReshapeOfStridedViewWithoutCopyWhenPossible) {
  auto a = ember::arange(24).reshape({4, 6});
  auto s = a.slice(0, 0, 4, 2);  // rows 0 and 2, each dense
  auto r = s.reshape({2, 2, 3});
  EXPECT_TRUE(r.storage().same(a.storage()));
  EXPECT_EQ(r.strides(), (Shape{12, 3, 1}));
  EXPECT_EQ(r.at(1, 1, 2), 17.0f);
}

TEST(View, ReshapeErrors) {
  auto a = grid(2, 3);
  EXPECT_EMBER_ERROR(a.reshape({4, -1}),
                     "reshape: shape [4,-1] is invalid for a tensor of 6 elements");
  EXPECT_EMBER_ERROR(a.reshape({-1, -1}), "only one dimension can be -1");
  EXPECT_EMBER_ERROR(a.reshape({5}), "shape [5] is invalid for a tensor of 6 elements");
  EXPECT_EMBER_ERROR(a.reshape({-2, 3}), "invalid dimension -2");
}

TEST(View, ReshapeEmptyAndScalar) {
  auto e = ember::zeros({0, 3});
  EXPECT_EQ(e.reshape({3, 0}).shape(), (Shape{3, 0}));
  EXPECT_EMBER_ERROR(e.reshape({-1, 0}), "invalid for a tensor of 0 elements");
  auto s = ember::scalar_tensor(2.0f);
  EXPECT_EQ(s.reshape({1, 1}).shape(), (Shape{1, 1}));
  EXPECT_EQ(s.reshape({1, 1}).at(0, 0), 2.0f);
}

TEST(View, SqueezeUnsqueeze) {
  auto a = ember::zeros({1, 3, 1});
  EXPECT_EQ(a.squeeze().shape(), (Shape{3}));
  EXPECT_EQ(a.squeeze(0).shape(), (Shape{3, 1}));
  EXPECT_EQ(a.squeeze(1).shape(), (Shape{1, 3, 1}));  // not size 1: unchanged, as PyTorch
  auto b = ember::zeros({2, 3});
  EXPECT_EQ(b.unsqueeze(0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(b.unsqueeze(-1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(b.unsqueeze(1).shape(), (Shape{2, 1, 3}));
  EXPECT_TRUE(b.unsqueeze(1).is_contiguous());
  EXPECT_EMBER_ERROR(b.unsqueeze(4), "unsqueeze: axis 4 is out of range");
}

TEST(View, ExpandUsesZeroStrides) {
  Tensor<float> col{{1}, {2}};
  auto e = col.expand({3, 2, 4});
  EXPECT_EQ(e.shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(e.strides(), (Shape{0, 1, 0}));
  EXPECT_EQ(e.at(2, 1, 3), 2.0f);
  EXPECT_EQ(col.expand({-1, 5}).shape(), (Shape{2, 5}));
  EXPECT_EMBER_ERROR(col.expand({3, 4}), "expand: cannot expand [2,1] to [3,4]");
  EXPECT_EMBER_ERROR(col.broadcast_to({2}), "broadcast_to: cannot broadcast [2,1] to [2]");
}

TEST(View, FlattenRange) {
  auto a = ember::zeros({2, 3, 4, 5});
  EXPECT_EQ(a.flatten().shape(), (Shape{120}));
  EXPECT_EQ(a.flatten(1, 2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(ember::scalar_tensor(1.0f).flatten().shape(), (Shape{1}));
}

TEST(View, WritesThroughChainedViewsReachBase) {
  auto a = ember::zeros({4, 4});
  a.t().slice(0, 1, 3).select(1, 2).fill_(7.0f);  // a[2, 1:3] = 7
  EXPECT_EQ(ember::sum(a).item(), 14.0f);
  EXPECT_EQ(a.at(2, 1), 7.0f);
  EXPECT_EQ(a.at(2, 2), 7.0f);
}

TEST(View, ViewOfNonContiguousKeepsAliasing) {
  auto a = ember::arange(12).reshape({3, 4});
  auto v = a.t().unsqueeze(0);  // [1,4,3]
  v.at(0, 3, 2) = -5;
  EXPECT_EQ(a.at(2, 3), -5.0f);
}
