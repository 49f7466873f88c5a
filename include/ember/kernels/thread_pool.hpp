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
//   - The caller of run() is thread 0 of the team; workers are started on first use and kept
//     (at most kMaxThreads). The team is elastic: workers take seats as they wake, and a worker
//     still asleep or descheduled when the caller has finished does not join at all. Jobs are
//     written so that whoever is present does all the work (PhasedWork: items claimed from
//     per-thread ranges, then taken from the ranges of members that are late).
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

  /// Runs fn(ctx, tid, team) on the caller (tid 0) and on up to team - 1 workers, each with a
  /// distinct tid in [1, team). The team is elastic: a worker that has not taken its seat by
  /// the time the caller's own fn returns never runs the job, so fn must finish all the work
  /// whoever turns up (PhasedWork, below). Returns when every member that joined has finished,
  /// rethrowing the first exception any of them threw. Serial (team 1) when called from inside
  /// a job or while another thread's team is running.
  void run(int team, JobFn fn, void* ctx) {
    std::unique_lock<std::mutex> lock(run_mutex_, std::try_to_lock);
    if (team <= 1 || in_team_job() || !lock.owns_lock()) {
      run_serial(fn, ctx);
      return;
    }
    ensure_workers(team - 1);
    // The job is written before the seats are opened (release) and not touched again until
    // every member that took a seat has left (acquire).
    fn_ = fn;
    ctx_ = ctx;
    team_ = team;
    error_ = nullptr;
    left_.store(0, std::memory_order_relaxed);
    seats_.store(team - 1, std::memory_order_seq_cst);
    for (int w = 0; w < team - 1; ++w) {
      Worker& wk = *workers_[static_cast<std::size_t>(w)];
      wk.start.fetch_add(1, std::memory_order_seq_cst);
      Waiter::notify_change(wk.start, wk.sleepers);
    }
    run_member(0);
    // Close the seats: workers that have not joined yet will not.
    const int unclaimed = seats_.exchange(0, std::memory_order_acq_rel);
    const auto joined = static_cast<std::uint32_t>(team - 1 - unclaimed);
    for (;;) {
      const std::uint32_t l = left_.load(std::memory_order_acquire);
      if (l >= joined) break;
      Waiter::wait_change(left_, l, left_sleepers_);
    }
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  struct alignas(64) Worker {
    std::atomic<std::uint32_t> start{0};  // bumped once per job this worker is invited to
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
      p.seats_.store(0);
      p.left_.store(0);
      p.left_sleepers_.store(0);
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
      auto w = std::make_unique<Worker>();
      Worker* wp = w.get();
      try {
        w->thread = std::make_unique<std::thread>([this, wp] { loop(*wp); });
      } catch (const std::system_error& e) {
        fail("parallel", "cannot start worker thread ", workers_.size() + 1, ": ", e.what());
      }
      workers_.push_back(std::move(w));
    }
  }

  void loop(Worker& w) {
    std::uint32_t seen = 0;
    for (;;) {
      Waiter::wait_change(w.start, seen, w.sleepers);
      seen = w.start.load(std::memory_order_acquire);  // one attempt per wake, however many bumps
      // Take a seat if the job still has one; its number is this member's tid.
      int s = seats_.load(std::memory_order_acquire);
      while (s > 0 && !seats_.compare_exchange_weak(s, s - 1, std::memory_order_acq_rel)) {
      }
      if (s <= 0) continue;  // the caller closed the job (or others took the seats)
      run_member(team_ - s);
      left_.fetch_add(1, std::memory_order_seq_cst);
      Waiter::notify_change(left_, left_sleepers_);
    }
  }

  std::mutex run_mutex_;    // one team at a time
  std::mutex error_mutex_;  // first exception of a team
  std::vector<std::unique_ptr<Worker>> workers_;
  JobFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int team_ = 0;
  std::exception_ptr error_;
  std::atomic<int> seats_{0};            // seats still open in the current job
  std::atomic<std::uint32_t> left_{0};   // members that finished the current job
  std::atomic<int> left_sleepers_{0};
};

/// The work of one team call as a sequence of phases, for an elastic team (ThreadPool::run).
/// Phase p has `items` items, split into `team` contiguous owner ranges. A member claims the
/// items of its own range first (so each thread mostly touches data it prepared itself), then
/// unclaimed items of the others' ranges: a member that is late, descheduled, or never joined
/// has its work done by the others. Each phase starts when the previous one has completed, which
/// replaces the barrier between them. Every member calls phase() with the same sequence of item
/// counts and finish() at the end.
class PhasedWork {
 public:
  static constexpr int kMaxTeam = 64;

  explicit PhasedWork(int team) : team_(std::min(team, kMaxTeam)) {}
  PhasedWork(const PhasedWork&) = delete;
  PhasedWork& operator=(const PhasedWork&) = delete;

  int team() const { return team_; }

  /// One member's view: its tid and its position in the sequence of phases.
  class Member {
   public:
    Member(PhasedWork& w, int tid) : w_(w), tid_(tid % w.team_) {}

    /// Runs f(item) for items of this phase until none is left unclaimed.
    template <class F>
    void phase(std::int64_t items, F&& f) {
      const std::uint32_t p = ++phase_;  // phases are numbered from 1; cursor tag 0 is "none"
      const int team = w_.team_;
      if (team == 1) {
        // Alone: no one to claim from or to wait for, so no atomic read-modify-write per item.
        // Each one was a full fence that waited for the item's stores to drain (a packed
        // sliver): `lock xadd` held 65% of the bf16 driver's own time in the 1-thread
        // transformer step, 5% of the step (perf, bench_models models/transformer/train/bf16/t1).
        for (std::int64_t i = 0; i < items; ++i) f(i);
        target_ += static_cast<std::uint32_t>(items);
        w_.completed_.store(target_, std::memory_order_release);
        return;
      }
      w_.wait_completed(target_);
      for (int o = 0; o < team; ++o) {  // open phase p on every owner's cursor (idempotent)
        auto& cur = w_.cursor_[o].v;
        std::uint64_t v = cur.load(std::memory_order_acquire);
        while (tag(v) < p && !cur.compare_exchange_weak(v, std::uint64_t{p} << 32,
                                                        std::memory_order_acq_rel)) {
        }
      }
      const auto end_target = target_ + static_cast<std::uint32_t>(items);
      for (int k = 0; k < team; ++k) {
        const int o = (tid_ + k) % team;
        const std::int64_t lo = items * o / team, hi = items * (o + 1) / team;
        auto& cur = w_.cursor_[o].v;
        std::uint64_t v = cur.load(std::memory_order_acquire);
        while (tag(v) == p && lo + static_cast<std::int64_t>(v & 0xFFFFFFFFu) < hi) {
          if (!cur.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
          // An item that throws still counts as done, so the others never wait for it; the
          // exception leaves this member's job and reaches the caller through the pool.
          struct Done {
            PhasedWork& w;
            std::uint32_t end;
            ~Done() {
              if (w.completed_.fetch_add(1, std::memory_order_acq_rel) + 1 == end)
                Waiter::notify_change(w.completed_, w.sleepers_);
            }
          } done{w_, end_target};
          f(lo + static_cast<std::int64_t>(v & 0xFFFFFFFFu));
          v = cur.load(std::memory_order_acquire);
        }
      }
      target_ = end_target;
    }

    /// Waits until every item of every phase so far is done (the last phase's results are
    /// complete when this returns).
    void finish() { w_.wait_completed(target_); }

   private:
    static std::uint32_t tag(std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); }
    PhasedWork& w_;
    int tid_;
    std::uint32_t phase_ = 0;
    std::uint32_t target_ = 0;  // items completed by the end of the previous phase
  };

 private:
  void wait_completed(std::uint32_t target) {
    for (;;) {
      const std::uint32_t c = completed_.load(std::memory_order_acquire);
      if (c >= target) return;
      Waiter::wait_change(completed_, c, sleepers_);
    }
  }

  struct alignas(64) Cursor {
    std::atomic<std::uint64_t> v{0};  // (phase << 32) | items of the owner's range claimed
  };
  int team_;
  Cursor cursor_[kMaxTeam];
  alignas(64) std::atomic<std::uint32_t> completed_{0};  // items done, over all phases
  std::atomic<int> sleepers_{0};
};

/// Runs f(tid, team) on an elastic team of up to `team` threads of ember's pool (the caller is
/// tid 0; see ThreadPool::run for what f must guarantee).
template <class F>
void run_in_pool(int team, F& f) {
  ThreadPool::instance().run(
      team, [](void* ctx, int tid, int n) { (*static_cast<F*>(ctx))(tid, n); }, &f);
}

}  // namespace ember::detail
