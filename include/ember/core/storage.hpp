// ember/core/storage.hpp — Storage<T>: a shared, 64-byte aligned buffer of elements.
// Layer: core. Blocks come from the caching allocator (allocator.hpp). Tensors are views (shape, strides, offset) into a Storage; copying a Tensor
// copies the handle, not the data. The buffer is aligned to a cache line (64 bytes), which
// is also one AVX-512 register, so aligned vector loads work from element 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "ember/core/allocator.hpp"
#include "ember/core/error.hpp"

namespace ember {

/// A reference-counted element buffer; either owned (allocated here) or borrowed (wrapping
/// memory someone else owns, e.g. an Eigen matrix, whose lifetime the caller guarantees).
template <class T>
class Storage {
 public:
  Storage() = default;

  /// Allocates `n` uninitialised elements, 64-byte aligned, through the caching allocator
  /// (core/allocator.hpp). Throws ember::Error, naming `op`, on failure.
  static Storage allocate(std::int64_t n, std::string_view op = "allocate") {
    Storage s;
    s.size_ = n;
    if (n <= 0) {
      EMBER_CHECK(n == 0, op, "cannot allocate ", n, " elements");
      return s;
    }
    if (static_cast<std::uint64_t>(n) > detail::CachingAllocator::kMaxBytes / sizeof(T))
      detail::fail(op, "cannot allocate ", n, " elements of ", sizeof(T), " bytes");
    std::size_t class_bytes = 0;
    T* p = static_cast<T*>(detail::CachingAllocator::instance().allocate(
        static_cast<std::size_t>(n) * sizeof(T), class_bytes, op));
    // If the control block cannot be allocated, shared_ptr runs the deleter before throwing.
    s.ptr_ = std::shared_ptr<T>(
        p, [class_bytes](T* q) { detail::CachingAllocator::instance().release(q, class_bytes); });
    return s;
  }

  /// Wraps `n` elements at `p` without owning them; the caller keeps `p` alive.
  static Storage borrow(T* p, std::int64_t n) {
    Storage s;
    s.size_ = n;
    s.ptr_ = std::shared_ptr<T>(p, [](T*) {});
    s.borrowed_ = true;
    return s;
  }

  T* data() const { return ptr_.get(); }
  std::int64_t size() const { return size_; }
  /// True when both handles refer to the same buffer.
  bool same(const Storage& other) const { return ptr_ == other.ptr_ && ptr_ != nullptr; }
  long use_count() const { return ptr_.use_count(); }
  /// True when this handle is the only one and the buffer is ember's own (not borrowed), so
  /// writing into it in place cannot be seen anywhere else.
  bool exclusive() const { return !borrowed_ && ptr_.use_count() == 1; }

 private:
  std::shared_ptr<T> ptr_;
  std::int64_t size_ = 0;
  bool borrowed_ = false;
};

}  // namespace ember
