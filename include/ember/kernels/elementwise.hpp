// ember/kernels/elementwise.hpp — element-wise math on tensors with NumPy broadcasting.
// Layer: kernels. One engine (map / map2 / map3 / apply2_) over core's StridedLoop; every op is a
// small functor handed to it. Inner loops have a dense path (all strides 1) and a
// broadcast-scalar path (one input stride 0) that the compiler vectorises at -O3, and a
// generic strided path. Work is split between threads above kGrainElementwise elements.
//
// Types: both operands have the same element type T (convert with `to<U>()`); comparisons give
// Tensor<bool>. Arithmetic on bfloat16 is done in float. Integer +, -, * wrap around on
// overflow (as NumPy), integer / truncates toward zero (as C++), and integer division by zero
// raises ember::Error instead of trapping.
#pragma once

#include <cmath>
#include <string_view>
#include <type_traits>

#include "ember/core/factory.hpp"
#include "ember/core/iterate.hpp"
#include "ember/core/tensor.hpp"
#include "ember/kernels/activation.hpp"
#include "ember/kernels/math.hpp"
#include "ember/kernels/math_avx2.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {

namespace detail {

/// Element-wise work below this many elements per thread stays on one thread: at ~1 ns per
/// element the dispatch and join of a team (a few µs) would dominate.
inline constexpr std::int64_t kGrainElementwise = 32768;

template <std::size_t N, class Kernel>
void run_parallel(const StridedLoop<N>& loop, Kernel&& kernel) {
  parallel_for(0, loop.numel(), kGrainElementwise,
               [&](std::int64_t lo, std::int64_t hi) { loop.run(lo, hi, kernel); });
}

/// NaN test that is simply false for integer types (no self-comparison warnings).
template <class T>
constexpr bool is_nan([[maybe_unused]] T x) {
  if constexpr (std::is_floating_point_v<T>)
    return x != x;
  else
    return false;
}

template <class T>
EMBER_ALWAYS_INLINE T wrapping_add(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}
template <class T>
EMBER_ALWAYS_INLINE T wrapping_sub(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
  } else {
    return a - b;
  }
}
template <class T>
EMBER_ALWAYS_INLINE T wrapping_mul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

/// A scalar map f that also has a __m256 form (math_avx2.hpp), which map runs in the AVX2 copy.
template <class Form, class F>
struct WithAvx2Form {
  using Avx2Form = Form;
  F f;
  template <class X>
  EMBER_ALWAYS_INLINE auto operator()(X x) const {
    return f(x);
  }
};
template <class Form, class F>
WithAvx2Form<Form, F> with_avx2_form(F f) {
  return {f};
}

/// Runs `body` (a float map f over x[0, n) into y) in the widest copy allowed; a map that
/// carries a __m256 form (WithAvx2Form) runs that form over the range in the AVX2 copy instead.
template <class F, class Body>
void run_float_map([[maybe_unused]] const float* x, [[maybe_unused]] float* y,
                   [[maybe_unused]] std::int64_t n, Body& body) {
#if EMBER_X86
  if constexpr (requires { typename F::Avx2Form; }) {
    with_widest_isa(body, [&] { avx2::map_ps<typename F::Avx2Form>(x, y, n); });
    return;
  }
#endif
  with_widest_isa(body);
}

/// out = f(x), element-wise; out is a new contiguous tensor of R.
template <Scalar R, Scalar T, class F>
Tensor<R> map(const Tensor<T>& x, F f) {
  using CT = compute_t<T>;
  Tensor<R> out = Tensor<R>::empty(x.shape());
  R* po = out.data();
  const T* px = x.data();
  if (x.is_contiguous()) {  // without the stride machinery (see map2)
    parallel_for(0, out.numel(), kGrainElementwise, [&](std::int64_t lo, std::int64_t hi) {
      auto body = [&] {
        for (std::int64_t i = lo; i < hi; ++i) po[i] = static_cast<R>(f(static_cast<CT>(px[i])));
      };
      // float → float maps (exp, tanh, sigmoid, …) in the widest copy allowed: in a build
      // without -march, `exp` of 16K floats ran at SSE2 speed (see the README's default-build
      // table). g++ 12 leaves exp and tanh scalar in the AVX2 copy (their clamps stay
      // branches), so a map that carries a __m256 form (WithAvx2Form) runs that one there.
      if constexpr (std::is_same_v<T, float> && std::is_same_v<R, float>) {
        run_float_map<F>(px + lo, po + lo, hi - lo, body);
      } else {
        body();
      }
    });
    return out;
  }
  StridedLoop<2> loop(x.shape(), {&out.strides(), &x.strides()});
  run_parallel(loop, [&](const auto& off, std::int64_t n, const auto& st) {
    R* o = po + off[0];
    const T* a = px + off[1];
    if (st[0] == 1 && st[1] == 1) {
      for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<CT>(a[i])));
    } else {
      for (std::int64_t i = 0; i < n; ++i) {
        o[i * st[0]] = static_cast<R>(f(static_cast<CT>(a[i * st[1]])));
      }
    }
  });
  return out;
}

/// The dense inner loop of map2: o[i] = f(x[i], y[i]) for i < n.
template <class R, class A, class B, class F>
EMBER_ALWAYS_INLINE void dense2_loop(const A* x, const B* y, R* o, std::int64_t n, F f) {
  using CA = compute_t<A>;
  using CB = compute_t<B>;
  for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<CA>(x[i]), static_cast<CB>(y[i])));
}

// Run-time dispatch (with_widest_isa, cpu.hpp) of the float arithmetic (add, sub, mul, div): a
// program built without -march flags (the default for a user of find_package(ember)) would
// otherwise run these loops with SSE2, 4 lanes. The functors are exact IEEE operations, so every copy gives the same bits.
// Measured in a default build (g++ 12 -O3, no -march; `a * b` with a fresh result, 1 thread,
// Zen 5, 12 bytes moved per element): 16K floats (L2-resident) 58 GB/s before the dispatch,
// 97 GB/s after (AVX-512 copy), 106 (AVX2 copy), 43 (generic); 4M floats (above L2) 20–22 GB/s
// on every copy, bound by memory bandwidth. Target: memory speed above L2 on every copy (met).
template <class R, class A, class B, class F>
void dense2(const A* x, const B* y, R* o, std::int64_t n, F f) {
  if constexpr (std::is_same_v<R, float> && std::is_same_v<A, float> && std::is_same_v<B, float> &&
                requires { requires F::kExact; }) {
    with_widest_isa([&] { dense2_loop(x, y, o, n, f); });
  } else {
    dense2_loop(x, y, o, n, f);
  }
}

/// out = f(a, b) with a and b broadcast together; out is a new contiguous tensor of R.
template <Scalar R, Scalar A, Scalar B, class F>
Tensor<R> map2(const Tensor<A>& a, const Tensor<B>& b, std::string_view op, F f) {
  using CA = compute_t<A>;
  using CB = compute_t<B>;
  const A* pa = a.data();
  const B* pb = b.data();
  if (a.shape() == b.shape() && a.is_contiguous() && b.is_contiguous()) {
    // The common case, without the broadcast and stride machinery: a third of the fixed cost
    // of a small op (autograd/op_overhead).
    Tensor<R> out = Tensor<R>::empty(a.shape());
    R* po = out.data();
    parallel_for(0, out.numel(), kGrainElementwise, [&](std::int64_t lo, std::int64_t hi) {
      dense2(pa + lo, pb + lo, po + lo, hi - lo, f);
    });
    return out;
  }
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor<R> out = Tensor<R>::empty(shape);
  Strides sa = broadcast_strides(a.shape(), a.strides(), shape);
  Strides sb = broadcast_strides(b.shape(), b.strides(), shape);
  StridedLoop<3> loop(shape, {&out.strides(), &sa, &sb});
  R* po = out.data();
  run_parallel(loop, [&](const auto& off, std::int64_t n, const auto& st) {
    R* o = po + off[0];
    const A* x = pa + off[1];
    const B* y = pb + off[2];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      dense2(x, y, o, n, f);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
      const CB yv = static_cast<CB>(*y);
      for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(static_cast<CA>(x[i]), yv));
    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
      const CA xv = static_cast<CA>(*x);
      for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<R>(f(xv, static_cast<CB>(y[i])));
    } else {
      for (std::int64_t i = 0; i < n; ++i) {
        o[i * st[0]] =
            static_cast<R>(f(static_cast<CA>(x[i * st[1]]), static_cast<CB>(y[i * st[2]])));
      }
    }
  });
  return out;
}

/// out = f(c, a, b) with all three broadcast together.
template <Scalar R, Scalar C, Scalar A, Scalar B, class F>
Tensor<R> map3(const Tensor<C>& c, const Tensor<A>& a, const Tensor<B>& b, std::string_view op,
               F f) {
  Shape shape = broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), op), b.shape(), op);
  Tensor<R> out = Tensor<R>::empty(shape);
  Strides sc = broadcast_strides(c.shape(), c.strides(), shape);
  Strides sa = broadcast_strides(a.shape(), a.strides(), shape);
  Strides sb = broadcast_strides(b.shape(), b.strides(), shape);
  StridedLoop<4> loop(shape, {&out.strides(), &sc, &sa, &sb});
  R* po = out.data();
  const C* pc = c.data();
  const A* pa = a.data();
  const B* pb = b.data();
  run_parallel(loop, [&](const auto& off, std::int64_t n, const auto& st) {
    R* o = po + off[0];
    const C* z = pc + off[1];
    const A* x = pa + off[2];
    const B* y = pb + off[3];
    for (std::int64_t i = 0; i < n; ++i) {
      o[i * st[0]] = static_cast<R>(f(static_cast<compute_t<C>>(z[i * st[1]]),
                                      static_cast<compute_t<A>>(x[i * st[2]]),
                                      static_cast<compute_t<B>>(y[i * st[3]])));
    }
  });
  return out;
}

/// self = f(self), in place.
template <Scalar T, class F>
const Tensor<T>& apply_(const Tensor<T>& self, std::string_view op, F f) {
  using CT = compute_t<T>;
  self.check_writable(op);
  T* p = self.data();
  if constexpr (std::is_same_v<T, float>) {
    if (self.is_contiguous()) {  // float maps in the widest copy, as map runs them
      parallel_for(0, self.numel(), kGrainElementwise, [&](std::int64_t lo, std::int64_t hi) {
        auto body = [&] {
          for (std::int64_t i = lo; i < hi; ++i) p[i] = static_cast<T>(f(static_cast<CT>(p[i])));
        };
        run_float_map<F>(p + lo, p + lo, hi - lo, body);
      });
      return self;
    }
  }
  StridedLoop<1> loop(self.shape(), {&self.strides()});
  run_parallel(loop, [&](const auto& off, std::int64_t n, const auto& st) {
    T* o = p + off[0];
    for (std::int64_t i = 0; i < n; ++i)
      o[i * st[0]] = static_cast<T>(f(static_cast<CT>(o[i * st[0]])));
  });
  return self;
}

/// self = f(self, other), in place; `other` broadcasts to self's shape (never the reverse).
/// An `other` that overlaps self in memory (but is not exactly self) is copied first, so the
/// result never depends on the order elements are visited in.
template <Scalar T, Scalar B, class F>
const Tensor<T>& apply2_(const Tensor<T>& self, const Tensor<B>& other_in, std::string_view op,
                         F f) {
  using CT = compute_t<T>;
  using CB = compute_t<B>;
  Shape shape = broadcast_shapes(self.shape(), other_in.shape(), op);
  EMBER_CHECK(shape == self.shape(), op, "output with shape ", self.shape(),
              " does not match the broadcast shape ", shape);
  self.check_writable(op);
  Tensor<B> other = other_in;
  if constexpr (std::is_same_v<T, B>) {
    if (other.storage().same(self.storage()) &&
        !(other.offset() == self.offset() && other.strides() == self.strides() &&
          other.shape() == self.shape())) {
      other = other.clone();
    }
  }
  Strides so = broadcast_strides(other.shape(), other.strides(), shape);
  StridedLoop<2> loop(shape, {&self.strides(), &so});
  T* ps = self.data();
  const B* po = other.data();
  run_parallel(loop, [&](const auto& off, std::int64_t n, const auto& st) {
    T* o = ps + off[0];
    const B* y = po + off[1];
    if (st[0] == 1 && st[1] == 1) {  // float arithmetic in the widest copy, as map2 runs it
      dense2(o, y, o, n, f);
    } else if (st[0] == 1 && st[1] == 0) {
      const CB yv = static_cast<CB>(*y);
      for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(f(static_cast<CT>(o[i]), yv));
    } else {
      for (std::int64_t i = 0; i < n; ++i) {
        o[i * st[0]] =
            static_cast<T>(f(static_cast<CT>(o[i * st[0]]), static_cast<CB>(y[i * st[1]])));
      }
    }
  });
  return self;
}

/// True if any element of t is zero (used to reject integer division by zero up front).
template <Scalar T>
bool any_zero(const Tensor<T>& t) {
  StridedLoop<1> loop(t.shape(), {&t.strides()});
  const T* p = t.data();
  bool found = false;
  loop.run(0, loop.numel(), [&](const auto& off, std::int64_t n, const auto& st) {
    for (std::int64_t i = 0; i < n; ++i) found = found || p[off[0] + i * st[0]] == T(0);
  });
  return found;
}

// The functors, one per op, shared by the tensor-tensor, tensor-scalar and in-place forms.
struct AddFn {
  static constexpr bool kExact = true;  // same bits at every ISA level (dense2)
  template <class T>
  EMBER_ALWAYS_INLINE T operator()(T a, T b) const {
    return wrapping_add(a, b);
  }
};
struct SubFn {
  static constexpr bool kExact = true;  // same bits at every ISA level (dense2)
  template <class T>
  EMBER_ALWAYS_INLINE T operator()(T a, T b) const {
    return wrapping_sub(a, b);
  }
};
struct MulFn {
  static constexpr bool kExact = true;  // same bits at every ISA level (dense2)
  template <class T>
  EMBER_ALWAYS_INLINE T operator()(T a, T b) const {
    return wrapping_mul(a, b);
  }
};
struct DivFn {  // integer divisors were checked for zero before the loop
  static constexpr bool kExact = true;
  template <class T>
  EMBER_ALWAYS_INLINE T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      return b == T(-1) ? wrapping_sub(T(0), a) : static_cast<T>(a / b);
    } else {
      return a / b;
    }
  }
};
struct MaximumFn {  // NaN propagates, as numpy.maximum
  template <class T>
  T operator()(T a, T b) const {
    return (a > b || is_nan(a)) ? a : b;
  }
};
struct MinimumFn {
  template <class T>
  T operator()(T a, T b) const {
    return (a < b || is_nan(a)) ? a : b;
  }
};
struct PowFn {
  template <class T>
  T operator()(T a, T b) const {
    return std::pow(a, b);
  }
};

template <Scalar T>
void check_int_divisor(const Tensor<T>& b, std::string_view op) {
  if constexpr (IntegralScalar<T>) {
    EMBER_CHECK(!any_zero(b), op, "integer division by zero");
  }
}

}  // namespace detail

// ---- binary arithmetic ---------------------------------------------------------------------
/// a + b with broadcasting. `ember::add(a, b)` or `a + b`.
template <Numeric T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::map2<T>(a, b, "add", detail::AddFn{});
}
template <Numeric T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::map2<T>(a, b, "sub", detail::SubFn{});
}
template <Numeric T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::map2<T>(a, b, "mul", detail::MulFn{});
}
/// a / b; integer division truncates and raises on a zero divisor.
template <Numeric T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check_int_divisor(b, "div");
  return detail::map2<T>(a, b, "div", detail::DivFn{});
}
/// Element-wise maximum; NaN propagates.
template <Numeric T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::map2<T>(a, b, "maximum", detail::MaximumFn{});
}
template <Numeric T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::map2<T>(a, b, "minimum", detail::MinimumFn{});
}
/// a ** b, element-wise (floating types).
template <FloatingScalar T>
Tensor<T> pow(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::map2<T>(a, b, "pow", detail::PowFn{});
}
template <FloatingScalar T>
Tensor<T> pow(const Tensor<T>& a, double exponent) {
  using CT = compute_t<T>;
  const CT e = static_cast<CT>(exponent);
  if (exponent == 2.0) return detail::map<T>(a, [](CT x) { return x * x; });
  return detail::map<T>(a, [e](CT x) { return std::pow(x, e); });
}

// ---- comparisons (Tensor<bool>) -------------------------------------------------------------
#define EMBER_DEFINE_COMPARISON(name, op_symbol)                                          \
  template <Scalar T>                                                                     \
  Tensor<bool> name(const Tensor<T>& a, const Tensor<T>& b) {                             \
    return detail::map2<bool>(a, b, #name, [](auto x, auto y) { return x op_symbol y; }); \
  }                                                                                       \
  template <Scalar T>                                                                     \
  Tensor<bool> operator op_symbol(const Tensor<T>& a, const Tensor<T>& b) {               \
    return name(a, b);                                                                    \
  }                                                                                       \
  template <Scalar T, class S>                                                            \
  requires std::is_arithmetic_v<S> Tensor<bool>                                           \
  operator op_symbol(const Tensor<T>& a, S s) {                                           \
    const auto v = static_cast<compute_t<T>>(s);                                          \
    return detail::map<bool>(a, [v](auto x) { return x op_symbol v; });                   \
  }                                                                                       \
  template <Scalar T, class S>                                                            \
  requires std::is_arithmetic_v<S> Tensor<bool>                                           \
  operator op_symbol(S s, const Tensor<T>& a) {                                           \
    const auto v = static_cast<compute_t<T>>(s);                                          \
    return detail::map<bool>(a, [v](auto x) { return v op_symbol x; });                   \
  }
EMBER_DEFINE_COMPARISON(eq, ==)
EMBER_DEFINE_COMPARISON(ne, !=)
EMBER_DEFINE_COMPARISON(lt, <)
EMBER_DEFINE_COMPARISON(le, <=)
EMBER_DEFINE_COMPARISON(gt, >)
EMBER_DEFINE_COMPARISON(ge, >=)
#undef EMBER_DEFINE_COMPARISON

/// True where x is NaN (numpy.isnan).
template <FloatingScalar T>
Tensor<bool> isnan(const Tensor<T>& a) {
  return detail::map<bool>(a, [](auto x) { return x != x; });
}
/// True where x is finite: neither NaN nor ±∞ (numpy.isfinite).
template <FloatingScalar T>
Tensor<bool> isfinite(const Tensor<T>& a) {
  return detail::map<bool>(a, [](auto x) { return std::isfinite(x); });
}

inline Tensor<bool> logical_and(const Tensor<bool>& a, const Tensor<bool>& b) {
  return detail::map2<bool>(a, b, "logical_and", [](bool x, bool y) { return x && y; });
}
inline Tensor<bool> logical_or(const Tensor<bool>& a, const Tensor<bool>& b) {
  return detail::map2<bool>(a, b, "logical_or", [](bool x, bool y) { return x || y; });
}
inline Tensor<bool> logical_not(const Tensor<bool>& a) {
  return detail::map<bool>(a, [](bool x) { return !x; });
}

/// cond ? a : b, element-wise, all three broadcast together (numpy.where).
template <Scalar T>
Tensor<T> where(const Tensor<bool>& cond, const Tensor<T>& a, const Tensor<T>& b) {
  return detail::map3<T>(cond, a, b, "where", [](bool c, auto x, auto y) { return c ? x : y; });
}
template <Scalar T>
Tensor<T> where(const Tensor<bool>& cond, const Tensor<T>& a, T b) {
  return where(cond, a, scalar_tensor<T>(b));
}
template <Scalar T>
Tensor<T> where(const Tensor<bool>& cond, T a, const Tensor<T>& b) {
  return where(cond, scalar_tensor<T>(a), b);
}
/// a where cond is true, b elsewhere, in cond's shape: `where(mask, 1.0f, 0.0f)`.
template <Scalar T>
Tensor<T> where(const Tensor<bool>& cond, T a, T b) {
  return detail::map<T>(cond, [a, b](bool c) { return c ? a : b; });
}

// ---- unary math ------------------------------------------------------------------------------
// Each op `name(x)` returns a new tensor; `name_(x)` overwrites x and returns it.
#define EMBER_DEFINE_UNARY(concept_, name, expr)                              \
  template <concept_ T>                                                       \
  Tensor<T> name(const Tensor<T>& t) {                                        \
    return detail::map<T>(t, [](compute_t<T> x) { return expr; });            \
  }                                                                           \
  template <concept_ T>                                                       \
  const Tensor<T>& name##_(const Tensor<T>& t) {                              \
    return detail::apply_(t, #name "_", [](compute_t<T> x) { return expr; }); \
  }
EMBER_DEFINE_UNARY(Numeric, neg, detail::wrapping_sub(compute_t<T>(0), x))
EMBER_DEFINE_UNARY(Numeric, abs,
                   (x < compute_t<T>(0) ? detail::wrapping_sub(compute_t<T>(0), x) : x))
EMBER_DEFINE_UNARY(Numeric, square, detail::wrapping_mul(x, x))
EMBER_DEFINE_UNARY(Numeric, relu, (x > compute_t<T>(0) || detail::is_nan(x) ? x : compute_t<T>(0)))
// Maps with a __m256 form for the AVX2 copy (see detail::map).
#if EMBER_X86
#define EMBER_AVX2_FORM(form, ...) detail::with_avx2_form<detail::avx2::form>(__VA_ARGS__)
#else
#define EMBER_AVX2_FORM(form, ...) __VA_ARGS__
#endif
#define EMBER_DEFINE_UNARY_AVX2(concept_, name, form, expr)                                         \
  template <concept_ T>                                                                             \
  Tensor<T> name(const Tensor<T>& t) {                                                              \
    return detail::map<T>(t, EMBER_AVX2_FORM(form, [](compute_t<T> x) { return expr; }));           \
  }                                                                                                 \
  template <concept_ T>                                                                             \
  const Tensor<T>& name##_(const Tensor<T>& t) {                                                    \
    return detail::apply_(t, #name "_", EMBER_AVX2_FORM(form, [](compute_t<T> x) { return expr; }));  \
  }
EMBER_DEFINE_UNARY_AVX2(FloatingScalar, exp, ExpForm, detail::exp(x))
EMBER_DEFINE_UNARY(FloatingScalar, log, std::log(x))
EMBER_DEFINE_UNARY(FloatingScalar, log1p, std::log1p(x))
EMBER_DEFINE_UNARY(FloatingScalar, sqrt, std::sqrt(x))
EMBER_DEFINE_UNARY(FloatingScalar, rsqrt, compute_t<T>(1) / std::sqrt(x))
EMBER_DEFINE_UNARY(FloatingScalar, sin, std::sin(x))
EMBER_DEFINE_UNARY(FloatingScalar, cos, std::cos(x))
EMBER_DEFINE_UNARY_AVX2(FloatingScalar, tanh, TanhForm, detail::tanh(x))
EMBER_DEFINE_UNARY_AVX2(FloatingScalar, sigmoid, SigmoidForm, compute_t<T>(1) / (compute_t<T>(1) + detail::exp(-x)))
#undef EMBER_DEFINE_UNARY
#undef EMBER_DEFINE_UNARY_AVX2
#undef EMBER_AVX2_FORM

/// How gelu is evaluated: exactly with erf (PyTorch's default) or with the tanh approximation.
enum class GeluApproximation { None, Tanh };

/// Gaussian error linear unit, x·Φ(x).
template <FloatingScalar T>
Tensor<T> gelu(const Tensor<T>& t, GeluApproximation approx = GeluApproximation::None) {
  using CT = compute_t<T>;
  if (approx == GeluApproximation::Tanh) {
    return detail::map<T>(t, [](CT x) {
      constexpr CT k = CT(0.7978845608028654);  // sqrt(2/pi)
      return CT(0.5) * x * (CT(1) + detail::tanh(k * (x + CT(0.044715) * x * x * x)));
    });
  }
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    // The pointer kernel: dispatched at run time, the same bits as the autograd op's.
    const Tensor<T> c = t.contiguous();
    Tensor<T> y = Tensor<T>::empty(c.shape());
    kernels::gelu_forward(c.data(), y.data(), c.numel());
    return y;
  } else {
    return detail::map<T>(t, [](CT x) { return detail::gelu_value(x); });
  }
}

/// Clamps every element into [lo, hi] (min(max(x, lo), hi), as numpy.clip); NaN stays NaN.
template <Numeric T>
Tensor<T> clamp(const Tensor<T>& t, T lo, T hi) {
  using CT = compute_t<T>;
  const CT l = static_cast<CT>(lo), h = static_cast<CT>(hi);
  return detail::map<T>(t, [l, h](CT x) { return x < l ? l : (x > h ? h : x); });
}
template <Numeric T>
const Tensor<T>& clamp_(const Tensor<T>& t, T lo, T hi) {
  using CT = compute_t<T>;
  const CT l = static_cast<CT>(lo), h = static_cast<CT>(hi);
  return detail::apply_(t, "clamp_", [l, h](CT x) { return x < l ? l : (x > h ? h : x); });
}

// ---- in-place arithmetic ---------------------------------------------------------------------
template <Numeric T>
const Tensor<T>& add_(const Tensor<T>& self, const Tensor<T>& other) {
  return detail::apply2_(self, other, "add_", detail::AddFn{});
}
template <Numeric T>
const Tensor<T>& sub_(const Tensor<T>& self, const Tensor<T>& other) {
  return detail::apply2_(self, other, "sub_", detail::SubFn{});
}
template <Numeric T>
const Tensor<T>& mul_(const Tensor<T>& self, const Tensor<T>& other) {
  return detail::apply2_(self, other, "mul_", detail::MulFn{});
}
template <Numeric T>
const Tensor<T>& div_(const Tensor<T>& self, const Tensor<T>& other) {
  detail::check_int_divisor(other, "div_");
  return detail::apply2_(self, other, "div_", detail::DivFn{});
}

// ---- operators -------------------------------------------------------------------------------
// Tensor ⊕ Tensor, Tensor ⊕ scalar, scalar ⊕ Tensor, and the compound assignments (which write
// through the handle, so `t.slice(0, 1) += 1` updates t).
#define EMBER_DEFINE_ARITH_OPERATOR(op_symbol, name)                               \
  template <Numeric T>                                                             \
  Tensor<T> operator op_symbol(const Tensor<T>& a, const Tensor<T>& b) {           \
    return name(a, b);                                                             \
  }                                                                                \
  template <Numeric T, class S>                                                    \
  requires std::is_arithmetic_v<S> Tensor<T>                                       \
  operator op_symbol(const Tensor<T>& a, S s) {                                    \
    return name(a, scalar_tensor<T>(static_cast<T>(s)));                           \
  }                                                                                \
  template <Numeric T, class S>                                                    \
  requires std::is_arithmetic_v<S> Tensor<T>                                       \
  operator op_symbol(S s, const Tensor<T>& a) {                                    \
    return name(scalar_tensor<T>(static_cast<T>(s)), a);                           \
  }                                                                                \
  template <Numeric T>                                                             \
  const Tensor<T>& operator op_symbol##=(const Tensor<T>& a, const Tensor<T>& b) { \
    return name##_(a, b);                                                          \
  }                                                                                \
  template <Numeric T, class S>                                                    \
  requires std::is_arithmetic_v<S>                                                 \
  const Tensor<T>& operator op_symbol##=(const Tensor<T>& a, S s) {                \
    return name##_(a, scalar_tensor<T>(static_cast<T>(s)));                        \
  }
EMBER_DEFINE_ARITH_OPERATOR(+, add)
EMBER_DEFINE_ARITH_OPERATOR(-, sub)
EMBER_DEFINE_ARITH_OPERATOR(*, mul)
EMBER_DEFINE_ARITH_OPERATOR(/, div)
#undef EMBER_DEFINE_ARITH_OPERATOR

template <Numeric T>
Tensor<T> operator-(const Tensor<T>& a) {
  return neg(a);
}

}  // namespace ember
