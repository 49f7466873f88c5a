// Helpers for the autograd tests: random leaves and a gradcheck assertion.
#pragma once

#include <functional>
#include <vector>

#include "../test_util.hpp"

using V = ember::Var<double>;
using Inputs = std::vector<V>;

/// A double leaf with requires_grad, uniform in [lo, hi).
inline V leaf(const ember::Shape& s, ember::Generator& g, double lo = -1.0, double hi = 1.0) {
  return V(ember::uniform<double>(s, lo, hi, g), /*requires_grad=*/true);
}

/// Expects f's analytic gradients to match central differences.
inline void expect_grad_ok(const std::function<V(const Inputs&)>& f, const Inputs& in,
                           const char* what) {
  auto r = ember::gradcheck<double>(f, in);
  EXPECT_TRUE(r.ok) << what << ": " << r.message << " (max abs error " << r.max_abs_error << ")";
}
