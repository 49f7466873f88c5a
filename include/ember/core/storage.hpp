// ember/core/storage.hpp — Storage<T>: a shared, 64-byte aligned buffer of elements.
// Layer: core. Tensors are views (shape, strides, offset) into a Storage; copying a Tensor
// copies the handle, not the data. The buffer is aligned to a cache line (64 bytes), which
// is also one AVX-512 register, so aligned vector loads work from element 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "ember/core/error.hpp"

namespace ember {

/// Alignment, in bytes, of every buffer ember allocates.
inline constexpr std::size_t kAlignment = 64;

/// A reference-counted element buffer; either owned (allocated here) or borrowed (wrapping
/// memory someone else owns, e.g. an Eigen matrix, whose lifetime the caller guarantees).
template <class T>
class Storage {
 public:
  Storage() = default;

  /// Allocates `n` uninitialised elements, 64-byte aligned. Throws ember::Error on failure.
  static Storage allocate(std::int64_t n, std::string_view op = "allocate") {
    Storage s;
    s.size_ = n;
    if (n == 0) return s;
    // Round up to a whole number of alignment units, as std::aligned_alloc requires. It returns
    // null on failure (also under sanitizers), which becomes an ember::Error naming the size.
    std::size_t bytes = static_cast<std::size_t>(n) * sizeof(T);
    bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    T* p = static_cast<T*>(std::aligned_alloc(kAlignment, bytes));
    if (p == nullptr) detail::fail(op, "cannot allocate ", bytes, " bytes");
    s.ptr_ = std::shared_ptr<T>(p, [](T* q) { std::free(q); });
    return s;
  }

  /// Wraps `n` elements at `p` without owning them; the caller keeps `p` alive.
  static Storage borrow(T* p, std::int64_t n) {
    Storage s;
    s.size_ = n;
    s.ptr_ = std::shared_ptr<T>(p, [](T*) {});
    return s;
  }

  T* data() const { return ptr_.get(); }
  std::int64_t size() const { return size_; }
  /// True when both handles refer to the same buffer.
  bool same(const Storage& other) const { return ptr_ == other.ptr_ && ptr_ != nullptr; }
  long use_count() const { return ptr_.use_count(); }

 private:
  std::shared_ptr<T> ptr_;
  std::int64_t size_ = 0;
};

}  // namespace ember
