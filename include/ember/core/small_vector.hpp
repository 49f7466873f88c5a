// ember/core/small_vector.hpp — a vector that keeps its first N elements inside the object.
// Layer: core. A recorded autograd op holds its inputs and which of them need a gradient: one to
// three entries for nearly every op. In std::vectors those were two heap allocations (and two
// frees) per op, about a sixth of autograd's fixed cost per op on tiny tensors. Up to N elements
// live inline; past N they move to one heap array that doubles as it grows.
//
// The subset of std::vector's interface the graph needs: push_back, reserve, operator[], size,
// empty, clear, begin/end. Not copyable (a graph node is owned through a shared_ptr).
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace ember::detail {

template <class T, std::size_t N>
class SmallVector {
  static_assert(N > 0, "SmallVector needs room for at least one element inline");

 public:
  SmallVector() = default;
  SmallVector(const SmallVector&) = delete;
  SmallVector& operator=(const SmallVector&) = delete;
  SmallVector(SmallVector&&) = delete;
  SmallVector& operator=(SmallVector&&) = delete;
  ~SmallVector() = default;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return capacity_; }
  /// True while the elements live inside the object.
  bool is_inline() const { return heap_ == nullptr; }

  T* data() { return heap_ ? heap_.get() : inline_; }
  const T* data() const { return heap_ ? heap_.get() : inline_; }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }

  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }
  void push_back(T value) {
    if (size_ == capacity_) grow(2 * capacity_);
    data()[size_++] = std::move(value);
  }
  /// Removes every element (resetting each to T{}, so owning handles are released at once).
  void clear() {
    T* d = data();
    for (std::size_t i = 0; i < size_; ++i) d[i] = T{};
    size_ = 0;
  }

 private:
  void grow(std::size_t n) {
    std::unique_ptr<T[]> bigger = std::make_unique<T[]>(n);
    T* d = data();
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(d[i]);
    for (std::size_t i = 0; i < N; ++i) inline_[i] = T{};
    heap_ = std::move(bigger);
    capacity_ = n;
  }

  T inline_[N] = {};
  std::unique_ptr<T[]> heap_;
  std::size_t size_ = 0;
  std::size_t capacity_ = N;
};

}  // namespace ember::detail
