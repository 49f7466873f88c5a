// ember/nn/init.hpp — parameter initialisers, as torch.nn.init, drawn from an explicit Generator
// so a seed fixes every weight on every platform.
// Layer: nn. Fans follow PyTorch: for a weight (out, in, k...) fan_in = in·Πk, fan_out = out·Πk.
#pragma once

#include <cmath>
#include <utility>

#include "ember/autograd/variable.hpp"
#include "ember/core/factory.hpp"
#include "ember/core/scoped_flag.hpp"

namespace ember::nn::init {

namespace detail {
inline bool& skip_init_flag() {
  thread_local bool skip = false;
  return skip;
}
}  // namespace detail

/// While one is alive, parameters that ember's layers create on this thread start at zero
/// instead of being drawn, and the initialisers below leave them as they are (the role of
/// torch.nn.utils.skip_init): for a model whose weights are about to be loaded, where drawing
/// millions of values only to overwrite them dominated the load time. The generator is not
/// advanced. Guards nest; each restores what it found.
class SkipInit : public ember::detail::ScopedFlag<detail::skip_init_flag, true> {};

/// Whether a SkipInit guard is alive on this thread.
inline bool skipping() { return detail::skip_init_flag(); }

/// A new parameter tensor: U(lo, hi), or zeros under SkipInit.
template <FloatingScalar T>
Tensor<T> uniform_tensor(const Shape& shape, double lo, double hi, Generator& gen) {
  return skipping() ? zeros<T>(shape) : uniform<T>(shape, lo, hi, gen);
}
/// A new parameter tensor: N(mean, std²), or zeros under SkipInit.
template <FloatingScalar T>
Tensor<T> normal_tensor(const Shape& shape, double mean, double std, Generator& gen) {
  return skipping() ? zeros<T>(shape) : normal<T>(shape, mean, std, gen);
}

/// (fan_in, fan_out) of a weight of rank ≥ 2 (a 1-D tensor counts as fan_in = fan_out = size).
inline std::pair<double, double> fans(const Shape& s) {
  EMBER_CHECK(s.rank() >= 1, "init", "cannot compute fans of a 0-d tensor");
  if (s.rank() == 1) return {static_cast<double>(s[0]), static_cast<double>(s[0])};
  double receptive = 1;
  for (int d = 2; d < s.rank(); ++d) receptive *= static_cast<double>(s[d]);
  return {static_cast<double>(s[1]) * receptive, static_cast<double>(s[0]) * receptive};
}

/// Fills p with U(lo, hi) (nothing under SkipInit).
template <FloatingScalar T>
const Var<T>& uniform_(const Var<T>& p, double lo, double hi, Generator& gen) {
  if (!skipping()) p.data().copy_(uniform<T>(p.shape(), lo, hi, gen));
  return p;
}
/// Fills p with N(mean, std²) (nothing under SkipInit).
template <FloatingScalar T>
const Var<T>& normal_(const Var<T>& p, double mean, double std, Generator& gen) {
  if (!skipping()) p.data().copy_(normal<T>(p.shape(), mean, std, gen));
  return p;
}
/// Fills p with a constant.
template <FloatingScalar T>
const Var<T>& constant_(const Var<T>& p, double value) {
  p.data().copy_(full<T>(p.shape(), static_cast<T>(value)));
  return p;
}
/// Glorot & Bengio: U(−b, b), b = gain·√(6 / (fan_in + fan_out)).
template <FloatingScalar T>
const Var<T>& xavier_uniform_(const Var<T>& p, Generator& gen, double gain = 1.0) {
  auto [in, out] = fans(p.shape());
  const double b = gain * std::sqrt(6.0 / (in + out));
  return uniform_(p, -b, b, gen);
}
/// He et al. for leaky-ReLU slope a: U(−b, b), b = √(6 / ((1 + a²)·fan_in)). PyTorch's default
/// for Linear and Conv weights is a = √5, which gives b = 1/√fan_in.
template <FloatingScalar T>
const Var<T>& kaiming_uniform_(const Var<T>& p, Generator& gen, double a = 0.0) {
  const double b = std::sqrt(6.0 / ((1 + a * a) * fans(p.shape()).first));
  return uniform_(p, -b, b, gen);
}

}  // namespace ember::nn::init
