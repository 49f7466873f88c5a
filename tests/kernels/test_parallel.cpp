#include <atomic>
#include <cstdlib>
#include <thread>
#include <utility>
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

// PhasedWork: every item of every phase is done exactly once, a phase starts only after the
// previous one is complete, and members that never turn up have their items done by others.
TEST(Parallel, PhasedWorkDoesEveryItemOnceInPhaseOrder) {
  constexpr int kPhases = 50;
  // Team 1 takes the path without atomics; a nominal team of 4 with only `present` members
  // running takes the claiming path.
  const std::pair<int, int> cases[] = {{1, 1}, {4, 1}, {4, 2}, {4, 4}};
  for (const auto& [team, present] : cases) {
    ember::detail::PhasedWork work(team);
    std::vector<std::atomic<int>> hits(kPhases * 64);
    std::atomic<int> order_errors{0};
    std::vector<std::atomic<int>> done_in_phase(kPhases);
    auto member = [&](int tid) {
      ember::detail::PhasedWork::Member me(work, tid);
      for (int p = 0; p < kPhases; ++p) {
        const int items = 1 + (p * 7) % 64;  // varied sizes, some smaller than the team
        me.phase(items, [&, p, items](std::int64_t i) {
          // Every item of the previous phase is finished before any item of this one starts.
          if (p > 0 && done_in_phase[static_cast<std::size_t>(p - 1)].load() != 1 + ((p - 1) * 7) % 64)
            ++order_errors;
          ASSERT_LT(i, items);
          ++hits[static_cast<std::size_t>(p * 64 + i)];
          ++done_in_phase[static_cast<std::size_t>(p)];
        });
      }
      me.finish();
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < present; ++t) threads.emplace_back(member, t);
    member(0);
    for (auto& t : threads) t.join();
    EXPECT_EQ(order_errors.load(), 0) << present;
    for (int p = 0; p < kPhases; ++p) {
      const int items = 1 + (p * 7) % 64;
      for (int i = 0; i < 64; ++i)
        ASSERT_EQ(hits[static_cast<std::size_t>(p * 64 + i)].load(), i < items ? 1 : 0)
            << "phase " << p << " item " << i << " with " << present << " members";
    }
  }
}

TEST(Parallel, ExceptionInAPhaseDoesNotHangTheTeam) {
  ember::set_num_threads(2);
  ember::detail::PhasedWork work(2);
  std::atomic<int> second_phase{0};
  auto body = [&](int tid, int) {
    ember::detail::PhasedWork::Member me(work, tid);
    me.phase(8, [&](std::int64_t i) {
      if (i == 5) throw ember::Error("item 5 failed");
    });
    me.phase(8, [&](std::int64_t) { ++second_phase; });
  };
  EXPECT_THROW(ember::detail::run_in_pool(2, body), ember::Error);
  EXPECT_LE(second_phase.load(), 8);
}

TEST(Parallel, PoolTeamsFromManyCallersAndNesting) {
  // Several user threads start teams at once (the pool runs one team; the others run serially),
  // and a parallel_for inside a parallel_for runs serially: every element still done once.
  ember::set_num_threads(2);
  std::vector<std::thread> users;
  users.reserve(4);
  std::atomic<int> bad{0};
  for (int u = 0; u < 4; ++u) {
    users.emplace_back([&bad] {
      for (int rep = 0; rep < 50; ++rep) {
        std::vector<int> hits(4000, 0);
        ember::parallel_for(0, 40, 1, [&](std::int64_t lo, std::int64_t hi) {
          for (std::int64_t r = lo; r < hi; ++r) {
            ember::parallel_for(0, 100, 1, [&](std::int64_t a, std::int64_t b) {
              for (std::int64_t i = a; i < b; ++i) ++hits[static_cast<std::size_t>(r * 100 + i)];
            });
          }
        });
        for (int h : hits) bad += h != 1;
      }
    });
  }
  for (auto& t : users) t.join();
  EXPECT_EQ(bad.load(), 0);
}
