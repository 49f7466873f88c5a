#include <memory>

#include "../test_util.hpp"
#include "ember/core/small_vector.hpp"

using ember::detail::SmallVector;

TEST(SmallVector, KeepsUpToNInlineThenMovesToTheHeapKeepingOrder) {
  SmallVector<std::shared_ptr<int>, 3> v;
  EXPECT_TRUE(v.empty());
  for (int i = 0; i < 3; ++i) v.push_back(std::make_shared<int>(i));
  EXPECT_TRUE(v.is_inline());
  EXPECT_EQ(v.size(), 3u);
  EXPECT_EQ(v.capacity(), 3u);
  const std::shared_ptr<int> first = v[0];
  for (int i = 3; i < 10; ++i) v.push_back(std::make_shared<int>(i));
  EXPECT_FALSE(v.is_inline());
  EXPECT_EQ(v.size(), 10u);
  EXPECT_GE(v.capacity(), 10u);
  int expect = 0;
  for (const auto& p : v) EXPECT_EQ(*p, expect++);
  EXPECT_EQ(first.use_count(), 2);  // moved, not copied, into the heap array
  v.clear();                        // releases the handles at once
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(first.use_count(), 1);
}

TEST(SmallVector, ReserveAndBoolElements) {
  SmallVector<bool, 2> b;
  b.reserve(2);
  EXPECT_TRUE(b.is_inline());
  b.push_back(true);
  b.push_back(false);
  b.reserve(5);
  EXPECT_FALSE(b.is_inline());
  b.push_back(true);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_TRUE(b[0]);
  EXPECT_FALSE(b[1]);
  EXPECT_TRUE(b[2]);
}
