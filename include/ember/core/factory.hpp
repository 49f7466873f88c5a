// ember/core/factory.hpp — functions that make new tensors: zeros, ones, full, arange, linspace,
// eye, rand, randn, randint, from_vector, and the *_like variants.
// Layer: core. Random factories draw from an explicit ember::Generator (default: the global one),
// so a seed fixes the result on every platform. The element type defaults to float.
#pragma once

#include <cmath>
#include <span>
#include <vector>

#include "ember/core/random.hpp"
#include "ember/core/tensor.hpp"

namespace ember {

/// Uninitialised contiguous tensor.
template <Scalar T = float>
Tensor<T> empty(const Shape& shape) {
  return Tensor<T>::empty(shape);
}

/// Tensor of `shape` filled with `value`. `ember::full<int32_t>({2, 2}, 7)`.
template <Scalar T = float>
Tensor<T> full(const Shape& shape, T value) {
  Tensor<T> t = Tensor<T>::empty(shape);
  t.fill_(value);
  return t;
}

template <Scalar T = float>
Tensor<T> zeros(const Shape& shape) {
  return full<T>(shape, T(0));
}

template <Scalar T = float>
Tensor<T> ones(const Shape& shape) {
  return full<T>(shape, T(1));
}

/// A 0-d tensor holding `value`.
template <Scalar T>
Tensor<T> scalar_tensor(T value) {
  return full<T>(Shape{}, value);
}

template <Scalar T>
Tensor<T> zeros_like(const Tensor<T>& t) {
  return zeros<T>(t.shape());
}
template <Scalar T>
Tensor<T> ones_like(const Tensor<T>& t) {
  return ones<T>(t.shape());
}
template <Scalar T>
Tensor<T> full_like(const Tensor<T>& t, T value) {
  return full<T>(t.shape(), value);
}
template <Scalar T>
Tensor<T> empty_like(const Tensor<T>& t) {
  return Tensor<T>::empty(t.shape());
}

/// Copies `values` into a tensor of `shape` (default: 1-D). Sizes must agree.
template <Scalar T>
Tensor<T> from_vector(std::span<const T> values, const Shape& shape) {
  std::int64_t n = checked_numel(shape, "from_vector", sizeof(T));
  EMBER_CHECK(n == static_cast<std::int64_t>(values.size()), "from_vector", values.size(),
              " values cannot fill shape ", shape, " (", n, " elements)");
  Tensor<T> t = Tensor<T>::empty(shape);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}
template <Scalar T>
Tensor<T> from_vector(const std::vector<T>& values, const Shape& shape) {
  return from_vector<T>(std::span<const T>(values), shape);
}
template <Scalar T>
Tensor<T> from_vector(const std::vector<T>& values) {
  return from_vector<T>(std::span<const T>(values),
                        Shape{static_cast<std::int64_t>(values.size())});
}

/// Values start, start+step, ... below `stop` (NumPy arange): ceil((stop-start)/step) elements.
template <Numeric T = float>
Tensor<T> arange(double start, double stop, double step = 1.0) {
  EMBER_CHECK(step != 0.0 && std::isfinite(step) && std::isfinite(start) && std::isfinite(stop),
              "arange", "invalid range start=", start, " stop=", stop, " step=", step);
  double len = std::ceil((stop - start) / step);
  EMBER_CHECK(len < 9.0e18, "arange", "range has too many elements");
  std::int64_t n = len > 0 ? static_cast<std::int64_t>(len) : 0;
  Tensor<T> t = Tensor<T>::empty({n});
  T* p = t.data();
  for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * step);
  return t;
}
/// 0, 1, ..., n-1.
template <Numeric T = float>
Tensor<T> arange(std::int64_t n) {
  return arange<T>(0.0, static_cast<double>(n), 1.0);
}

/// `num` evenly spaced values from start to stop inclusive (NumPy linspace, endpoint=True).
template <FloatingScalar T = float>
Tensor<T> linspace(double start, double stop, std::int64_t num) {
  EMBER_CHECK(num >= 0, "linspace", "number of points must be non-negative, got ", num);
  Tensor<T> t = Tensor<T>::empty({num});
  T* p = t.data();
  double step = num > 1 ? (stop - start) / static_cast<double>(num - 1) : 0.0;
  for (std::int64_t i = 0; i < num; ++i)
    p[i] = static_cast<T>(start + static_cast<double>(i) * step);
  if (num > 1) p[num - 1] = static_cast<T>(stop);
  return t;
}

/// n×m matrix with ones on the diagonal (m defaults to n).
template <Scalar T = float>
Tensor<T> eye(std::int64_t n, std::int64_t m = -1) {
  if (m < 0) m = n;
  Tensor<T> t = zeros<T>({n, m});
  for (std::int64_t i = 0; i < std::min(n, m); ++i) t(i, i) = T(1);
  return t;
}

/// Uniform in [low, high).
template <FloatingScalar T = float>
Tensor<T> uniform(const Shape& shape, double low, double high,
                  Generator& gen = default_generator()) {
  EMBER_CHECK(low <= high, "uniform", "low ", low, " is greater than high ", high);
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data();
  for (std::int64_t i = 0, n = t.numel(); i < n; ++i) {
    if constexpr (std::is_same_v<T, double>) {
      p[i] = low + (high - low) * gen.next_double();
    } else {
      p[i] = static_cast<T>(static_cast<float>(low) +
                            static_cast<float>(high - low) * gen.next_float());
    }
  }
  return t;
}

/// Uniform in [0, 1), like torch.rand.
template <FloatingScalar T = float>
Tensor<T> rand(const Shape& shape, Generator& gen = default_generator()) {
  return uniform<T>(shape, 0.0, 1.0, gen);
}

/// Normal with the given mean and standard deviation.
template <FloatingScalar T = float>
Tensor<T> normal(const Shape& shape, double mean, double stddev,
                 Generator& gen = default_generator()) {
  EMBER_CHECK(stddev >= 0.0, "normal", "standard deviation must be non-negative, got ", stddev);
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data();
  for (std::int64_t i = 0, n = t.numel(); i < n; ++i) {
    p[i] = static_cast<T>(static_cast<compute_t<T>>(mean + stddev * gen.next_normal()));
  }
  return t;
}

/// Standard normal, like torch.randn.
template <FloatingScalar T = float>
Tensor<T> randn(const Shape& shape, Generator& gen = default_generator()) {
  return normal<T>(shape, 0.0, 1.0, gen);
}

/// Uniform integers in [low, high), like torch.randint.
template <IntegralScalar T = std::int64_t>
Tensor<T> randint(std::int64_t low, std::int64_t high, const Shape& shape,
                  Generator& gen = default_generator()) {
  EMBER_CHECK(low < high, "randint", "empty range [", low, ", ", high, ")");
  Tensor<T> t = Tensor<T>::empty(shape);
  T* p = t.data();
  std::uint64_t span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  for (std::int64_t i = 0, n = t.numel(); i < n; ++i) {
    p[i] = static_cast<T>(static_cast<std::uint64_t>(low) + gen.next_below(span));
  }
  return t;
}

/// A random permutation of 0..n-1 (Fisher-Yates), like torch.randperm.
inline Tensor<std::int64_t> randperm(std::int64_t n, Generator& gen = default_generator()) {
  Tensor<std::int64_t> t = arange<std::int64_t>(n);
  std::int64_t* p = t.data();
  for (std::int64_t i = n - 1; i > 0; --i) {
    std::swap(p[i], p[gen.next_below(static_cast<std::uint64_t>(i) + 1)]);
  }
  return t;
}

}  // namespace ember
