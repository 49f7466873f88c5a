// ember/autograd/ops/masked.hpp — masked_fill, and pooling over the unmasked positions of a padded
// batch: masked_mean, masked_max.
// Layer: autograd. Shapes are written at each op; glossary: N rows (batch·time), C classes,
// D features, V vocabulary.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "ember/autograd/function.hpp"
#include "ember/autograd/ops/elementwise.hpp"
#include "ember/autograd/ops/reduce.hpp"
#include "ember/autograd/ops/shape.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {

namespace ops {

// y = where(mask, value, x) (mask broadcasts to x). dx = where(mask, 0, dy).
template <class T>
struct MaskedFill : Node<T> {
  Tensor<bool> mask;
  static Var<T> apply(const Var<T>& x, const Tensor<bool>& mask, T value) {
    EMBER_CHECK(broadcastable_to(mask.shape(), x.shape()), "masked_fill", "mask ", mask.shape(),
                " does not broadcast to ", x.shape());
    Tensor<T> out = where(mask, value, x.data());
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<MaskedFill>();
    n->mask = mask;
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override { return {where(mask, T(0), dy)}; }
  const char* name() const override { return "masked_fill"; }
  void release_saved() override { mask = Tensor<bool>(); }
};

}  // namespace ops

/// x with `value` where mask is true (mask broadcasts to x).
template <FloatingScalar T>
Var<T> masked_fill(const Var<T>& x, const Tensor<bool>& mask, T value) {
  return ops::MaskedFill<T>::apply(x, mask, value);
}
/// Mean of x (B, T, D) over its time axis, leaving out the positions where `mask` (B, T) is
/// true (padding; the same convention as masked_fill and attention's padding mask) → (B, D).
/// A row with every position masked gives zeros. Gradient: dy / count at the kept positions.
template <FloatingScalar T>
Var<T> masked_mean(const Var<T>& x, const Tensor<bool>& mask) {
  EMBER_CHECK(x.dim() == 3 && mask.dim() == 2 && mask.size(0) == x.size(0) &&
                  mask.size(1) == x.size(1),
              "masked_mean", "expects x (B, T, D) and mask (B, T), got ", x.shape(), " and ",
              mask.shape());
  // weight[b, t] = keep / max(count_b, 1): the pooling is a weighted sum, so its gradient
  // is the weight itself — composing two recorded ops gives it exactly.
  Tensor<T> keep = where(mask, T(0), T(1));
  Tensor<T> count = clamp(ember::sum(keep, {1}, /*keepdim=*/true), T(1),
                          std::numeric_limits<T>::max());
  Var<T> weight((keep / count).unsqueeze(2));
  return sum(x * weight, {1});
}

/// Maximum of x (B, T, D) over its time axis, leaving out the positions where `mask` (B, T)
/// is true (padding) → (B, D): the max pooling of a padded batch (TextCNN's pooling,
/// sentence encoders' max pooling), without padding ever winning. A row with every position
/// masked gives zeros, as masked_mean. Gradient: dy to the position that holds the maximum.
template <FloatingScalar T>
Var<T> masked_max(const Var<T>& x, const Tensor<bool>& mask) {
  EMBER_CHECK(x.dim() == 3 && mask.dim() == 2 && mask.size(0) == x.size(0) &&
                  mask.size(1) == x.size(1),
              "masked_max", "expects x (B, T, D) and mask (B, T), got ", x.shape(), " and ",
              mask.shape());
  EMBER_CHECK(x.size(1) > 0, "masked_max", "needs at least one position, got x ", x.shape());
  const Tensor<bool> m = mask.contiguous();
  const std::int64_t B = m.size(0), Tn = m.size(1);
  Tensor<bool> empty_row = zeros<bool>({B, 1});
  for (std::int64_t b = 0; b < B; ++b) {
    bool all = true;
    for (std::int64_t t = 0; t < Tn && all; ++t) all = m.data()[b * Tn + t];
    empty_row.data()[b] = all;
  }
  Var<T> filled = masked_fill(x, m.unsqueeze(2), std::numeric_limits<T>::lowest());
  return masked_fill(max(filled, {1}), empty_row, T(0));
}

}  // namespace ember
