// ember/nn/layers.hpp — Linear, Embedding, EmbeddingBag, Conv1d, LayerNorm, Dropout,
// activations and Sequential.
// Layer: nn. Initialisation follows PyTorch's defaults, drawn from an explicit Generator:
// Linear and Conv1d weight and bias U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5),
// Embedding and EmbeddingBag N(0, 1), LayerNorm weight 1 and bias 0 (drawn weights are zero
// under init::SkipInit).
#pragma once

#include <cmath>
#include <memory>
#include <vector>

#include "ember/autograd/ops/nn.hpp"
#include "ember/core/factory.hpp"
#include "ember/nn/init.hpp"
#include "ember/nn/module.hpp"

namespace ember::nn {

/// y = x·Wᵀ + b; x (..., in) → (..., out). Parameters "weight" (out, in) and "bias" (out).
template <FloatingScalar T = float>
class Linear : public UnaryModule<T> {
 public:
  Linear(std::int64_t in, std::int64_t out, bool bias = true,
         Generator& gen = default_generator()) {
    EMBER_CHECK(in > 0 && out > 0, "Linear", "sizes must be positive, got in=", in, " out=", out);
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    weight_ = this->register_parameter("weight", init::uniform_tensor<T>({out, in}, -bound, bound, gen));
    if (bias) bias_ = this->register_parameter("bias", init::uniform_tensor<T>({out}, -bound, bound, gen));
  }
  Var<T> forward(const Var<T>& x) override {
    return bias_.defined() ? linear(x, weight_, bias_) : linear(x, weight_);
  }
  const Var<T>& weight() const { return weight_; }
  const Var<T>& bias() const { return bias_; }

 private:
  Var<T> weight_, bias_;
};

/// Rows of a (num, dim) table picked by int64 ids; parameter "weight".
template <FloatingScalar T = float>
class Embedding : public Module<T> {
 public:
  /// `sparse`: the weight gets row-sparse gradients (optimisers then update only used rows).
  Embedding(std::int64_t num, std::int64_t dim, Generator& gen = default_generator(),
            bool sparse = false)
      : sparse_(sparse) {
    EMBER_CHECK(num > 0 && dim > 0, "Embedding", "sizes must be positive, got ", num, "x", dim);
    weight_ = this->register_parameter("weight", init::normal_tensor<T>({num, dim}, 0.0, 1.0, gen));
  }
  Var<T> forward(const Tensor<std::int64_t>& ids) { return embedding(weight_, ids, sparse_); }
  Var<T> operator()(const Tensor<std::int64_t>& ids) { return forward(ids); }
  const Var<T>& weight() const { return weight_; }

 private:
  Var<T> weight_;
  bool sparse_;
};

/// Sums or means of embedding rows over ragged bags (fastText's document vector):
/// forward(ids (n), offsets (B)) → (B, dim). Parameter "weight" (num, dim).
template <FloatingScalar T = float>
class EmbeddingBag : public Module<T> {
 public:
  /// `sparse`: the weight gets row-sparse gradients (optimisers then update only used rows).
  EmbeddingBag(std::int64_t num, std::int64_t dim, BagMode mode = BagMode::Mean,
               Generator& gen = default_generator(), bool sparse = false)
      : mode_(mode), sparse_(sparse) {
    EMBER_CHECK(num > 0 && dim > 0, "EmbeddingBag", "sizes must be positive, got ", num, "x", dim);
    weight_ = this->register_parameter("weight", init::normal_tensor<T>({num, dim}, 0.0, 1.0, gen));
  }
  /// `per_sample_weights` (n) scale each row (mode Sum only).
  Var<T> forward(const Tensor<std::int64_t>& ids, const Tensor<std::int64_t>& offsets,
                 const Tensor<T>& per_sample_weights = Tensor<T>()) {
    return embedding_bag(weight_, ids, offsets, mode_, sparse_, per_sample_weights);
  }
  Var<T> operator()(const Tensor<std::int64_t>& ids, const Tensor<std::int64_t>& offsets,
                    const Tensor<T>& per_sample_weights = Tensor<T>()) {
    return forward(ids, offsets, per_sample_weights);
  }
  const Var<T>& weight() const { return weight_; }

 private:
  Var<T> weight_;
  BagMode mode_;
  bool sparse_;
};

/// 1-D convolution over (B, in_channels, L) → (B, out_channels, Lout); parameters "weight"
/// (out, in, kernel) and "bias" (out).
template <FloatingScalar T = float>
class Conv1d : public UnaryModule<T> {
 public:
  struct Options {
    std::int64_t stride = 1, padding = 0, dilation = 1;
    bool bias = true;
  };
  Conv1d(std::int64_t in, std::int64_t out, std::int64_t kernel, Options opt,
         Generator& gen = default_generator())
      : opt_(opt) {
    EMBER_CHECK(in > 0 && out > 0 && kernel > 0, "Conv1d", "sizes must be positive, got in=", in,
                " out=", out, " kernel=", kernel);
    const double bound = 1.0 / std::sqrt(static_cast<double>(in * kernel));
    weight_ = this->register_parameter("weight", init::uniform_tensor<T>({out, in, kernel}, -bound, bound, gen));
    if (opt.bias) bias_ = this->register_parameter("bias", init::uniform_tensor<T>({out}, -bound, bound, gen));
  }
  Conv1d(std::int64_t in, std::int64_t out, std::int64_t kernel,
         Generator& gen = default_generator())
      : Conv1d(in, out, kernel, Options{}, gen) {}
  Var<T> forward(const Var<T>& x) override {
    return bias_.defined() ? conv1d(x, weight_, bias_, opt_.stride, opt_.padding, opt_.dilation)
                           : conv1d(x, weight_, opt_.stride, opt_.padding, opt_.dilation);
  }
  const Var<T>& weight() const { return weight_; }
  const Var<T>& bias() const { return bias_; }

 private:
  Var<T> weight_, bias_;
  Options opt_;
};

/// Layer normalisation over the last dim; parameters "weight" (1s) and "bias" (0s).
template <FloatingScalar T = float>
class LayerNorm : public UnaryModule<T> {
 public:
  explicit LayerNorm(std::int64_t dim, double eps = 1e-5) : eps_(eps) {
    weight_ = this->register_parameter("weight", ones<T>({dim}));
    bias_ = this->register_parameter("bias", zeros<T>({dim}));
  }
  Var<T> forward(const Var<T>& x) override { return layer_norm(x, weight_, bias_, eps_); }

 private:
  Var<T> weight_, bias_;
  double eps_;
};

/// Inverted dropout, active only in training mode; its own seeded Philox stream.
template <FloatingScalar T = float>
class Dropout : public UnaryModule<T> {
 public:
  explicit Dropout(double p, std::uint64_t seed = 0) : p_(p), gen_(seed) {
    EMBER_CHECK(p >= 0 && p < 1, "Dropout", "probability ", p, " is outside [0, 1)");
  }
  Var<T> forward(const Var<T>& x) override { return dropout(x, p_, this->is_training(), gen_); }

 private:
  double p_;
  Generator gen_;
};

template <FloatingScalar T = float>
class ReLU : public UnaryModule<T> {
 public:
  Var<T> forward(const Var<T>& x) override { return relu(x); }
};
template <FloatingScalar T = float>
class Tanh : public UnaryModule<T> {
 public:
  Var<T> forward(const Var<T>& x) override { return tanh(x); }
};
template <FloatingScalar T = float>
class GELU : public UnaryModule<T> {
 public:
  Var<T> forward(const Var<T>& x) override { return gelu(x); }
};
template <FloatingScalar T = float>
class Sigmoid : public UnaryModule<T> {
 public:
  Var<T> forward(const Var<T>& x) override { return sigmoid(x); }
};

/// Applies its modules in order; children are named "0", "1", ….
template <FloatingScalar T = float>
class Sequential : public UnaryModule<T> {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<UnaryModule<T>>> modules) {
    for (auto& m : modules) push_back(m);
  }
  Sequential& push_back(std::shared_ptr<UnaryModule<T>> m) {
    EMBER_CHECK(m != nullptr, "Sequential", "null module");
    modules_.push_back(this->register_module(std::to_string(modules_.size()), std::move(m)));
    return *this;
  }
  Var<T> forward(const Var<T>& x) override {
    Var<T> y = x;
    for (auto& m : modules_) y = m->forward(y);
    return y;
  }
  std::size_t size() const { return modules_.size(); }
  /// The i-th module.
  const std::shared_ptr<UnaryModule<T>>& at(std::size_t i) const {
    EMBER_CHECK(i < modules_.size(), "Sequential", "index ", i, " is out of range for ", modules_.size(),
                " modules");
    return modules_[i];
  }
  /// Replaces the i-th module (its name "i" is kept).
  void replace(std::size_t i, std::shared_ptr<UnaryModule<T>> m) {
    EMBER_CHECK(m != nullptr, "Sequential", "null module");
    at(i);
    modules_[i] = this->replace_module(std::to_string(i), std::move(m));
  }

 private:
  std::vector<std::shared_ptr<UnaryModule<T>>> modules_;
};

}  // namespace ember::nn
