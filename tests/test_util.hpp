// Helpers shared by ember's tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <ember/ember.hpp>

/// Asserts that `stmt` throws ember::Error whose message contains `fragment`.
#define EXPECT_EMBER_ERROR(stmt, fragment)                                          \
  do {                                                                              \
    try {                                                                           \
      stmt;                                                                         \
      ADD_FAILURE() << "expected ember::Error containing \"" << (fragment) << "\""; \
    } catch (const ember::Error& e) {                                               \
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)            \
          << "message was: " << e.what();                                           \
    }                                                                               \
  } while (0)

template <class T>
std::vector<T> values(const ember::Tensor<T>& t) {
  return t.to_vector();
}
