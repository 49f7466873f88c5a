// bench/contention.hpp — a competing busy process, for benchmarks of ember beside other work.
// Users run ember next to a browser, a build, or a second process of their own; on a 2-core
// machine one busy process takes a core's worth of time away, and a team of threads that waits
// for a descheduled member by spinning loses far more than that (issue 13, MACHINE.md).
// BusyProcess forks a child that spins on one core's worth of arithmetic until the object is
// destroyed (SIGKILL, then reaped), so the competitor lives exactly as long as the benchmark.
#pragma once

#include <csignal>
#include <cstdint>
#include <stdexcept>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench {

class BusyProcess {
 public:
  BusyProcess() {
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("BusyProcess: fork failed");
    if (pid_ == 0) {  // the child: async-signal-safe work only (it was forked from threads)
      volatile std::uint64_t x = 1;
      for (;;) x = x * 6364136223846793005ull + 1442695040888963407ull;
    }
  }
  ~BusyProcess() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  BusyProcess(const BusyProcess&) = delete;
  BusyProcess& operator=(const BusyProcess&) = delete;

 private:
  pid_t pid_;
};

}  // namespace bench
