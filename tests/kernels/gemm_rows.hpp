// Helpers of the tests that walk the mixed-type GEMM kernel tables (test_gemm_mixed.cpp,
// test_gemm_packed.cpp).
#pragma once

#include <vector>

#include <ember/ember.hpp>

/// The rows of a kernel table this CPU can run at the level in force.
template <class Row>
std::vector<const Row*> runnable(const std::vector<Row>& rows) {
  std::vector<const Row*> out;
  for (const Row& r : rows)
    if (ember::detail::kernel_runnable(r)) out.push_back(&r);
  return out;
}
