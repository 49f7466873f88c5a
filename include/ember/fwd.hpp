// ember/fwd.hpp — forward declarations of ember's types, for headers that only name them.
#pragma once

#include <cstdint>

namespace ember {
class Error;
class Shape;
class Generator;
struct bfloat16;
template <class T>
class Storage;
template <class T>
class Tensor;
}  // namespace ember
