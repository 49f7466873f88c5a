#include <cmath>
#include <limits>

#include "../test_util.hpp"

using ember::Shape;
using ember::Tensor;

TEST(Tensor, DefaultIsEmpty1D) {
  Tensor<float> t;
  EXPECT_EQ(t.shape(), (Shape{0}));
  EXPECT_EQ(t.numel(), 0);
  EXPECT_TRUE(t.is_contiguous());
}

TEST(Tensor, InitializerLists) {
  Tensor<float> a{1, 2, 3};
  EXPECT_EQ(a.shape(), (Shape{3}));
  Tensor<int> b{{1, 2, 3}, {4, 5, 6}};
  EXPECT_EQ(b.shape(), (Shape{2, 3}));
  EXPECT_EQ(b.strides(), (Shape{3, 1}));
  EXPECT_EQ(b.at(1, 2), 6);
  Tensor<double> c{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}};
  EXPECT_EQ(c.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(c.at(1, 0, 1), 6.0);
}

TEST(Tensor, RaggedInitializerListRaises) {
  EXPECT_EMBER_ERROR((Tensor<float>{{1, 2}, {3}}), "ragged initializer list");
  EXPECT_EMBER_ERROR((Tensor<float>{{{1, 2}}, {{3, 4}, {5, 6}}}), "ragged initializer list");
}

TEST(Tensor, StorageIs64ByteAligned) {
  auto t = ember::zeros({7, 3});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u);
}

TEST(Tensor, AtChecksIndicesAndAllowsNegative) {
  Tensor<float> a{{1, 2, 3}, {4, 5, 6}};
  EXPECT_EQ(a.at(-1, -1), 6.0f);
  EXPECT_EQ(a.at(0, -3), 1.0f);
  EXPECT_EMBER_ERROR(a.at(2, 0),
                     "at: index 2 is out of bounds for dimension 0 with size 2 in [2,3]");
  EXPECT_EMBER_ERROR(a.at(0, -4), "index -4 is out of bounds for dimension 1");
  EXPECT_EMBER_ERROR(a.at(0), "at: expected 2 indices for a tensor of shape [2,3], got 1");
}

TEST(Tensor, UncheckedAccessWrites) {
  auto a = ember::zeros({2, 2});
  a(1, 0) = 5.0f;
  EXPECT_EQ(a.at(1, 0), 5.0f);
}

TEST(Tensor, ItemRequiresOneElement) {
  EXPECT_EQ(ember::scalar_tensor(3.5).item(), 3.5);
  EXPECT_EQ((Tensor<int>{{7}}).item(), 7);
  EXPECT_EQ((Tensor<int>{{7}, {8}}).shape(), (Shape{2, 1}));  // a column, not [2]
  EXPECT_EQ(values(Tensor<double>{1, 2.5}), (std::vector<double>{1, 2.5}));
  EXPECT_EMBER_ERROR((Tensor<float>{1, 2}).item(),
                     "item: a tensor of shape [2] has 2 elements, expected 1");
}

TEST(Tensor, CopyIsShallowCloneIsDeep) {
  Tensor<float> a{1, 2, 3};
  Tensor<float> alias = a;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
  Tensor<float> copy = a.clone();
  a.at(0) = 10;
  EXPECT_EQ(alias.at(0), 10.0f);
  EXPECT_EQ(copy.at(0), 1.0f);
  EXPECT_FALSE(copy.storage().same(a.storage()));
}

TEST(Tensor, ContiguousCopiesOnlyWhenNeeded) {
  auto a = ember::arange(6).reshape({2, 3});
  EXPECT_TRUE(a.contiguous().storage().same(a.storage()));
  auto t = a.t();
  EXPECT_FALSE(t.is_contiguous());
  auto c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_FALSE(c.storage().same(a.storage()));
  EXPECT_EQ(values(c), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Tensor, ToConvertsTypes) {
  Tensor<float> a{1.5f, -2.5f, 3.0f};
  EXPECT_EQ(values(a.to<int>()), (std::vector<int>{1, -2, 3}));  // truncation, as astype
  EXPECT_EQ(values(a.to<double>()), (std::vector<double>{1.5, -2.5, 3.0}));
  EXPECT_EQ(values(a.to<bool>()), (std::vector<bool>{true, true, true}));
  auto h = a.to<ember::bfloat16>();
  EXPECT_EQ(static_cast<float>(h.at(1)), -2.5f);
  EXPECT_EQ(values((Tensor<int>{0, 3}).to<bool>()), (std::vector<bool>{false, true}));
}

TEST(Tensor, ToIntegerRejectsNanInfAndOverflow) {
  Tensor<float> nan{std::numeric_limits<float>::quiet_NaN()};
  EXPECT_EMBER_ERROR(nan.to<int>(), "cannot be represented in int32");
  EXPECT_EMBER_ERROR((Tensor<double>{INFINITY}).to<std::int64_t>(),
                     "cannot be represented in int64");
  EXPECT_EMBER_ERROR((Tensor<double>{3e9}).to<std::int32_t>(),
                     "to: value 3e+09 cannot be represented in int32");
  EXPECT_EQ((Tensor<double>{-2147483648.0}).to<std::int32_t>().item(),
            std::numeric_limits<int>::min());
}

TEST(Tensor, FillAndCopyWithBroadcast) {
  auto a = ember::zeros({2, 3});
  a.fill_(2.0f);
  EXPECT_EQ(values(a), std::vector<float>(6, 2.0f));
  a.copy_(Tensor<float>{1, 2, 3});
  EXPECT_EQ(values(a), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  a.copy_(Tensor<int>{{7}, {8}});  // converts int → float and broadcasts the column
  EXPECT_EQ(values(a), (std::vector<float>{7, 7, 7, 8, 8, 8}));
  EXPECT_EMBER_ERROR(a.copy_(Tensor<float>{1, 2}),
                     "copy_: cannot broadcast source [2] to destination [2,3]");
}

TEST(Tensor, CopyBetweenOverlappingViewsReadsSourceFirst) {
  auto a = ember::arange(6);
  a.slice(0, 1).copy_(a.slice(0, 0, 5));  // numpy: a[1:] = a[:-1]
  EXPECT_EQ(values(a), (std::vector<float>{0, 0, 1, 2, 3, 4}));
}

TEST(Tensor, WritingToExpandedViewRaises) {
  auto e = ember::ones({1, 3}).expand({4, 3});
  EXPECT_EMBER_ERROR(e.fill_(0.0f), "cannot write in place to a tensor whose elements overlap");
}

TEST(Tensor, FromStorageChecksBounds) {
  auto st = ember::Storage<float>::allocate(6);
  EXPECT_NO_THROW(Tensor<float>::from_storage(st, {2, 3}, {3, 1}, 0));
  EXPECT_EMBER_ERROR(Tensor<float>::from_storage(st, {2, 3}, {3, 1}, 1),
                     "needs 7 elements but the storage holds 6");
  EXPECT_EMBER_ERROR(Tensor<float>::from_storage(st, {2, 3}, {4, 1}, 0), "as_strided");
  EXPECT_EMBER_ERROR(Tensor<float>::from_storage(st, {2, 3}, {3}, 0), "differ in rank");
}

TEST(Tensor, ToVectorFollowsLogicalOrder) {
  auto a = ember::arange(12).reshape({3, 4});
  EXPECT_EQ(values(a.slice(1, 1, 4, 2)), (std::vector<float>{1, 3, 5, 7, 9, 11}));
}

TEST(Tensor, SizeAndStrideAcceptNegativeDims) {
  auto a = ember::zeros({2, 3, 4});
  EXPECT_EQ(a.size(-1), 4);
  EXPECT_EQ(a.stride(-2), 4);
  EXPECT_EQ(a.dim(), 3);
  EXPECT_EQ(a.nbytes(), 96);
  EXPECT_EMBER_ERROR(a.size(3), "size: axis 3 is out of range for a tensor of rank 3");
}
