// ember/config.hpp — version, feature detection and the library's few macros.
// Layer: below core/. Included by every ember header; includes nothing heavy.
#pragma once

// The single source of the version: CMakeLists.txt reads these three lines.
#define EMBER_VERSION_MAJOR 0
#define EMBER_VERSION_MINOR 1
#define EMBER_VERSION_PATCH 0
#define EMBER_VERSION_STRING "0.1.0"

// OpenMP is optional: without it every parallel region runs serially.
#if defined(_OPENMP)
#define EMBER_HAS_OPENMP 1
#else
#define EMBER_HAS_OPENMP 0
#endif

// Unchecked element access (`Tensor::operator()`) is bounds-checked only when EMBER_DEBUG is
// defined; every other check (shapes, axes, `at()`) is on in all builds.
#if defined(EMBER_DEBUG)
#define EMBER_CHECK_UNCHECKED_ACCESS 1
#else
#define EMBER_CHECK_UNCHECKED_ACCESS 0
#endif

#define EMBER_RESTRICT __restrict__

// Small math functions called from element-wise loops: inlined always, so the loop around them
// vectorises. Left to the heuristics, g++ 12 sometimes emits exp_fast as a call (one scalar
// call per element: GELU's backward ran at 0.6 GB/s instead of 10 in one instantiation).
#if defined(__GNUC__)
#define EMBER_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define EMBER_ALWAYS_INLINE inline
#endif

namespace ember {
/// The library version as numbers, e.g. `ember::version_major == 0`.
inline constexpr int version_major = EMBER_VERSION_MAJOR;
inline constexpr int version_minor = EMBER_VERSION_MINOR;
inline constexpr int version_patch = EMBER_VERSION_PATCH;
}  // namespace ember
