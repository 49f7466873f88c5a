// ember/core/error.hpp — the one exception type and the helpers that build its messages.
// Layer: core (bottom). Every check in ember, in release builds too, throws ember::Error with a
// message that starts with the operation's name: "add: cannot broadcast [2,3] with [4,3]".
#pragma once

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "ember/config.hpp"

namespace ember {

/// The exception every ember operation throws on bad input; `what()` names the operation.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

inline void append(std::string& s, std::string_view v) {
  s.append(v);
}
inline void append(std::string& s, const char* v) {
  s.append(v);
}
inline void append(std::string& s, const std::string& v) {
  s.append(v);
}
inline void append(std::string& s, char v) {
  s.push_back(v);
}
inline void append(std::string& s, bool v) {
  s.append(v ? "true" : "false");
}

template <class T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool> &&
         !std::is_same_v<T, char>) void append(std::string& s, T v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  s.append(buf, res.ptr);
}

// Anything with a `to_string()` member (Shape) prints itself.
template <class T>
requires requires(const T& t) {
  { t.to_string() } -> std::convertible_to<std::string>;
}
void append(std::string& s, const T& v) {
  s.append(v.to_string());
}

/// Concatenates the parts into one message.
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (append(s, parts), ...);
  return s;
}

/// Throws ember::Error("<op>: <parts...>"). Marked cold: it is never on a hot path.
template <class... Parts>
[[noreturn]] [[gnu::cold]] [[gnu::noinline]] void fail(std::string_view op, const Parts&... parts) {
  throw Error(cat(op, ": ", parts...));
}

}  // namespace detail
}  // namespace ember

/// Checks `cond` in every build; on failure throws ember::Error("<op>: <parts...>").
#define EMBER_CHECK(cond, op, ...)            \
  do {                                        \
    if (!(cond)) [[unlikely]]                 \
      ::ember::detail::fail(op, __VA_ARGS__); \
  } while (0)
