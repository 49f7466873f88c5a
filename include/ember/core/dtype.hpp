// ember/core/dtype.hpp — the element types a Tensor can hold, and bfloat16.
// Layer: core. `Tensor<T>` is templated on T; this header says which T are allowed
// (the `Scalar` concept), what each is called, and in which type arithmetic on it is done.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ember {

/// Brain floating point: the top 16 bits of an IEEE float (8-bit exponent, 7-bit mantissa).
/// A storage type: arithmetic converts to float, computes, and rounds back (nearest-even).
struct bfloat16 {
  std::uint16_t bits = 0;

  constexpr bfloat16() = default;
  /// Rounds to nearest, ties to even; NaN stays a (quiet) NaN.
  constexpr explicit bfloat16(float f) : bits(round_from(f)) {}
  /// Widening to float is exact, so it is implicit.
  constexpr operator float() const { return std::bit_cast<float>(std::uint32_t{bits} << 16); }

  static constexpr bfloat16 from_bits(std::uint16_t b) {
    bfloat16 r;
    r.bits = b;
    return r;
  }

 private:
  static constexpr std::uint16_t round_from(float f) {
    std::uint32_t u = std::bit_cast<std::uint32_t>(f);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0) {
      return static_cast<std::uint16_t>((u >> 16) | 0x0040u);  // quiet NaN, sign kept
    }
    std::uint32_t lsb = (u >> 16) & 1u;
    u += 0x7fffu + lsb;
    return static_cast<std::uint16_t>(u >> 16);
  }
};
static_assert(sizeof(bfloat16) == 2 && std::is_trivially_copyable_v<bfloat16>);

/// Runtime tag of an element type, for messages, printing and file formats.
enum class DType : std::uint8_t { Bool, Int32, Int64, Float32, Float64, BFloat16, Int8, UInt8 };

namespace detail {
template <class T>
inline constexpr bool is_scalar_v =
    std::is_same_v<T, bool> || std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, bfloat16> ||
    std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>;
}  // namespace detail

/// The element types a Tensor may hold: bool, int32_t, int64_t, float, double, bfloat16, and
/// int8_t / uint8_t (quantised values: quantize(), the int8 GEMM).
template <class T>
concept Scalar = detail::is_scalar_v<T>;

/// Scalars with arithmetic (everything but bool).
template <class T>
concept Numeric = Scalar<T> && !std::is_same_v<T, bool>;

/// Floating-point scalars: float, double, bfloat16.
template <class T>
concept FloatingScalar =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, bfloat16>;

/// Integer scalars: int32_t, int64_t, int8_t, uint8_t.
template <class T>
concept IntegralScalar = std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t> ||
                         std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>;

/// The type arithmetic on T is carried out in: float for bfloat16, T itself otherwise.
template <class T>
using compute_t = std::conditional_t<std::is_same_v<T, bfloat16>, float, T>;

/// The DType tag of a Scalar type, e.g. `dtype_of<float> == DType::Float32`.
template <Scalar T>
inline constexpr DType dtype_of = std::is_same_v<T, bool>           ? DType::Bool
                                  : std::is_same_v<T, std::int32_t> ? DType::Int32
                                  : std::is_same_v<T, std::int64_t> ? DType::Int64
                                  : std::is_same_v<T, float>        ? DType::Float32
                                  : std::is_same_v<T, double>       ? DType::Float64
                                  : std::is_same_v<T, std::int8_t>  ? DType::Int8
                                  : std::is_same_v<T, std::uint8_t> ? DType::UInt8
                                                                    : DType::BFloat16;

/// NumPy/PyTorch-style name: "bool", "int32", "int64", "float32", "float64", "bfloat16", "int8",
/// "uint8".
constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Bool:
      return "bool";
    case DType::Int32:
      return "int32";
    case DType::Int64:
      return "int64";
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
    case DType::BFloat16:
      return "bfloat16";
    case DType::Int8:
      return "int8";
    case DType::UInt8:
      return "uint8";
  }
  return "unknown";
}

/// Size in bytes of one element of the given type.
constexpr int dtype_size(DType t) {
  switch (t) {
    case DType::Bool:
      return 1;
    case DType::Int32:
      return 4;
    case DType::Int64:
      return 8;
    case DType::Float32:
      return 4;
    case DType::Float64:
      return 8;
    case DType::BFloat16:
      return 2;
    case DType::Int8:
    case DType::UInt8:
      return 1;
  }
  return 0;
}

}  // namespace ember
