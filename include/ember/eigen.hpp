// ember/eigen.hpp — zero-copy interop with Eigen 3.4 (optional; not included by ember.hpp).
// Layer: above core; needs Eigen3::Eigen on the include path.
//   as_eigen(t)          Eigen::Map of a 2-D tensor whose rows are dense (stride(1) == 1):
//                        contiguous tensors and row slices; no copy, writes go to the tensor.
//   as_eigen_strided(t)  the same for any strides (Eigen handles the inner stride).
//   as_eigen_vector(t)   Eigen::Map of a 1-D tensor as a column vector.
//   from_eigen(m)        a Tensor view of any Eigen object with direct access (Matrix, Map,
//                        Block, Ref), row- or column-major. The tensor borrows the memory: it
//                        must not outlive `m`.
#pragma once

#include <type_traits>

#include <Eigen/Core>

#include "ember/core/tensor.hpp"

namespace ember {

template <class T>
using EigenRowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Map of a row-major matrix with a leading dimension (outer stride).
template <class T>
using EigenMap = Eigen::Map<EigenRowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

/// Map of a matrix with arbitrary row and column strides.
template <class T>
using EigenStridedMap =
    Eigen::Map<EigenRowMatrix<T>, Eigen::Unaligned, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

/// Map of a strided column vector.
template <class T>
using EigenVectorMap =
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>, Eigen::Unaligned, Eigen::InnerStride<>>;

/// Zero-copy Eigen view of a 2-D tensor with dense rows. `as_eigen(a) * as_eigen(b)`.
template <Numeric T>
EigenMap<T> as_eigen(const Tensor<T>& t) {
  EMBER_CHECK(t.dim() == 2, "as_eigen", "expects a 2-D tensor, got shape ", t.shape());
  EMBER_CHECK(t.stride(1) == 1 || t.size(1) <= 1, "as_eigen",
              "rows must be dense (stride(1) == 1), got strides ", t.strides(),
              "; use as_eigen_strided or contiguous()");
  return EigenMap<T>(t.data(), t.size(0), t.size(1),
                     Eigen::OuterStride<>(std::max<std::int64_t>(t.stride(0), t.size(1))));
}

/// Zero-copy Eigen view of any 2-D tensor (e.g. a transpose).
template <Numeric T>
EigenStridedMap<T> as_eigen_strided(const Tensor<T>& t) {
  EMBER_CHECK(t.dim() == 2, "as_eigen_strided", "expects a 2-D tensor, got shape ", t.shape());
  return EigenStridedMap<T>(
      t.data(), t.size(0), t.size(1),
      Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(t.stride(0), t.stride(1)));
}

/// Zero-copy Eigen column vector of a 1-D tensor.
template <Numeric T>
EigenVectorMap<T> as_eigen_vector(const Tensor<T>& t) {
  EMBER_CHECK(t.dim() == 1, "as_eigen_vector", "expects a 1-D tensor, got shape ", t.shape());
  return EigenVectorMap<T>(t.data(), t.size(0),
                           Eigen::InnerStride<>(std::max<std::int64_t>(t.stride(0), 1)));
}

/// A 2-D Tensor viewing the memory of an Eigen dense object (no copy). The Eigen object must
/// outlive the tensor; writes through the tensor change the Eigen object.
template <class M>
requires(static_cast<bool>(std::remove_cvref_t<M>::Flags& Eigen::DirectAccessBit))
    Tensor<typename std::remove_cvref_t<M>::Scalar> from_eigen(M&& m) {
  using Plain = std::remove_cvref_t<M>;
  using T = typename Plain::Scalar;
  static_assert(Numeric<T>, "from_eigen: the Eigen scalar type must be an ember Numeric type");
  const std::int64_t rows = m.rows(), cols = m.cols();
  const std::int64_t inner = m.innerStride(), outer = m.outerStride();
  const bool row_major = Plain::IsRowMajor;
  Strides st = row_major ? Strides{outer, inner} : Strides{inner, outer};
  std::int64_t extent = (rows && cols) ? (rows - 1) * st[0] + (cols - 1) * st[1] + 1 : 0;
  T* p = const_cast<T*>(m.data());
  return Tensor<T>::from_storage(Storage<T>::borrow(p, extent), {rows, cols}, st, 0);
}

}  // namespace ember
