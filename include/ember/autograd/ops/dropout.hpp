// ember/autograd/ops/dropout.hpp — inverted dropout with a reproducible Philox mask.
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
#include "ember/core/random.hpp"
#include "ember/kernels/dropout.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember {

namespace ops {

// y = x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p) from a Philox counter keyed by one draw of
// `gen` (kernels/dropout.hpp: reproducible for any thread count). Saves the mask, one byte per
// element; dx = dy ⊙ m / (1 − p).
template <class T>
struct Dropout : Node<T> {
  Tensor<std::uint8_t> keep;
  double p = 0;
  static Var<T> apply(const Var<T>& x, double p, bool training, Generator& gen) {
    EMBER_CHECK(p >= 0 && p < 1, "dropout", "probability ", p, " is outside [0, 1)");
    if (!training || p == 0) return x;
    const Tensor<T> xc = x.data().contiguous();
    Tensor<T> out = Tensor<T>::empty(x.shape());
    const bool graph = detail::needs_graph<T>(x);
    Tensor<std::uint8_t> keep = graph ? Tensor<std::uint8_t>::empty(x.shape()) : Tensor<std::uint8_t>();
    kernels::dropout_forward<T>(xc.data(), out.data(), graph ? keep.data() : nullptr, out.numel(),
                                p, gen.next_u64());
    if (!graph) return Var<T>(out);
    auto node = std::make_shared<Dropout>();
    node->keep = keep;
    node->p = p;
    return detail::attach<T>(std::move(out), std::move(node), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    const Tensor<T> d = dy.contiguous();
    Tensor<T> dx = Tensor<T>::empty(d.shape());
    kernels::dropout_backward<T>(d.data(), keep.data(), dx.data(), dx.numel(), p);
    return {dx};
  }
  const char* name() const override { return "dropout"; }
  void release_saved() override { keep = Tensor<std::uint8_t>(); }
};

}  // namespace ops

/// Inverted dropout with drop probability p, a no-op when not training.
template <FloatingScalar T>
Var<T> dropout(const Var<T>& x, double p, bool training, Generator& gen = default_generator()) {
  return ops::Dropout<T>::apply(x, p, training, gen);
}

}  // namespace ember
