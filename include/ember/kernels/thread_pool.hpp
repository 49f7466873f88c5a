// ember/kernels/thread_pool.hpp — ember's own worker threads, with waits that give the core away.
// Layer: kernels. parallel_for and the GEMM drivers run their teams here instead of in OpenMP
// regions. Why: libgomp's threads spin at every barrier and between regions for up to
// GOMP_SPINCOUNT (300,000 pauses, milliseconds) before they sleep, and that can only be changed
// through environment variables read when the runtime loads. On a machine where another process
// is busy, a thread of the team is descheduled, and its partner spins through its whole time
// slice waiting for it: ember's 2-thread GEMM fell from 364 to 28 GFLOP/s at 1024³ beside one
// busy process (MACHINE.md). Here every wait spins for a few microseconds (long enough for a
// partner that is merely late), then yields the core, then sleeps on a futex (std::atomic::wait),
// so a descheduled partner gets the core back and the machine's other work is not starved.
//
//   - The caller of run() is thread 0 of the team; workers 1..team-1 are started on first use
//     and kept (at most kMaxThreads).
//   - One team at a time: a second user thread calling run() while a team is running runs its
//     job on its own thread (team of 1) instead of queueing behind it. A job that calls run()
//     from inside a team (nested parallelism) also runs serially.
//   - An exception thrown by any thread is carried to the caller and rethrown there.
//   - After fork(), the child starts with no workers (they do not survive fork) and makes new
//     ones on first use.
//
// Target: dispatch and join of a 2-thread team within 5 µs when the workers are awake, and a
// 2-thread GEMM ≥ 0.9× its 1-thread figure beside one busy process (bench_gemm
// BM_gemm_contended). Reached: see README, "Threads under contention".
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include "ember/core/error.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ember::detail {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Waits until `a` no longer holds `old`: spins for about kSpinUs, then yields the core for
/// about kYieldUs, then sleeps until notify_change wakes it. `sleepers` counts the threads in
/// the last phase, so that a notifier with nobody asleep makes no system call.
class Waiter {
 public:
  static constexpr int kSpinUs = 20, kYieldUs = 100;

  static void wait_change(const std::atomic<std::uint32_t>& a, std::uint32_t old,
                          std::atomic<int>& sleepers) {
    using Clock = std::chrono::steady_clock;
    for (int i = 0; i < 64; ++i) {  // the common case: the partner is a few hundred cycles late
      if (a.load(std::memory_order_acquire) != old) return;
      cpu_relax();
    }
    const auto start = Clock::now();
    const auto spin_until = start + std::chrono::microseconds(kSpinUs);
    const auto yield_until = start + std::chrono::microseconds(kSpinUs + kYieldUs);
    for (;;) {
      for (int i = 0; i < 32; ++i) {
        if (a.load(std::memory_order_acquire) != old) return;
        cpu_relax();
      }
      const auto now = Clock::now();
      if (now >= yield_until) break;
      if (now >= spin_until) std::this_thread::yield();
    }
    // Dekker-style handshake with notify_change (all seq_cst): either the notifier sees this
    // thread counted in `sleepers`, or this thread sees the new value.
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    while (a.load(std::memory_order_seq_cst) == old) a.wait(old, std::memory_order_seq_cst);
    sleepers.fetch_sub(1, std::memory_order_relaxed);
  }

  /// Wakes the threads sleeping in wait_change on `a` (call after changing `a`, seq_cst).
  static void notify_change(std::atomic<std::uint32_t>& a, const std::atomic<int>& sleepers) {
    if (sleepers.load(std::memory_order_seq_cst) > 0) a.notify_all();
  }
};

/// A reusable barrier for a team of `team` threads (sense by generation count).
class TeamBarrier {
 public:
  explicit TeamBarrier(int team) : team_(static_cast<std::uint32_t>(team)) {}
  void arrive_and_wait() {
    if (team_ <= 1) return;
    const std::uint32_t gen = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == team_) {
      count_.store(0, std::memory_order_relaxed);  // ordered before the release of gen_
      gen_.fetch_add(1, std::memory_order_seq_cst);
      Waiter::notify_change(gen_, sleepers_);
    } else {
      Waiter::wait_change(gen_, gen, sleepers_);
    }
  }

 private:
  std::uint32_t team_;
  std::atomic<std::uint32_t> count_{0};
  std::atomic<std::uint32_t> gen_{0};
  std::atomic<int> sleepers_{0};
};

inline bool& in_team_job() {
  thread_local bool inside = false;
  return inside;
}

class ThreadPool {
 public:
  using JobFn = void (*)(void* ctx, int tid, int team);

  static ThreadPool& instance() {
    // Never destroyed: workers may be asleep in it when static destructors run.
    static ThreadPool* pool = make();
    return *pool;
  }

  /// Runs fn(ctx, tid, team) for tid in [0, team), the caller as tid 0; returns when all have
  /// finished, rethrowing the first exception any of them threw. Serial (team 1) when called
  /// from inside a job or while another thread's team is running.
  void run(int team, JobFn fn, void* ctx) {
    std::unique_lock<std::mutex> lock(run_mutex_, std::try_to_lock);
    if (team <= 1 || in_team_job() || !lock.owns_lock()) {
      run_serial(fn, ctx);
      return;
    }
    ensure_workers(team - 1);
    // The job is written before the members' mailboxes are bumped (release) and not touched
    // again until every member has counted itself out of remaining_ (acquire).
    fn_ = fn;
    ctx_ = ctx;
    team_ = team;
    error_ = nullptr;
    remaining_.store(static_cast<std::uint32_t>(team - 1), std::memory_order_relaxed);
    const std::uint32_t done_gen = done_.load(std::memory_order_relaxed);
    for (int w = 0; w < team - 1; ++w) {
      Worker& wk = *workers_[static_cast<std::size_t>(w)];
      wk.start.fetch_add(1, std::memory_order_seq_cst);
      Waiter::notify_change(wk.start, wk.sleepers);
    }
    run_member(0);
    while (remaining_.load(std::memory_order_acquire) != 0)
      Waiter::wait_change(done_, done_gen, done_sleepers_);
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  struct alignas(64) Worker {
    std::atomic<std::uint32_t> start{0};  // bumped once per job this worker is a member of
    std::atomic<int> sleepers{0};
    std::unique_ptr<std::thread> thread;
  };

  static ThreadPool* make() {
    auto* pool = new ThreadPool();
#if defined(__unix__) || defined(__APPLE__)
    // A forked child has only the thread that called fork: forget the workers (their stacks and
    // objects are leaked in the child, as fork does to every other thread anyway).
    pthread_atfork(nullptr, nullptr, [] {
      ThreadPool& p = ThreadPool::instance();
      for (auto& w : p.workers_) {
        (void)w->thread.release();
        (void)w.release();
      }
      p.workers_.clear();
      p.done_.store(0);
      p.done_sleepers_.store(0);
      p.remaining_.store(0);
      new (&p.run_mutex_) std::mutex();  // whoever held it in the parent does not exist here
      new (&p.error_mutex_) std::mutex();
    });
#endif
    return pool;
  }

  static void run_serial(JobFn fn, void* ctx) {
    const bool outer = in_team_job();
    in_team_job() = true;
    try {
      fn(ctx, 0, 1);
    } catch (...) {
      in_team_job() = outer;
      throw;
    }
    in_team_job() = outer;
  }

  void run_member(int tid) {
    in_team_job() = true;
    try {
      fn_(ctx_, tid, team_);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    in_team_job() = false;
  }

  void ensure_workers(int n) {
    while (static_cast<int>(workers_.size()) < n) {
      const int tid = static_cast<int>(workers_.size()) + 1;
      auto w = std::make_unique<Worker>();
      Worker* wp = w.get();
      try {
        w->thread = std::make_unique<std::thread>([this, wp, tid] { loop(*wp, tid); });
      } catch (const std::system_error& e) {
        fail("parallel", "cannot start worker thread ", tid, ": ", e.what());
      }
      workers_.push_back(std::move(w));
    }
  }

  void loop(Worker& w, int tid) {
    std::uint32_t seen = 0;
    for (;;) {
      Waiter::wait_change(w.start, seen, w.sleepers);
      ++seen;  // exactly one job per bump: the caller waits for this member before the next
      run_member(tid);
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        done_.fetch_add(1, std::memory_order_seq_cst);
        Waiter::notify_change(done_, done_sleepers_);
      }
    }
  }

  std::mutex run_mutex_;    // one team at a time
  std::mutex error_mutex_;  // first exception of a team
  std::vector<std::unique_ptr<Worker>> workers_;
  JobFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int team_ = 0;
  std::exception_ptr error_;
  std::atomic<std::uint32_t> done_{0};  // bumped when the last worker of a job finishes
  std::atomic<std::uint32_t> remaining_{0};
  std::atomic<int> done_sleepers_{0};
};

/// Runs f(tid, team) on a team of `team` threads of ember's pool (the caller is tid 0).
template <class F>
void run_in_pool(int team, F& f) {
  ThreadPool::instance().run(
      team, [](void* ctx, int tid, int n) { (*static_cast<F*>(ctx))(tid, n); }, &f);
}

}  // namespace ember::detail
