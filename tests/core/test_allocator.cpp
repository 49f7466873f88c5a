// The caching allocator (core/allocator.hpp): size classes, reuse, the cap, the off switch,
// statistics, and use from several threads.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <ember/ember.hpp>

#include "../nn/train_helpers.hpp"

namespace {

using ember::detail::CachingAllocator;

/// Restores the allocator's switch and cap when a test ends.
class AllocatorState {
 public:
  AllocatorState()
      : caching_(ember::allocator_caching()),
        auto_(ember::allocator_cache_limit_is_auto()),
        limit_(ember::allocator_cache_limit()) {}
  ~AllocatorState() {
    ember::set_allocator_caching(caching_);
    if (auto_)
      ember::set_allocator_cache_limit_auto();
    else
      ember::set_allocator_cache_limit(limit_);
  }
  AllocatorState(const AllocatorState&) = delete;
  AllocatorState& operator=(const AllocatorState&) = delete;

 private:
  bool caching_;
  bool auto_;
  std::size_t limit_;
};

std::size_t class_of(std::size_t bytes) {
  std::size_t c = 0;
  CachingAllocator::size_class(bytes, c);
  return c;
}

TEST(Allocator, SizeClassesByHand) {
  EXPECT_EQ(class_of(1), 64u);
  EXPECT_EQ(class_of(64), 64u);
  EXPECT_EQ(class_of(65), 128u);
  EXPECT_EQ(class_of(256), 256u);
  EXPECT_EQ(class_of(257), 320u);
  EXPECT_EQ(class_of(512), 512u);
  EXPECT_EQ(class_of(513), 640u);
  EXPECT_EQ(class_of(1000), 1024u);
  EXPECT_EQ(class_of(1025), 1280u);
  EXPECT_EQ(class_of(3u << 20), 3u << 20);
  EXPECT_EQ(class_of((3u << 20) + 1), 7u << 19);  // 3.5 MiB
}

TEST(Allocator, SizeClassesCoverEverySizeWithLittleWaste) {
  int last = -1;
  std::size_t last_bytes = 0;
  for (std::size_t bytes = 1; bytes < (std::size_t{1} << 40); bytes += 1 + bytes / 97) {
    std::size_t cb = 0;
    const int cls = CachingAllocator::size_class(bytes, cb);
    ASSERT_GE(cb, bytes);
    ASSERT_EQ(cb % 64, 0u) << bytes;
    if (bytes > 256) {
      ASSERT_LE(cb - bytes, bytes / 4) << bytes;  // at most 25% waste
    }
    ASSERT_EQ(CachingAllocator::class_size(cls), cb) << bytes;
    ASSERT_GE(cls, last);  // monotonic: a larger request never lands in a smaller class
    if (cls == last) {
      ASSERT_EQ(cb, last_bytes);
    }
    ASSERT_LT(cls, CachingAllocator::kClasses);
    last = cls;
    last_bytes = cb;
  }
  std::size_t cb = 0;
  EXPECT_LT(CachingAllocator::size_class(CachingAllocator::kMaxBytes, cb), CachingAllocator::kClasses);
}

TEST(Allocator, FreedBlockIsReusedWithoutTheSystem) {
  AllocatorState restore;
  ember::set_allocator_caching(true);
  ember::empty_allocator_cache();
  ember::reset_allocator_stats();
  const std::int64_t base = ember::allocator_stats().bytes_in_use;  // blocks other code holds
  const float* first = nullptr;
  {
    auto t = ember::empty<float>({1 << 20});
    first = t.data();
  }
  auto s = ember::allocator_stats();
  EXPECT_EQ(s.system_allocations, 1);
  EXPECT_EQ(s.cache_hits, 0);
  EXPECT_EQ(s.bytes_cached, 4 << 20);
  EXPECT_EQ(s.blocks_cached, 1);
  auto t = ember::empty<float>({1 << 20});  // same size class: the same block
  EXPECT_EQ(t.data(), first);
  s = ember::allocator_stats();
  EXPECT_EQ(s.allocations, 2);
  EXPECT_EQ(s.cache_hits, 1);
  EXPECT_EQ(s.system_allocations, 1);
  EXPECT_EQ(s.bytes_cached, 0);
  EXPECT_EQ(s.bytes_in_use - base, 4 << 20);
  EXPECT_EQ(s.peak_bytes_in_use - base, 4 << 20);
  // A slightly smaller request in the same class reuses it too; another class does not.
  t = ember::Tensor<float>();
  auto u = ember::empty<float>({(1 << 20) - 1000});
  EXPECT_EQ(u.data(), first);
  auto v = ember::empty<float>({1 << 21});
  EXPECT_NE(v.data(), first);
  EXPECT_EQ(ember::allocator_stats().system_allocations, 2);
}

TEST(Allocator, CapSendsBlocksBackToTheSystem) {
  AllocatorState restore;
  ember::set_allocator_caching(true);
  ember::empty_allocator_cache();
  ember::set_allocator_cache_limit(std::size_t{1} << 20);  // 1 MiB
  ember::reset_allocator_stats();
  { auto big = ember::empty<float>({1 << 20}); }  // 4 MiB: over the cap, freed at once
  auto s = ember::allocator_stats();
  EXPECT_EQ(s.bytes_cached, 0);
  EXPECT_EQ(s.system_frees, 1);
  {
    auto a = ember::empty<float>({100000});  // 400,000 B -> class 458,752 B
    auto b = ember::empty<float>({100000});
    auto c = ember::empty<float>({100000});
  }  // only two fit under 1 MiB
  s = ember::allocator_stats();
  EXPECT_EQ(s.blocks_cached, 2);
  EXPECT_EQ(s.bytes_cached, 2 * 458752);
  EXPECT_EQ(s.system_frees, 2);
  ember::set_allocator_cache_limit(500000);  // lowering the cap trims at once
  s = ember::allocator_stats();
  EXPECT_EQ(s.blocks_cached, 1);
  EXPECT_LE(s.bytes_cached, 500000);
  ember::empty_allocator_cache();
  s = ember::allocator_stats();
  EXPECT_EQ(s.blocks_cached, 0);
  EXPECT_EQ(s.bytes_cached, 0);
  EXPECT_EQ(s.system_frees, 4);
}

TEST(Allocator, AFullCacheMakesRoomForTheSizesInUse) {
  // The cache is full of one size class that is no longer used; a block of another class being
  // released pushes the least recently used one out, so a loop over the new size hits the
  // cache instead of the system every time.
  AllocatorState restore;
  ember::set_allocator_caching(true);
  ember::empty_allocator_cache();
  ember::set_allocator_cache_limit(std::size_t{1} << 20);  // 1 MiB
  {
    auto a = ember::empty<float>({100000});  // class 458,752 B
    auto b = ember::empty<float>({100000});
  }
  ember::reset_allocator_stats();
  EXPECT_EQ(ember::allocator_stats().blocks_cached, 2);  // 917,504 B: no room for 300,000 more
  const float* first = nullptr;
  for (int i = 0; i < 10; ++i) {
    auto t = ember::empty<float>({70000});  // 280,000 B -> class 327,680 B
    if (i == 0) first = t.data();
    EXPECT_EQ(t.data(), first) << i;
  }
  auto s = ember::allocator_stats();
  EXPECT_EQ(s.system_allocations, 1);
  EXPECT_EQ(s.cache_hits, 9);
  EXPECT_EQ(s.system_frees, 1);  // one block of the old class gave way
  EXPECT_EQ(s.blocks_cached, 2);
  EXPECT_EQ(s.bytes_cached, 458752 + 327680);
  // Its own class is never pushed out for it: a third block of the class in use goes back.
  {
    auto x = ember::empty<float>({70000});
    auto y = ember::empty<float>({70000});
    auto z = ember::empty<float>({70000});
  }
  s = ember::allocator_stats();
  EXPECT_LE(s.bytes_cached, std::int64_t{1} << 20);
  EXPECT_EQ(s.blocks_cached, 3);  // three blocks of 327,680 B: the old class's last block gave way
  EXPECT_EQ(s.bytes_cached, 3 * 327680);
}

TEST(Allocator, DefaultCapFollowsTheMostBytesEverInUse) {
  AllocatorState restore;
  ember::set_allocator_caching(true);
  ember::empty_allocator_cache();
  ember::set_allocator_cache_limit_auto(std::size_t{1} << 20);  // floor 1 MiB
  EXPECT_TRUE(ember::allocator_cache_limit_is_auto());
  // A block larger than the cap in force: in use, it raises the peak, and so the cap; freed,
  // it stays cached (a fixed cap would have sent it back to the system). Never touched, so only
  // address space is used.
  const std::size_t before = ember::allocator_cache_limit();
  const std::int64_t n = static_cast<std::int64_t>(before / sizeof(float)) + (1 << 20);
  ember::reset_allocator_stats();
  { auto big = ember::empty<float>({n}); }
  auto s = ember::allocator_stats();
  EXPECT_EQ(s.system_frees, 0);
  EXPECT_EQ(s.blocks_cached, 1);
  EXPECT_GE(ember::allocator_cache_limit(), static_cast<std::size_t>(n) * sizeof(float));
  // A fixed cap turns the policy off and trims at once.
  ember::set_allocator_cache_limit(std::size_t{1} << 20);
  EXPECT_FALSE(ember::allocator_cache_limit_is_auto());
  EXPECT_EQ(ember::allocator_cache_limit(), std::size_t{1} << 20);
  EXPECT_EQ(ember::allocator_stats().blocks_cached, 0);
}

TEST(Allocator, OffMeansEveryBlockFromTheSystem) {
  AllocatorState restore;
  ember::set_allocator_caching(true);
  { auto warm = ember::empty<float>({5000}); }
  EXPECT_GT(ember::allocator_stats().blocks_cached, 0);
  ember::set_allocator_caching(false);  // empties the cache
  EXPECT_EQ(ember::allocator_stats().blocks_cached, 0);
  ember::reset_allocator_stats();
  for (int i = 0; i < 3; ++i) auto t = ember::empty<float>({5000});
  const auto s = ember::allocator_stats();
  EXPECT_EQ(s.allocations, 3);
  EXPECT_EQ(s.cache_hits, 0);
  EXPECT_EQ(s.system_allocations, 3);
  EXPECT_EQ(s.system_frees, 3);
  EXPECT_EQ(s.bytes_cached, 0);
}

TEST(Allocator, ImpossibleRequestIsAnError) {
  EXPECT_THROW(ember::empty<double>({std::int64_t{1} << 61}), ember::Error);
  try {
    (void)ember::Storage<float>::allocate(std::int64_t{1} << 62, "my_op");
    FAIL();
  } catch (const ember::Error& e) {
    EXPECT_NE(std::string(e.what()).find("my_op"), std::string::npos) << e.what();
  }
}

TEST(Allocator, OnAndOffTrainIdentically) {
  AllocatorState restore;
  std::vector<float> curves[2];
  for (int on = 0; on < 2; ++on) {
    ember::set_allocator_caching(on == 1);
    curves[on] = train_helpers::train_tiny_transformer();
  }
  ASSERT_EQ(curves[0].size(), curves[1].size());
  for (std::size_t i = 0; i < curves[0].size(); ++i) ASSERT_EQ(curves[0][i], curves[1][i]) << i;
  EXPECT_LT(curves[1].back(), curves[1].front());
}

TEST(Allocator, SteadyTrainingStepsAllocateNothingNew) {
  AllocatorState restore;
  ember::set_allocator_caching(true);
  (void)train_helpers::train_tiny_transformer();  // warms the cache with every size it uses
  ember::reset_allocator_stats();
  (void)train_helpers::train_tiny_transformer();
  const auto s = ember::allocator_stats();
  EXPECT_GT(s.allocations, 1000);
  EXPECT_EQ(s.system_allocations, 0);
}

TEST(Allocator, BlocksStayPrivateUnderThreads) {
  AllocatorState restore;
  ember::set_allocator_caching(true);
  ember::set_allocator_cache_limit(std::size_t{8} << 20);
  const auto before = ember::allocator_stats().bytes_in_use;
  constexpr int kThreads = 4, kRounds = 400;
  std::vector<int> bad(kThreads, 0);
  std::vector<std::thread> pool;
  pool.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([t, &bad] {
      ember::Generator g(static_cast<std::uint64_t>(100 + t));
      std::vector<ember::Tensor<std::int32_t>> live;
      for (int r = 0; r < kRounds; ++r) {
        const auto n = static_cast<std::int64_t>(g.next_u64() % 20000) + 1;
        auto x = ember::empty<std::int32_t>({n});
        const std::int32_t tag = t * 1000000 + r;
        for (std::int64_t i = 0; i < n; ++i) x.data()[i] = tag;
        live.push_back(x);
        if (live.size() > 8 || g.next_u64() % 3 == 0) {  // check and drop the oldest
          const auto& old = live.front();
          const std::int32_t want = old.data()[0];
          for (std::int64_t i = 0; i < old.numel(); ++i) bad[static_cast<std::size_t>(t)] += old.data()[i] != want;
          live.erase(live.begin());
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(bad[static_cast<std::size_t>(t)], 0) << "thread " << t;
  const auto s = ember::allocator_stats();
  EXPECT_EQ(s.bytes_in_use, before);
  EXPECT_LE(s.bytes_cached, std::int64_t{8} << 20);
}

TEST(Allocator, SmallBlocksComeBackFromThePerThreadCache) {
  AllocatorState restore;
  ember::set_allocator_caching(true);
  ember::empty_allocator_cache();
  ember::reset_allocator_stats();
  const std::int64_t base = ember::allocator_stats().bytes_in_use;
  const float* first = nullptr;
  { auto t = ember::empty<float>({100}); first = t.data(); }  // 400 B: class 448 B
  auto s = ember::allocator_stats();
  EXPECT_EQ(s.blocks_cached, 1);
  EXPECT_EQ(s.bytes_cached, 448);
  EXPECT_EQ(s.bytes_in_use, base);
  {
    auto t = ember::empty<float>({100});
    EXPECT_EQ(t.data(), first);
    s = ember::allocator_stats();
    EXPECT_EQ(s.allocations, 2);
    EXPECT_EQ(s.cache_hits, 1);
    EXPECT_EQ(s.system_allocations, 1);
    EXPECT_EQ(s.bytes_in_use - base, 448);
    EXPECT_EQ(s.blocks_cached, 0);
  }
  // Another thread's small blocks are counted as cached while it runs and reach the shared
  // lists when it exits; emptying the cache then returns every one of them to the system.
  std::thread worker([] {
    std::vector<ember::Tensor<float>> v;
    v.reserve(5);
    for (int i = 0; i < 5; ++i) v.push_back(ember::empty<float>({16}));  // 64 B each
    v.clear();
    const auto w = ember::allocator_stats();
    EXPECT_GE(w.blocks_cached, 5);
  });
  worker.join();
  s = ember::allocator_stats();
  EXPECT_EQ(s.bytes_in_use, base);
  EXPECT_EQ(s.blocks_cached, 6);  // the worker's five and this thread's 448-byte block
  ember::empty_allocator_cache();
  s = ember::allocator_stats();
  EXPECT_EQ(s.blocks_cached, 0);
  EXPECT_EQ(s.bytes_cached, 0);
  EXPECT_EQ(s.system_frees, s.system_allocations);
  // A thread cache holds at most 32 blocks of a class: the 33rd goes to the shared lists.
  {
    std::vector<ember::Tensor<float>> v;
    v.reserve(33);
    for (int i = 0; i < 33; ++i) v.push_back(ember::empty<float>({16}));
  }
  EXPECT_EQ(ember::allocator_stats().blocks_cached, 33);
  EXPECT_EQ(ember::allocator_stats().bytes_cached, 33 * 64);
  ember::set_allocator_caching(false);  // empties this thread's cache too
  EXPECT_EQ(ember::allocator_stats().blocks_cached, 0);
}

// ctest runs this with EMBER_ALLOCATOR=system (allocator.env.system).
TEST(AllocatorEnv, SystemSwitchTurnsCachingOff) {
  const char* v = std::getenv("EMBER_ALLOCATOR");
  if (v == nullptr || std::string(v) != "system") GTEST_SKIP() << "EMBER_ALLOCATOR=system not set";
  EXPECT_FALSE(ember::allocator_caching());
  ember::reset_allocator_stats();
  { auto t = ember::empty<float>({1000}); }
  { auto t = ember::empty<float>({1000}); }
  EXPECT_EQ(ember::allocator_stats().system_allocations, 2);
}

}  // namespace
