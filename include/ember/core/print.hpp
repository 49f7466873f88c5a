// ember/core/print.hpp — NumPy-style text of a tensor: `std::cout << t`.
// Layer: core. Formatting follows numpy's str(): elements right-aligned to a common width,
// floats as "1." when all are integral, otherwise fixed with 4 decimals, or scientific when the
// magnitudes call for it; tensors of more than 1000 elements show 3 items at each edge of every
// long dim around "...". This is the only core header that includes <ostream>.
#pragma once

#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "ember/core/tensor.hpp"

namespace ember {

namespace detail {

struct PrintOptions {
  std::int64_t threshold = 1000;  // summarise above this many elements
  std::int64_t edgeitems = 3;     // items kept at each edge when summarising
};

// Which indices of a dim of size n are shown; -1 marks the "..." gap.
inline std::vector<std::int64_t> shown_indices(std::int64_t n, bool summarise, std::int64_t edge) {
  std::vector<std::int64_t> v;
  if (summarise && n > 2 * edge) {
    for (std::int64_t i = 0; i < edge; ++i) v.push_back(i);
    v.push_back(-1);
    for (std::int64_t i = n - edge; i < n; ++i) v.push_back(i);
  } else {
    for (std::int64_t i = 0; i < n; ++i) v.push_back(i);
  }
  return v;
}

// Formats the values of one tensor consistently (one mode for all elements).
class ElementFormatter {
 public:
  template <class T>
  explicit ElementFormatter(const std::vector<T>& values) {
    if constexpr (FloatingScalar<T>) {
      double max_abs = 0.0, min_abs = INFINITY;
      bool all_integral = true;
      for (T v : values) {
        double x = static_cast<double>(static_cast<compute_t<T>>(v));
        if (!std::isfinite(x)) continue;
        double a = std::fabs(x);
        max_abs = std::max(max_abs, a);
        if (a > 0) min_abs = std::min(min_abs, a);
        all_integral = all_integral && x == std::nearbyint(x);
      }
      if (all_integral && max_abs < 1e16)
        mode_ = Mode::Integral;
      else if (max_abs >= 1e8 || min_abs < 1e-4)
        mode_ = Mode::Scientific;
      else
        mode_ = Mode::Fixed;
    }
  }

  template <class T>
  std::string format(T v) const {
    if constexpr (std::is_same_v<T, bool>) {
      return v ? "True" : "False";
    } else if constexpr (IntegralScalar<T>) {
      return std::to_string(static_cast<std::int64_t>(v));  // int8_t is a char to streams
    } else {
      double x = static_cast<double>(static_cast<compute_t<T>>(v));
      if (std::isnan(x)) return "nan";
      if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
      char buf[64];
      switch (mode_) {
        case Mode::Integral:
          std::snprintf(buf, sizeof buf, "%.0f.", x);
          break;
        case Mode::Fixed:
          std::snprintf(buf, sizeof buf, "%.4f", x);
          break;
        case Mode::Scientific:
          std::snprintf(buf, sizeof buf, "%.4e", x);
          break;
      }
      return buf;
    }
  }

 private:
  enum class Mode { Integral, Fixed, Scientific };
  Mode mode_ = Mode::Fixed;
};

template <class T>
void print_block(std::string& out, const Tensor<T>& t, int level, std::int64_t offset,
                 const std::vector<std::vector<std::int64_t>>& shown,
                 const std::vector<std::string>& cells, std::size_t& cell, std::size_t width) {
  const int rank = t.dim();
  out.push_back('[');
  const auto& idx = shown[static_cast<std::size_t>(level)];
  for (std::size_t k = 0; k < idx.size(); ++k) {
    if (k > 0) {
      if (level == rank - 1) {
        out.push_back(' ');
      } else {
        out.append(static_cast<std::size_t>(rank - level - 1), '\n');
        out.append(static_cast<std::size_t>(level) + 1, ' ');
      }
    }
    if (idx[k] < 0) {
      out.append("...");
      continue;
    }
    std::int64_t off = offset + idx[k] * t.strides()[level];
    if (level == rank - 1) {
      const std::string& s = cells[cell++];
      out.append(width - s.size(), ' ');
      out.append(s);
    } else {
      print_block(out, t, level + 1, off, shown, cells, cell, width);
    }
  }
  out.push_back(']');
}

template <class T>
void collect(const Tensor<T>& t, int level, std::int64_t offset,
             const std::vector<std::vector<std::int64_t>>& shown, std::vector<T>& values) {
  for (std::int64_t i : shown[static_cast<std::size_t>(level)]) {
    if (i < 0) continue;
    std::int64_t off = offset + i * t.strides()[level];
    if (level == t.dim() - 1)
      values.push_back(t.storage().data()[off]);
    else
      collect(t, level + 1, off, shown, values);
  }
}

}  // namespace detail

/// numpy-style str() of a tensor, e.g. "[[1. 2.]\n [3. 4.]]".
template <class T>
std::string to_string(const Tensor<T>& t) {
  detail::PrintOptions opt;
  if (t.dim() == 0) {
    std::vector<T> v{*t.data()};
    return detail::ElementFormatter(v).format(v[0]);
  }
  if (t.numel() == 0) return "[]";
  bool summarise = t.numel() > opt.threshold;
  std::vector<std::vector<std::int64_t>> shown;
  shown.reserve(static_cast<std::size_t>(t.dim()));
  for (int d = 0; d < t.dim(); ++d) {
    shown.push_back(detail::shown_indices(t.shape()[d], summarise, opt.edgeitems));
  }
  std::vector<T> values;
  detail::collect(t, 0, t.offset(), shown, values);
  detail::ElementFormatter fmt(values);
  std::vector<std::string> cells;
  std::size_t width = 0;
  for (T v : values) {
    cells.push_back(fmt.format(v));
    width = std::max(width, cells.back().size());
  }
  std::string out;
  std::size_t cell = 0;
  detail::print_block(out, t, 0, t.offset(), shown, cells, cell, width);
  return out;
}

/// Prints numpy's str() of the tensor.
template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  return os << to_string(t);
}

inline std::ostream& operator<<(std::ostream& os, const Shape& s) {
  return os << s.to_string();
}

}  // namespace ember
