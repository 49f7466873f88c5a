// Helpers for the autograd tests: random leaves and a gradcheck assertion.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "../test_util.hpp"

using V = ember::Var<double>;
using Inputs = std::vector<V>;

/// A double leaf with requires_grad, uniform in [lo, hi).
inline V leaf(const ember::Shape& s, ember::Generator& g, double lo = -1.0, double hi = 1.0) {
  return V(ember::uniform<double>(s, lo, hi, g), /*requires_grad=*/true);
}

/// The names of the ops whose backward a gradcheck has exercised in this process.
inline std::set<std::string>& covered_ops() {
  static std::set<std::string> names;
  return names;
}

/// Adds the name of every node of out's graph to covered_ops().
inline void record_ops(const V& out) {
  std::vector<const ember::Node<double>*> todo;
  if (out.impl()->grad_fn) todo.push_back(out.impl()->grad_fn.get());
  std::set<const ember::Node<double>*> seen;
  while (!todo.empty()) {
    const auto* n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) continue;
    covered_ops().insert(n->name());
    for (const auto& in : n->inputs)
      if (in && in->grad_fn) todo.push_back(in->grad_fn.get());
  }
}

// The gradcheck lists, one function per family of ops (each run by a TEST, and all of them by
// Gradcheck.EveryDifferentiableOpIsChecked, which compares what they cover with the op structs
// in include/ember/autograd).
void gradcheck_elementwise_and_reduce_ops();  // test_autograd.cpp
void gradcheck_nn_ops();                      // test_nn_ops.cpp
void gradcheck_shape_and_index_ops();         // test_nn_ops.cpp

/// Expects f's analytic gradients to match central differences.
inline void expect_grad_ok(const std::function<V(const Inputs&)>& f, const Inputs& in,
                           const char* what) {
  record_ops(f(in));
  auto r = ember::gradcheck<double>(f, in);
  EXPECT_TRUE(r.ok) << what << ": " << r.message << " (max abs error " << r.max_abs_error << ")";
}
