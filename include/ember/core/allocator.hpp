// ember/core/allocator.hpp — the caching allocator behind every Storage.
// Layer: core. A training step allocates the same tensors step after step. Through malloc, the
// large ones (above glibc's mmap threshold) go back to the OS when freed and are faulted in again
// at about 1.4 µs per 4 KiB page the next time (MACHINE.md): a fresh 16 MiB result pays ~5.6 ms
// before the first byte is computed. This allocator keeps freed blocks in per-size-class free
// lists and hands them out again, so a steady-state step touches no new pages.
//
//   - Size classes: multiples of 64 B up to 256 B, then four classes per power of two
//     (2^e · {1, 1.25, 1.5, 1.75}), so a block wastes at most 25% of its size.
//   - One mutex guards the free lists and the statistics; the system allocation itself happens
//     outside it. Freed blocks are reused last-in first-out (the most recently touched first).
//   - Small blocks (up to 4 KiB) first go to a per-thread cache without the mutex: at most
//     kThreadBlocks per size class and kThreadBytes in all per thread. Autograd's small tensors
//     take and give back several blocks per op, and two mutex round trips per block were 14% of
//     bench_autograd's op_overhead. To the shared lists a block in a thread cache is still "in
//     use"; allocator_stats() counts it as cached. empty_allocator_cache() and turning caching
//     off empty the calling thread's cache at once and every other thread's at its next
//     allocation or release (or when it exits).
//   - A cap on cached bytes: by default the larger of 1 GiB and twice the most bytes the program
//     has had in use at once (see cap()), so a training step that peaks above 1 GiB keeps its
//     blocks between steps (with a fixed 1 GiB cap, issue 14's MLM step re-faulted its blocks
//     each step: 19% of its time in page faults, 1.9 s per step instead of 0.94 s on 2 threads)
//     and the cache stays proportional to what the program uses. A fixed cap: EMBER_ALLOCATOR_CACHE_MB or
//     set_allocator_cache_limit.
//   - A full cache makes room for the block being released by giving back blocks of the size
//     classes used least recently (other than the block's own); only when that cannot make room
//     does the block itself go back to the system. A cache full of one phase's sizes used to
//     keep them for good and send every block of the next phase's sizes back: inference over
//     texts sorted by length (a new batch shape every few batches) then faulted its large
//     activations in afresh each batch — 154 s of kernel time in a 248 s `ember-sentiment eval`
//     of 25,000 IMDb reviews, 160 s (2.2 s) with this; a 6,000-review part of it ran 42.6 s
//     (10.2 s in the kernel) before, 39.5 s (1.4 s) with this and 37 s (1.3 s) with the cap
//     lifted (EMBER_ALLOCATOR_CACHE_MB=8000: 0.2 GiB more memory).
//   - Off switch: EMBER_ALLOCATOR=system, or set_allocator_caching(false). Off by default under
//     AddressSanitizer, so use-after-free is reported against the system allocator; when a test
//     turns it on there, cached blocks are poisoned, so touching one is still an ASan error.
//   - When the system refuses an allocation, the cache is emptied and the allocation retried once.
//
// Speed target (bench_elementwise BM_ember_add, 4M floats, fresh result each iteration): the
// allocation costs nothing measurable, i.e. `add` with a fresh result runs at the speed of `add`
// into a preallocated result. Reached: see README, "Memory".
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "ember/core/error.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define EMBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMBER_ASAN 1
#endif
#endif
#ifndef EMBER_ASAN
#define EMBER_ASAN 0
#endif
#if EMBER_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace ember {

/// Alignment, in bytes, of every buffer ember allocates.
inline constexpr std::size_t kAlignment = 64;

/// What the allocator has done since the process started (or since reset_allocator_stats).
struct AllocatorStats {
  std::int64_t allocations = 0;         ///< blocks handed out
  std::int64_t cache_hits = 0;          ///< ... of which came from the cache
  std::int64_t system_allocations = 0;  ///< calls to the system allocator
  std::int64_t system_frees = 0;        ///< blocks given back to the system
  std::int64_t bytes_in_use = 0;        ///< bytes in live blocks (rounded to their size class)
  std::int64_t peak_bytes_in_use = 0;   ///< the most bytes_in_use has been
  std::int64_t bytes_cached = 0;        ///< bytes held in the free lists
  std::int64_t blocks_cached = 0;       ///< blocks held in the free lists
};

namespace detail {

class CachingAllocator;

/// The per-thread cache of small blocks (see the header comment). Its lists are touched by its
/// own thread only; its counters are written by that thread (a relaxed load and store, no
/// read-modify-write) and read by allocator_stats() from any thread.
struct ThreadBlockCache {
  static constexpr int kClasses = 20;  // size classes 0..19: blocks of 64 B .. 4 KiB
  static constexpr int kThreadBlocks = 32;
  static constexpr std::size_t kThreadBytes = std::size_t{64} << 10;

  void* blocks[kClasses][kThreadBlocks] = {};
  int count[kClasses] = {};
  std::uint64_t epoch = 0;  // CachingAllocator::epoch_ when this cache was last emptied
  std::atomic<std::int64_t> hits{0};           // allocations served here
  std::atomic<std::int64_t> cached_bytes{0};   // bytes in `blocks`
  std::atomic<std::int64_t> cached_blocks{0};  // blocks in `blocks`

  /// Room for one more block of class `cls` (class_bytes bytes)?
  bool has_room(int cls, std::size_t class_bytes) const {
    return count[cls] < kThreadBlocks &&
           cached_bytes.load(std::memory_order_relaxed) + static_cast<std::int64_t>(class_bytes) <=
               static_cast<std::int64_t>(kThreadBytes);
  }
  void put(int cls, std::size_t class_bytes, void* p) {
    blocks[cls][count[cls]++] = p;
    account(static_cast<std::int64_t>(class_bytes), 1);
  }
  /// The most recently cached block of class `cls` (count[cls] > 0).
  void* take(int cls, std::size_t class_bytes) {
    account(-static_cast<std::int64_t>(class_bytes), -1);
    return blocks[cls][--count[cls]];
  }
  void count_hit() { bump(hits, 1); }

 private:
  static void bump(std::atomic<std::int64_t>& c, std::int64_t d) {
    c.store(c.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  void account(std::int64_t bytes, std::int64_t n) {
    bump(cached_bytes, bytes);
    bump(cached_blocks, n);
  }
};

class CachingAllocator {
 public:
  static constexpr int kClasses = 256;
  /// Requests above this are refused before any rounding could overflow.
  static constexpr std::size_t kMaxBytes = std::size_t{1} << 60;

  static CachingAllocator& instance() {
    // Never destroyed: Storage handles in static objects may be released after main returns.
    static CachingAllocator* a = new CachingAllocator();
    return *a;
  }

  /// The size class of a request of `bytes` (1 ≤ bytes ≤ kMaxBytes): its index and its size.
  static int size_class(std::size_t bytes, std::size_t& class_bytes) {
    if (bytes <= 256) {
      class_bytes = (bytes + 63) / 64 * 64;
      return static_cast<int>(class_bytes / 64) - 1;  // 0..3
    }
    const std::size_t p = std::bit_floor(bytes - 1);  // 2^e with e ≥ 8
    const std::size_t step = p / 4;
    class_bytes = (bytes + step - 1) / step * step;  // 2^e · (1 + j/4), j in 1..4
    const int e = std::countr_zero(p);
    const int j = static_cast<int>(class_bytes / step) - 4;
    return 3 + (e - 8) * 4 + j;
  }

  /// The size in bytes of size class `cls` (inverse of size_class).
  static std::size_t class_size(int cls) {
    if (cls < 4) return static_cast<std::size_t>(cls + 1) * 64;
    const int e = 8 + (cls - 4) / 4, j = (cls - 4) % 4 + 1;
    return (std::size_t{1} << e) / 4 * static_cast<std::size_t>(4 + j);
  }

  void* allocate(std::size_t bytes, std::size_t& class_bytes, std::string_view op) {
    if (bytes > kMaxBytes) fail(op, "cannot allocate ", bytes, " bytes");
    const int cls = size_class(bytes, class_bytes);
    if (cls < ThreadBlockCache::kClasses) {
      // thread_cache() first: it also empties this thread's cache after empty_cache() or
      // set_caching(false) on another thread.
      ThreadBlockCache* tc = thread_cache();
      if (tc != nullptr && tc->count[cls] > 0 && caching_.load(std::memory_order_relaxed)) {
        void* p = tc->take(cls, class_bytes);
        tc->count_hit();
#if EMBER_ASAN
        ASAN_UNPOISON_MEMORY_REGION(p, class_bytes);
#endif
        return p;
      }
    }
    if (caching_.load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.allocations;
      touch(cls);
      auto& list = free_[cls];
      if (!list.empty()) {
        void* p = list.back();
        list.pop_back();
        ++stats_.cache_hits;
        stats_.bytes_cached -= static_cast<std::int64_t>(class_bytes);
        --stats_.blocks_cached;
        add_in_use(class_bytes);
#if EMBER_ASAN
        ASAN_UNPOISON_MEMORY_REGION(p, class_bytes);
#endif
        return p;
      }
    } else {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.allocations;
    }
    void* p = std::aligned_alloc(kAlignment, class_bytes);
    if (p == nullptr) {
      empty_cache();  // cached blocks may be what the system is missing
      p = std::aligned_alloc(kAlignment, class_bytes);
    }
    if (p == nullptr) {
      std::lock_guard<std::mutex> lock(mutex_);
      --stats_.allocations;
      fail(op, "cannot allocate ", bytes, " bytes");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.system_allocations;
    add_in_use(class_bytes);
    return p;
  }

  void release(void* p, std::size_t class_bytes) noexcept {
    std::size_t ignored = 0;
    const int cls = size_class(class_bytes, ignored);
    if (cls < ThreadBlockCache::kClasses) {
      ThreadBlockCache* tc = thread_cache();
      if (tc != nullptr && caching_.load(std::memory_order_relaxed) &&
          tc->has_room(cls, class_bytes)) {
#if EMBER_ASAN
        ASAN_POISON_MEMORY_REGION(p, class_bytes);
#endif
        tc->put(cls, class_bytes, p);
        return;
      }
    }
    release_shared(p, cls, class_bytes);
  }

  /// Gives every cached block back to the system: the shared lists and this thread's cache at
  /// once, other threads' caches at their next allocation or release.
  void empty_cache() noexcept {
    epoch_.fetch_add(1, std::memory_order_relaxed);
    if (ThreadBlockCache* tc = thread_cache(); tc != nullptr) flush(*tc);
    empty_shared();
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    AllocatorStats s = stats_;
    std::int64_t hits = retired_hits_ - hits_base_;
    for (const ThreadBlockCache* tc : threads_) {
      hits += tc->hits.load(std::memory_order_relaxed);
      const std::int64_t b = tc->cached_bytes.load(std::memory_order_relaxed);
      s.bytes_in_use -= b;
      s.bytes_cached += b;
      s.blocks_cached += tc->cached_blocks.load(std::memory_order_relaxed);
    }
    s.allocations += hits;
    s.cache_hits += hits;
    return s;
  }
  void reset_stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    const AllocatorStats old = stats_;
    stats_ = AllocatorStats{};
    stats_.bytes_in_use = old.bytes_in_use;
    stats_.peak_bytes_in_use = old.bytes_in_use;
    stats_.bytes_cached = old.bytes_cached;
    stats_.blocks_cached = old.blocks_cached;
    hits_base_ = retired_hits_;
    for (const ThreadBlockCache* tc : threads_) hits_base_ += tc->hits.load(std::memory_order_relaxed);
  }

  void set_caching(bool on) {
    caching_.store(on, std::memory_order_relaxed);
    if (!on) empty_cache();
  }
  bool caching() const { return caching_.load(std::memory_order_relaxed); }

  void set_limit(std::size_t bytes) {
    limit_.store(bytes, std::memory_order_relaxed);
    auto_limit_.store(false, std::memory_order_relaxed);
    trim();
  }
  void set_auto_limit(std::size_t floor) {
    limit_.store(floor, std::memory_order_relaxed);
    auto_limit_.store(true, std::memory_order_relaxed);
    trim();
  }
  bool auto_limit() const { return auto_limit_.load(std::memory_order_relaxed); }
  std::size_t limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cap();
  }

 private:
  /// This thread's cache, created on first use; nullptr once the thread is exiting and its
  /// cache is gone (a Storage released by a thread_local destructor after it then goes to the
  /// shared lists).
  ThreadBlockCache* thread_cache() noexcept {
    if (tls_cache_ != nullptr) {
      if (tls_cache_->epoch != epoch_.load(std::memory_order_relaxed)) flush(*tls_cache_);
      return tls_cache_;
    }
    if (tls_cache_gone_) return nullptr;
    try {
      thread_local ThreadCacheOwner owner;
      return tls_cache_;
    } catch (...) {  // no memory for the registration: use the shared lists only
      return nullptr;
    }
  }

  /// Owns a thread's cache: registers it, and on thread exit gives its blocks to the shared
  /// lists and folds its counters into retired_hits_.
  struct ThreadCacheOwner {
    ThreadBlockCache cache;
    ThreadCacheOwner() {
      CachingAllocator& a = instance();
      cache.epoch = a.epoch_.load(std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> lock(a.mutex_);
        a.threads_.push_back(&cache);
      }
      tls_cache_ = &cache;
    }
    ~ThreadCacheOwner() {
      CachingAllocator& a = instance();
      tls_cache_ = nullptr;
      tls_cache_gone_ = true;
      a.flush(cache);
      std::lock_guard<std::mutex> lock(a.mutex_);
      a.retired_hits_ += cache.hits.load(std::memory_order_relaxed);
      std::erase(a.threads_, &cache);
    }
    ThreadCacheOwner(const ThreadCacheOwner&) = delete;
    ThreadCacheOwner& operator=(const ThreadCacheOwner&) = delete;
  };

  /// Hands every block of a thread cache (its own thread's) to the shared lists.
  void flush(ThreadBlockCache& tc) noexcept {
    tc.epoch = epoch_.load(std::memory_order_relaxed);
    for (int c = 0; c < ThreadBlockCache::kClasses; ++c) {
      const std::size_t cb = class_size(c);
      while (tc.count[c] > 0) {
        void* p = tc.take(c, cb);
#if EMBER_ASAN
        ASAN_UNPOISON_MEMORY_REGION(p, cb);
#endif
        release_shared(p, c, cb);
      }
    }
  }

  void release_shared(void* p, int cls, std::size_t class_bytes) noexcept {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.bytes_in_use -= static_cast<std::int64_t>(class_bytes);
      const bool cache_it = caching_.load(std::memory_order_relaxed);
      if (cache_it) {
        touch(cls);
        make_room(cls, class_bytes);
      }
      if (cache_it && stats_.bytes_cached + static_cast<std::int64_t>(class_bytes) <=
                         static_cast<std::int64_t>(cap())) {
        try {
          free_[cls].push_back(p);
          // Poisoned while the lock is held: once it is released another thread may take the
          // block and unpoison it (poisoning after the unlock raced with that).
#if EMBER_ASAN
          ASAN_POISON_MEMORY_REGION(p, class_bytes);
#endif
          stats_.bytes_cached += static_cast<std::int64_t>(class_bytes);
          ++stats_.blocks_cached;
          return;
        } catch (...) {  // the free list itself could not grow: give the block back instead
        }
      }
      ++stats_.system_frees;
    }
    std::free(p);
  }

  /// Gives every block in the shared lists back to the system.
  void empty_shared() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int c = 0; c < kClasses; ++c) {
      for (void* p : free_[c]) give_back(p, class_size(c));
      free_[c].clear();
    }
    stats_.bytes_cached = 0;
    stats_.blocks_cached = 0;
  }

  CachingAllocator() {
    caching_.store(!EMBER_ASAN, std::memory_order_relaxed);
    if (const char* v = std::getenv("EMBER_ALLOCATOR"); v != nullptr && *v != '\0') {
      const std::string s(v);
      if (s == "system")
        caching_.store(false, std::memory_order_relaxed);
      else if (s == "caching")
        caching_.store(true, std::memory_order_relaxed);
      else
        fail("EMBER_ALLOCATOR", "expected 'system' or 'caching', got '", s, "'");
    }
    if (const char* v = std::getenv("EMBER_ALLOCATOR_CACHE_MB"); v != nullptr && *v != '\0') {
      char* end = nullptr;
      errno = 0;
      const unsigned long long mb = std::strtoull(v, &end, 10);
      if (end == v || *end != '\0' || errno != 0 || mb > (kMaxBytes >> 20) || v[0] == '-')
        fail("EMBER_ALLOCATOR_CACHE_MB", "expected a whole number of MiB, got '", v, "'");
      limit_.store(static_cast<std::size_t>(mb) << 20, std::memory_order_relaxed);
      auto_limit_.store(false, std::memory_order_relaxed);
    }
  }

  /// The cap in force (mutex held): the fixed limit, or under the automatic policy the larger of
  /// 1 GiB and twice the most bytes ever in use at once. Twice: a block of one size class cannot
  /// serve another, and during backward the freed activations sit in the cache beside gradients
  /// of other sizes (issue 14's MLM step: a cap of its peak in use still re-faulted 0.9 s of
  /// its 2.4 s step; 1.5 GiB and up ran it in 1.5 s).
  std::size_t cap() const {
    const std::size_t fixed = limit_.load(std::memory_order_relaxed);
    if (!auto_limit_.load(std::memory_order_relaxed)) return fixed;
    return std::max(fixed, 2 * static_cast<std::size_t>(lifetime_peak_));
  }

  void add_in_use(std::size_t bytes) {
    stats_.bytes_in_use += static_cast<std::int64_t>(bytes);
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use)
      stats_.peak_bytes_in_use = stats_.bytes_in_use;
    if (stats_.bytes_in_use > lifetime_peak_) lifetime_peak_ = stats_.bytes_in_use;
  }

  /// Marks size class `cls` as just used (mutex held).
  void touch(int cls) noexcept { last_use_[cls] = ++tick_; }

  /// Gives back cached blocks of the classes used least recently, other than `cls`, until a
  /// block of `class_bytes` fits under the cap or no other class has a cached block (mutex
  /// held). The scan over the classes runs only when the cache is full.
  void make_room(int cls, std::size_t class_bytes) noexcept {
    const auto limit = static_cast<std::int64_t>(cap());
    const auto need = static_cast<std::int64_t>(class_bytes);
    if (need > limit) return;  // it cannot fit whatever is given back
    while (stats_.bytes_cached + need > limit) {
      int oldest = -1;
      for (int c = 0; c < kClasses; ++c) {
        if (c != cls && !free_[c].empty() && (oldest < 0 || last_use_[c] < last_use_[oldest])) oldest = c;
      }
      if (oldest < 0) return;
      drop_cached(oldest);
    }
  }

  /// Frees cached blocks, largest classes first, until the cache fits the limit.
  void trim() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto limit = static_cast<std::int64_t>(cap());
    for (int c = kClasses - 1; c >= 0 && stats_.bytes_cached > limit; --c) {
      while (!free_[c].empty() && stats_.bytes_cached > limit) drop_cached(c);
    }
  }

  /// Gives the most recently cached block of class `c` back to the system (mutex held; the
  /// class has one).
  void drop_cached(int c) noexcept {
    const std::size_t bytes = class_size(c);
    give_back(free_[c].back(), bytes);
    free_[c].pop_back();
    stats_.bytes_cached -= static_cast<std::int64_t>(bytes);
    --stats_.blocks_cached;
  }

  /// Frees a cached block (mutex held).
  void give_back(void* p, std::size_t bytes) noexcept {
#if EMBER_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, bytes);
#endif
    (void)bytes;
    ++stats_.system_frees;
    std::free(p);
  }

  std::mutex mutex_;
  std::vector<void*> free_[kClasses];
  AllocatorStats stats_;
  std::atomic<bool> caching_{true};
  std::atomic<std::size_t> limit_{std::size_t{1} << 30};
  std::atomic<bool> auto_limit_{true};
  std::int64_t lifetime_peak_ = 0;  // the most bytes ever in use (not reset by reset_stats)
  // When each size class was last allocated or released through the shared lists (mutex held).
  std::uint64_t tick_ = 0;
  std::uint64_t last_use_[kClasses] = {};
  // Thread caches: the registry (mutex held), the hits of threads that have exited, the hit
  // count at the last reset_stats, and the epoch that empty_cache advances.
  std::vector<ThreadBlockCache*> threads_;
  std::int64_t retired_hits_ = 0;
  std::int64_t hits_base_ = 0;
  std::atomic<std::uint64_t> epoch_{0};
  static inline thread_local ThreadBlockCache* tls_cache_ = nullptr;
  static inline thread_local bool tls_cache_gone_ = false;
};

}  // namespace detail

/// The allocator's counters. Safe to call from any thread.
inline AllocatorStats allocator_stats() { return detail::CachingAllocator::instance().stats(); }
/// Zeroes the counters (bytes in use and cached are kept; the peak restarts from bytes in use).
inline void reset_allocator_stats() { detail::CachingAllocator::instance().reset_stats(); }
/// Gives every cached block back to the system (blocks in use are untouched).
inline void empty_allocator_cache() { detail::CachingAllocator::instance().empty_cache(); }
/// Turns caching on or off (off: every block comes from and goes back to the system; turning it
/// off empties the cache). On by default, except under AddressSanitizer; EMBER_ALLOCATOR=system
/// or =caching sets the default.
inline void set_allocator_caching(bool on) { detail::CachingAllocator::instance().set_caching(on); }
inline bool allocator_caching() { return detail::CachingAllocator::instance().caching(); }
/// A fixed cap on the bytes the cache may hold (EMBER_ALLOCATOR_CACHE_MB sets one in MiB);
/// lowering it frees cached blocks at once.
inline void set_allocator_cache_limit(std::size_t bytes) {
  detail::CachingAllocator::instance().set_limit(bytes);
}
/// Back to the default policy: the cap is the larger of `floor` (1 GiB by default) and twice the
/// most bytes the program has had in use at once.
inline void set_allocator_cache_limit_auto(std::size_t floor = std::size_t{1} << 30) {
  detail::CachingAllocator::instance().set_auto_limit(floor);
}
inline bool allocator_cache_limit_is_auto() { return detail::CachingAllocator::instance().auto_limit(); }
/// The cap in force now.
inline std::size_t allocator_cache_limit() { return detail::CachingAllocator::instance().limit(); }

}  // namespace ember
