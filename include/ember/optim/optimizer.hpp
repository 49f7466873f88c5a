// ember/optim/optimizer.hpp — SGD (momentum, Nesterov, weight decay), Adam, AdamW, gradient
// clipping by global norm, and learning-rate schedules (linear warmup, then linear or cosine
// decay).
// Layer: optim (above autograd). Update rules are PyTorch's (torch.optim, 2.x docs), element by
// element over contiguous parameter storage, with no graph recorded. Parameters without a
// gradient are skipped, as in PyTorch.
#pragma once

#include <cmath>
#include <numbers>
#include <type_traits>
#include <vector>

#include "ember/autograd/variable.hpp"
#include "ember/core/error.hpp"
#include "ember/core/factory.hpp"
#include "ember/kernels/optimizer.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::optim {

namespace detail {
template <class T>
void check_param(const Var<T>& p, const char* op) {
  EMBER_CHECK(p.defined() && p.is_leaf() && p.requires_grad(), op,
              "parameters must be leaves with requires_grad=true");
  EMBER_CHECK(p.data().is_contiguous(), op, "parameter of shape ", p.shape(), " is not contiguous");
}
}  // namespace detail

/// A parameter's own multipliers of the optimiser's learning rate and weight decay: what
/// torch.optim's parameter groups with their own lr and weight_decay are used for, such as
/// layer-wise learning-rate decay (ELECTRA, BEiT) or no weight decay on biases and norms (BERT).
/// A schedule's set_lr() scales every parameter's rate alike, as torch's LambdaLR does groups.
struct ParamScale {
  double lr = 1, weight_decay = 1;
};

/// Base of the optimisers: the parameters and the learning rate.
template <FloatingScalar T>
class Optimizer {
 public:
  Optimizer(std::vector<Var<T>> params, double lr, const char* name)
      : params_(std::move(params)), lr_(lr) {
    EMBER_CHECK(lr >= 0, name, "learning rate must be non-negative, got ", lr);
    for (const Var<T>& p : params_) detail::check_param(p, name);
  }
  virtual ~Optimizer() = default;
  /// Applies one update to every parameter that has a gradient.
  virtual void step() = 0;
  /// Forgets every parameter's gradient.
  void zero_grad() {
    for (Var<T>& p : params_) p.zero_grad();
  }
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  const std::vector<Var<T>>& params() const { return params_; }
  /// One ParamScale per parameter, in the order of params() (all 1 until set).
  void set_param_scales(std::vector<ParamScale> scales) {
    EMBER_CHECK(scales.size() == params_.size(), "Optimizer::set_param_scales", scales.size(),
                " scales for ", params_.size(), " parameters");
    for (std::size_t k = 0; k < scales.size(); ++k) {
      EMBER_CHECK(std::isfinite(scales[k].lr) && scales[k].lr >= 0 &&
                      std::isfinite(scales[k].weight_decay) && scales[k].weight_decay >= 0,
                  "Optimizer::set_param_scales", "parameter ", k, " (shape ", params_[k].shape(),
                  "): scales must be finite and non-negative, got lr ", scales[k].lr,
                  " and weight decay ", scales[k].weight_decay);
    }
    scales_ = std::move(scales);
  }
  const std::vector<ParamScale>& param_scales() const { return scales_; }

 protected:
  /// Parameter k's multipliers.
  ParamScale scale(std::size_t k) const { return scales_.empty() ? ParamScale{} : scales_[k]; }
  std::vector<Var<T>> params_;
  double lr_;
  std::vector<ParamScale> scales_;  // empty: all 1
};

/// SGD: g = grad + wd·p; buf = momentum·buf + (1 − dampening)·g (buf = g on the first step);
/// g = nesterov ? g + momentum·buf : buf; p -= lr·g.
template <FloatingScalar T>
class SGD : public Optimizer<T> {
 public:
  struct Options {
    double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
    bool nesterov = false;
  };
  SGD(std::vector<Var<T>> params, Options o) : Optimizer<T>(std::move(params), o.lr, "SGD"), o_(o) {
    EMBER_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD",
                "Nesterov momentum needs momentum > 0 and dampening = 0");
    buf_.resize(this->params_.size());
  }
  void step() override {
    for (std::size_t k = 0; k < this->params_.size(); ++k) {
      const Var<T>& p = this->params_[k];
      if (!p.has_grad()) continue;
      T* w = p.data().data();
      const ParamScale sc = this->scale(k);
      const T lr = static_cast<T>(this->lr_ * sc.lr), wd = static_cast<T>(o_.weight_decay * sc.weight_decay);
      if (p.grad_is_sparse() && o_.momentum == 0) {
        // Row-sparse gradient, no momentum: only the rows used move (weight decay included).
        const auto sparse = p.sparse_grad();
        ember::kernels::sgd_update_rows(w, p.size(1), sparse.first.data(), sparse.first.numel(),
                                       sparse.second.data(), lr, wd);
        continue;
      }
      const Tensor<T> grad = p.grad().contiguous();  // with momentum, sparse is made dense
      const std::int64_t n = p.numel();
      const bool first = buf_[k].numel() != n;
      if (o_.momentum != 0 && first) buf_[k] = Tensor<T>::empty(p.shape());
      const ember::kernels::SgdStep<T> st{lr, wd, static_cast<T>(o_.momentum),
                                         static_cast<T>(1 - o_.dampening), o_.nesterov, first};
      ember::kernels::sgd_update(w, grad.data(), o_.momentum != 0 ? buf_[k].data() : nullptr, n,
                                st);
    }
  }

 private:
  Options o_;
  std::vector<Tensor<T>> buf_;
};

/// Adam (decoupled = false: L2 penalty added to the gradient, torch.optim.Adam) and AdamW
/// (decoupled = true: p *= 1 − lr·wd before the update, torch.optim.AdamW):
///   m = β1·m + (1 − β1)·g,  v = β2·v + (1 − β2)·g²,
///   p -= lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps).
template <FloatingScalar T>
class Adam : public Optimizer<T> {
 public:
  struct Options {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
    bool decoupled = false;  // true: AdamW
  };
  Adam(std::vector<Var<T>> params, Options o)
      : Optimizer<T>(std::move(params), o.lr, "Adam"), o_(o) {
    EMBER_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, "Adam",
                "betas must be in [0, 1), got ", o.beta1, " and ", o.beta2);
    m_.resize(this->params_.size());
    v_.resize(this->params_.size());
  }
  void step() override {
    ++t_;
    const double bc1 = 1 - std::pow(o_.beta1, static_cast<double>(t_));
    const double bc2 = 1 - std::pow(o_.beta2, static_cast<double>(t_));
    const T b1 = static_cast<T>(o_.beta1), b2 = static_cast<T>(o_.beta2);
    const T eps = static_cast<T>(o_.eps), inv_sqrt_bc2 = static_cast<T>(1 / std::sqrt(bc2));
    for (std::size_t k = 0; k < this->params_.size(); ++k) {
      const Var<T>& p = this->params_[k];
      if (!p.has_grad()) continue;
      const ParamScale sc = this->scale(k);
      const double lr_k = this->lr_ * sc.lr;
      const T lr = static_cast<T>(lr_k), wd = static_cast<T>(o_.weight_decay * sc.weight_decay);
      const T step_size = static_cast<T>(lr_k / bc1);
      const std::int64_t n = p.numel();
      if (m_[k].numel() != n) {
        m_[k] = zeros<T>(p.shape());
        v_[k] = zeros<T>(p.shape());
      }
      const T decay = o_.decoupled ? T(1) - lr * wd : T(1), l2 = o_.decoupled ? T(0) : wd;
      const ember::kernels::AdamStepT<T> st{decay, l2, b1, b2, step_size, inv_sqrt_bc2, eps};
      if (p.grad_is_sparse()) {
        // Lazy Adam (torch.optim.SparseAdam, TF's LazyAdam): only the rows in the gradient
        // update their moments and weights, with the global step's bias corrections; rows not
        // used this step keep their weights and moments (weight decay too is applied lazily).
        const auto sparse = p.sparse_grad();
        ember::kernels::adam_update_rows(p.data().data(), m_[k].data(), v_[k].data(), p.size(1),
                                        sparse.first.data(), sparse.first.numel(),
                                        sparse.second.data(), st);
        continue;
      }
      // The kernel (kernels/optimizer.hpp): fp32 in the widest copy (plain C++ stays scalar).
      const Tensor<T> grad = p.grad().contiguous();
      ember::kernels::adam_update_parallel(p.data().data(), grad.data(), m_[k].data(),
                                          v_[k].data(), n, st);
    }
  }
  std::int64_t steps() const { return t_; }

  /// What a resumed run needs (torch's optimizer.state_dict()): the step count and each
  /// parameter's first and second moments, in the order of params() (empty tensors for a
  /// parameter that has not been updated yet). Copies.
  struct State {
    std::int64_t steps = 0;
    std::vector<Tensor<T>> m, v;
  };
  State state() const {
    State s{t_, {}, {}};
    for (std::size_t k = 0; k < m_.size(); ++k) {
      s.m.push_back(m_[k].numel() ? m_[k].clone() : Tensor<T>());
      s.v.push_back(v_[k].numel() ? v_[k].clone() : Tensor<T>());
    }
    return s;
  }
  /// Restores a state() of an optimiser over parameters of the same shapes; checks them all
  /// before changing anything.
  void load_state(const State& s) {
    EMBER_CHECK(s.steps >= 0, "Adam::load_state", "negative step count ", s.steps);
    EMBER_CHECK(s.m.size() == this->params_.size() && s.v.size() == this->params_.size(),
                "Adam::load_state", "state for ", s.m.size(), " and ", s.v.size(),
                " parameters, the optimiser has ", this->params_.size());
    for (std::size_t k = 0; k < s.m.size(); ++k) {
      for (const Tensor<T>* t : {&s.m[k], &s.v[k]}) {
        EMBER_CHECK(t->numel() == 0 || t->shape() == this->params_[k].shape(), "Adam::load_state",
                    "parameter ", k, " has shape ", this->params_[k].shape(), ", its state ",
                    t->shape());
      }
      EMBER_CHECK((s.m[k].numel() == 0) == (s.v[k].numel() == 0), "Adam::load_state",
                  "parameter ", k, " has one moment but not the other");
    }
    t_ = s.steps;
    for (std::size_t k = 0; k < s.m.size(); ++k) {
      m_[k] = s.m[k].numel() ? s.m[k].contiguous().clone() : Tensor<T>();
      v_[k] = s.v[k].numel() ? s.v[k].contiguous().clone() : Tensor<T>();
    }
  }

 private:
  Options o_;
  std::int64_t t_ = 0;
  std::vector<Tensor<T>> m_, v_;
};

/// AdamW: Adam with decoupled weight decay (default 0.01, as PyTorch).
template <FloatingScalar T>
class AdamW : public Adam<T> {
 public:
  struct Options {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
  };
  AdamW(std::vector<Var<T>> params, Options o)
      : Adam<T>(std::move(params), {o.lr, o.beta1, o.beta2, o.eps, o.weight_decay, true}) {}
};

/// Scales all gradients so their global L2 norm is at most max_norm (torch.nn.utils.
/// clip_grad_norm_: coefficient max_norm / (norm + 1e-6), applied only when below 1). Returns
/// the norm before clipping.
template <FloatingScalar T>
double clip_grad_norm(const std::vector<Var<T>>& params, double max_norm) {
  // A row-sparse gradient counts (and is scaled) through its coalesced values, which hold
  // the same numbers as its dense form.
  auto values = [](const Var<T>& p) {
    return p.grad_is_sparse() ? p.sparse_grad().second : p.grad().contiguous();
  };
  double sq = 0;
  for (const Var<T>& p : params) {
    if (!p.has_grad()) continue;
    const Tensor<T> g = values(p);
    for (std::int64_t i = 0, n = g.numel(); i < n; ++i)
      sq += static_cast<double>(g.data()[i]) * g.data()[i];
  }
  const double norm = std::sqrt(sq);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1) {
    for (const Var<T>& p : params) {
      if (!p.has_grad()) continue;
      const Tensor<T> g = p.grad_is_sparse() ? p.sparse_grad().second : p.grad();
      T* d = g.data();
      for (std::int64_t i = 0, n = g.numel(); i < n; ++i) d[i] *= static_cast<T>(coef);
    }
  }
  return norm;
}

/// Learning-rate factor at `step`: linear warmup over `warmup` steps from 0 to 1, then decay to
/// 0 at `total` steps, linearly (transformers' get_linear_schedule_with_warmup) or along a
/// half cosine (get_cosine_schedule_with_warmup).
struct WarmupDecay {
  enum class Shape { Linear, Cosine };
  std::int64_t warmup = 0, total = 1;
  Shape shape = Shape::Linear;

  double factor(std::int64_t step) const {
    if (step < warmup)
      return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
    const double progress = static_cast<double>(step - warmup) /
                            static_cast<double>(std::max<std::int64_t>(1, total - warmup));
    if (progress >= 1) return 0.0;
    if (shape == Shape::Linear) return 1.0 - progress;
    return 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  }
};

}  // namespace ember::optim
