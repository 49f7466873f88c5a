// ember/autograd/ops/loss.hpp — softmax, log_softmax and the losses fused with them: cross_entropy
// (ignore_index, label smoothing) and binary_cross_entropy_with_logits.
// Layer: autograd. Shapes are written at each op; glossary: N rows (batch·time), C classes,
// D features, V vocabulary.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ember/autograd/function.hpp"
#include "ember/autograd/ops/elementwise.hpp"
#include "ember/autograd/ops/reduce.hpp"
#include "ember/autograd/ops/shape.hpp"
#include "ember/kernels/loss.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/kernels/softmax.hpp"

namespace ember {

namespace ops {

// y = softmax(x, axis). dx = y ⊙ (dy − Σ_axis dy ⊙ y). Saves y.
template <class T>
struct Softmax : Node<T> {
  Tensor<T> y;
  std::int64_t axis = -1;
  static Var<T> apply(const Var<T>& x, std::int64_t axis) {
    Tensor<T> out = ember::softmax(x.data(), axis);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<Softmax>();
    n->y = out;
    n->axis = axis;
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    Tensor<T> dot = ember::sum(dy * y, {axis}, /*keepdim=*/true);
    return {y * (dy - dot)};
  }
  const char* name() const override { return "softmax"; }
  void release_saved() override { y = Tensor<T>(); }
};

// y = log_softmax(x, axis). dx = dy − softmax(x) ⊙ Σ_axis dy = dy − exp(y) ⊙ Σ dy. Saves y.
template <class T>
struct LogSoftmax : Node<T> {
  Tensor<T> y;
  std::int64_t axis = -1;
  static Var<T> apply(const Var<T>& x, std::int64_t axis) {
    Tensor<T> out = ember::log_softmax(x.data(), axis);
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<LogSoftmax>();
    n->y = out;
    n->axis = axis;
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    return {dy - ember::exp(y) * ember::sum(dy, {axis}, /*keepdim=*/true)};
  }
  const char* name() const override { return "log_softmax"; }
  void release_saved() override { y = Tensor<T>(); }
};

// loss = mean over rows i with target ≠ ignore_index of
//   −Σ_c q_ic · log_softmax(x_i)_c,   q_i = (1 − ε)·onehot(t_i) + ε / C.
// x: (N, C) logits, targets: (N) class ids. Fused (kernels/loss.hpp): dx_i = (softmax(x_i) − q_i)
// / n_valid, so the N×C probabilities are the only thing saved.
template <class T>
struct CrossEntropy : Node<T> {
  Tensor<T> probs;               // (N, C) softmax of the logits (rows of ignored targets unset)
  Tensor<std::int64_t> targets;  // (N)
  std::int64_t ignore_index = -100;
  double smoothing = 0;
  std::int64_t n_valid = 0;

  static Var<T> apply(const Var<T>& logits, const Tensor<std::int64_t>& targets_in,
                      std::int64_t ignore_index, double smoothing) {
    const Tensor<T>& x_in = logits.data();
    EMBER_CHECK(x_in.dim() == 2, "cross_entropy", "expects logits (N, C), got ", x_in.shape());
    EMBER_CHECK(targets_in.dim() == 1 && targets_in.size(0) == x_in.size(0), "cross_entropy",
                "targets ", targets_in.shape(), " do not match logits ", x_in.shape());
    EMBER_CHECK(smoothing >= 0 && smoothing <= 1, "cross_entropy", "label_smoothing ", smoothing,
                " is outside [0, 1]");
    const std::int64_t N = x_in.size(0), C = x_in.size(1);
    Tensor<std::int64_t> t = targets_in.contiguous();
    std::int64_t valid = 0;
    for (std::int64_t i = 0; i < N; ++i) {
      const std::int64_t ti = t.data()[i];
      if (ti == ignore_index) continue;
      EMBER_CHECK(ti >= 0 && ti < C, "cross_entropy", "target ", ti, " in row ", i,
                  " is out of range for ", C, " classes");
      ++valid;
    }
    const Tensor<T> x = x_in.contiguous();
    Tensor<T> probs = Tensor<T>::empty({N, C});
    std::vector<double> row_loss(static_cast<std::size_t>(N));
    if (N > 0 && C > 0) {
      kernels::cross_entropy_forward(x.data(), t.data(), N, C, ignore_index, smoothing,
                                     probs.data(), row_loss.data());
    }
    double total = 0;  // in row order: the same for any thread count
    for (double r : row_loss) total += r;
    // Like PyTorch, a batch whose targets are all ignored has loss NaN (0/0).
    Tensor<T> out = scalar_tensor<T>(static_cast<T>(total / static_cast<double>(valid)));
    if (!detail::needs_graph<T>(logits)) return Var<T>(out);
    auto n = std::make_shared<CrossEntropy>();
    n->probs = probs;
    n->targets = t;
    n->ignore_index = ignore_index;
    n->smoothing = smoothing;
    n->n_valid = valid;
    return detail::attach<T>(std::move(out), std::move(n), {&logits});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const std::int64_t N = probs.size(0), C = probs.size(1);
    Tensor<T> dx = Tensor<T>::empty({N, C});
    const T scale = dout.item() / static_cast<T>(n_valid);
    if (N > 0 && C > 0) {
      kernels::cross_entropy_backward(probs.data(), targets.data(), N, C, ignore_index,
                                      smoothing, scale, dx.data());
    }
    return {dx};
  }
  const char* name() const override { return "cross_entropy"; }
  void release_saved() override {
    probs = Tensor<T>();
    targets = Tensor<std::int64_t>();
  }
};

// loss = mean of max(x, 0) − x·y + log(1 + exp(−|x|)), the stable form of
// −[y log σ(x) + (1 − y) log(1 − σ(x))]. dx = (σ(x) − y) / n. Saves x and y.
template <class T>
struct BceWithLogits : Node<T> {
  Tensor<T> x, y;
  static Var<T> apply(const Var<T>& logits, const Tensor<T>& target) {
    EMBER_CHECK(logits.shape() == target.shape(), "binary_cross_entropy_with_logits", "logits ",
                logits.shape(), " and targets ", target.shape(), " differ in shape");
    const Tensor<T>& x = logits.data();
    using CT = compute_t<T>;
    Tensor<T> terms =
        detail::map2<T>(x, target, "binary_cross_entropy_with_logits", [](CT a, CT b) {
          return (a > CT(0) ? a : CT(0)) - a * b + std::log1p(std::exp(-std::fabs(a)));
        });
    Tensor<T> out = ember::mean(terms);
    if (!detail::needs_graph<T>(logits)) return Var<T>(out);
    auto n = std::make_shared<BceWithLogits>();
    n->x = x;
    n->y = target;
    return detail::attach<T>(std::move(out), std::move(n), {&logits});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const T scale = dout.item() / static_cast<T>(x.numel());
    return {(ember::sigmoid(x) - y) * scale};
  }
  const char* name() const override { return "binary_cross_entropy_with_logits"; }
  void release_saved() override { x = y = Tensor<T>(); }
};

}  // namespace ops

/// Differentiable softmax along `axis`.
template <FloatingScalar T>
Var<T> softmax(const Var<T>& x, std::int64_t axis = -1) {
  return ops::Softmax<T>::apply(x, axis);
}
/// Differentiable log_softmax along `axis`.
template <FloatingScalar T>
Var<T> log_softmax(const Var<T>& x, std::int64_t axis = -1) {
  return ops::LogSoftmax<T>::apply(x, axis);
}
/// Mean cross-entropy of logits (N, C) against class ids (N), fused with log_softmax; rows whose
/// target is `ignore_index` are skipped; `label_smoothing` ε mixes ε/C into every class.
template <FloatingScalar T>
Var<T> cross_entropy(const Var<T>& logits, const Tensor<std::int64_t>& targets,
                     std::int64_t ignore_index = -100, double label_smoothing = 0.0) {
  return ops::CrossEntropy<T>::apply(logits, targets, ignore_index, label_smoothing);
}
/// Mean binary cross-entropy of logits against targets in [0, 1], in the stable fused form.
template <FloatingScalar T>
Var<T> binary_cross_entropy_with_logits(const Var<T>& logits, const Tensor<T>& targets) {
  return ops::BceWithLogits<T>::apply(logits, targets);
}

}  // namespace ember
