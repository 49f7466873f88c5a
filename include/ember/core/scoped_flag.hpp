// ember/core/scoped_flag.hpp — a thread-local switch held for a scope: the one mechanism behind
// NoGradGuard (autograd) and nn::init::SkipInit.
// Layer: core.
#pragma once

namespace ember::detail {

/// Sets the thread-local bool that `flag()` refers to to `value` for its lifetime, then
/// restores what it found, so guards nest.
template <bool& (*flag)(), bool value>
class ScopedFlag {
 public:
  ScopedFlag() : previous_(flag()) { flag() = value; }
  ~ScopedFlag() { flag() = previous_; }
  ScopedFlag(const ScopedFlag&) = delete;
  ScopedFlag& operator=(const ScopedFlag&) = delete;

 private:
  bool previous_;
};

}  // namespace ember::detail
