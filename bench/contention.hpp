// bench/contention.hpp — a competing busy process, for benchmarks of ember beside other work.
// Users run ember next to a browser, a build, or a second process of their own; on a 2-core
// machine one busy process takes a core's worth of time away, and a team of threads that waits
// for a descheduled member by spinning loses far more than that (issue 13, MACHINE.md).
// BusyProcess starts a shell that spins (`while :; do :; done`) until the object is destroyed
// (SIGKILL, then reaped), so the competitor lives exactly as long as the benchmark. It is a new
// program (posix_spawn), not a fork of this one: a forked child would share every page of the
// benchmark copy-on-write, and the benchmark would then fault on its own heap (a 45 ms encoder
// step took 500 ms beside a forked spinner, 46 ms beside a separate one).
#pragma once

#include <csignal>
#include <stdexcept>

#include <sys/types.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

extern char** environ;

namespace bench {

class BusyProcess {
 public:
  BusyProcess() {
    char sh[] = "/bin/sh", c[] = "-c", loop[] = "while :; do :; done";
    char* argv[] = {sh, c, loop, nullptr};
    if (posix_spawn(&pid_, sh, nullptr, nullptr, argv, environ) != 0)
      throw std::runtime_error("BusyProcess: cannot start /bin/sh");
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
