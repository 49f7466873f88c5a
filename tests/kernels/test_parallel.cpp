#include <atomic>
#include <cstdlib>
#include <vector>

#include "../test_util.hpp"

TEST(Parallel, ChunksCoverTheRangeOnce) {
  for (int threads : {1, 2, 3}) {
    ember::set_num_threads(threads);
    std::vector<int> hits(1000, 0);
    ember::parallel_for(0, 1000, 10, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) ++hits[static_cast<std::size_t>(i)];
    });
    for (int h : hits) ASSERT_EQ(h, 1);
  }
}

TEST(Parallel, SmallRangesStaySerial) {
  ember::set_num_threads(2);
  std::atomic<int> calls{0};
  ember::parallel_for(0, 100, 1000, [&](std::int64_t lo, std::int64_t hi) {
    ++calls;
    EXPECT_EQ(lo, 0);
    EXPECT_EQ(hi, 100);
  });
  EXPECT_EQ(calls.load(), 1);
  ember::parallel_for(5, 5, 1, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls.load(), 1);
}

TEST(Parallel, ExceptionsPropagateToCaller) {
  ember::set_num_threads(2);
  EXPECT_THROW(ember::parallel_for(0, 100, 1,
                                   [](std::int64_t lo, std::int64_t) {
                                     if (lo > 0) throw ember::Error("boom");
                                   }),
               ember::Error);
  // An error raised inside a parallel kernel reaches the caller as ember::Error too.
  auto big = ember::full<float>({100000}, NAN);
  EXPECT_EMBER_ERROR(big.to<int>(), "cannot be represented in int32");
}

TEST(Parallel, ThreadCountSetting) {
  ember::set_num_threads(3);
  EXPECT_EQ(ember::num_threads(), 3);
  EXPECT_EMBER_ERROR(ember::set_num_threads(0),
                     "set_num_threads: thread count must be between 1 and 1024, got 0");
  // A huge team used to overflow the OpenMP runtime's stack: refused before it reaches OpenMP.
  EXPECT_EMBER_ERROR(ember::set_num_threads(2147483647), "between 1 and 1024, got 2147483647");
  EXPECT_EQ(ember::num_threads(), 3);
  ember::set_num_threads(1);
  EXPECT_EQ(ember::num_threads(), 1);
}
