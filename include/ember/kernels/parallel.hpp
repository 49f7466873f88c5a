// ember/kernels/parallel.hpp — the thread count and parallel_for, on ember's thread pool.
// Layer: kernels. One decision per call, made outside the inner loops: split [begin, end) into
// one contiguous chunk per thread, only when there is at least `grain` work per thread. Nested
// calls (from inside a team, or from inside a user's OpenMP parallel region) run serially.
// The threads are ember's own (thread_pool.hpp: waits that yield the core to a busy machine);
// OpenMP sets the default count (OMP_NUM_THREADS). Without OpenMP the default is 1 thread.
// An exception thrown by a chunk is carried out of the region and rethrown on the caller.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "ember/config.hpp"
#include "ember/core/error.hpp"
#include "ember/kernels/thread_pool.hpp"

#if EMBER_HAS_OPENMP
#include <omp.h>
#endif

namespace ember {

/// The most threads set_num_threads accepts. OpenMP runtimes give each thread a stack of
/// megabytes; a team of hundreds of thousands overflows the runtime (libgomp and libomp both
/// crash), and no machine ember runs on has more hardware threads than this.
inline constexpr int kMaxThreads = 1024;

namespace detail {
// Read by every kernel call, possibly from several threads while another sets it: atomic.
inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{0};  // 0: not set, follow OpenMP (OMP_NUM_THREADS)
  return n;
}
}  // namespace detail

/// Number of threads ember's kernels use. Defaults to OpenMP's (honours OMP_NUM_THREADS).
/// Safe to call from any thread.
inline int num_threads() {
  const int n = detail::thread_setting().load(std::memory_order_relaxed);
  if (n > 0) return n;
#if EMBER_HAS_OPENMP
  return std::min(omp_get_max_threads(), kMaxThreads);
#else
  return 1;
#endif
}

/// Sets the number of threads for ember's kernels (1 ≤ n ≤ kMaxThreads).
inline void set_num_threads(int n) {
  EMBER_CHECK(n >= 1 && n <= kMaxThreads, "set_num_threads", "thread count must be between 1 and ",
              kMaxThreads, ", got ", n);
  detail::thread_setting().store(n, std::memory_order_relaxed);
}

namespace detail {
/// The threads a kernel starting here may use: 1 inside a team of ember's pool or a user's
/// OpenMP parallel region (nested parallelism runs serially), else num_threads().
inline int available_threads() {
  if (in_team_job()) return 1;
#if EMBER_HAS_OPENMP
  if (omp_in_parallel()) return 1;
#endif
  return num_threads();
}
}  // namespace detail

/// Calls f(lo, hi) over disjoint chunks covering [begin, end), in parallel when each thread gets
/// at least `grain` iterations.
template <class F>
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain, F&& f) {
  const std::int64_t n = end - begin;
  if (n <= 0) return;
  int nt = detail::available_threads();
  nt = static_cast<int>(
      std::min<std::int64_t>(nt, std::max<std::int64_t>(1, n / std::max<std::int64_t>(grain, 1))));
  if (nt <= 1) {
    f(begin, end);
    return;
  }
  // A few chunks per thread, claimed from per-thread ranges and taken from a late thread's range
  // by the others (PhasedWork), so a descheduled thread does not hold the call up.
  const std::int64_t chunks =
      std::min<std::int64_t>(std::int64_t{nt} * 4, std::max<std::int64_t>(nt, n / std::max<std::int64_t>(grain, 1)));
  detail::PhasedWork work(nt);
  auto job = [&](int t, int) {
    detail::PhasedWork::Member me(work, t);
    me.phase(chunks, [&](std::int64_t c) {
      const std::int64_t step = (n + chunks - 1) / chunks;
      const std::int64_t lo = begin + c * step, hi = std::min(end, lo + step);
      if (lo < hi) f(lo, hi);
    });
  };
  detail::run_in_pool(nt, job);
}

}  // namespace ember
