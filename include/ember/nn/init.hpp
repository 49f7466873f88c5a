// ember/nn/init.hpp — parameter initialisers, as torch.nn.init, drawn from an explicit Generator
// so a seed fixes every weight on every platform.
// Layer: nn. Fans follow PyTorch: for a weight (out, in, k...) fan_in = in·Πk, fan_out = out·Πk.
#pragma once

#include <cmath>
#include <utility>

#include "ember/autograd/variable.hpp"
#include "ember/core/factory.hpp"

namespace ember::nn::init {

/// (fan_in, fan_out) of a weight of rank ≥ 2 (a 1-D tensor counts as fan_in = fan_out = size).
inline std::pair<double, double> fans(const Shape& s) {
  EMBER_CHECK(s.rank() >= 1, "init", "cannot compute fans of a 0-d tensor");
  if (s.rank() == 1) return {static_cast<double>(s[0]), static_cast<double>(s[0])};
  double receptive = 1;
  for (int d = 2; d < s.rank(); ++d) receptive *= static_cast<double>(s[d]);
  return {static_cast<double>(s[1]) * receptive, static_cast<double>(s[0]) * receptive};
}

/// Fills p with U(lo, hi).
template <FloatingScalar T>
const Var<T>& uniform_(const Var<T>& p, double lo, double hi, Generator& gen) {
  p.data().copy_(uniform<T>(p.shape(), lo, hi, gen));
  return p;
}
/// Fills p with N(mean, std²).
template <FloatingScalar T>
const Var<T>& normal_(const Var<T>& p, double mean, double std, Generator& gen) {
  p.data().copy_(normal<T>(p.shape(), mean, std, gen));
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
