// ember/autograd/variable.hpp — Var<T>: a tensor that records how it was made, and Node<T>: one
// recorded operation.
// Layer: autograd (above kernels). Design, as PyTorch's define-by-run autograd:
//   * A Var is a handle (shared_ptr) to a VarImpl holding the value (`data`), the accumulated
//     gradient of a leaf (`grad`), `requires_grad`, and `grad_fn`, the Node that produced it
//     (null for leaves). A separate Var type, rather than autograd state inside Tensor, keeps the
//     core tensor light and makes "this participates in autograd" visible in the types.
//   * A Node holds what its backward needs (saved tensors as named members of the op struct),
//     the VarImpls of its inputs, and which of them need a gradient (`needs_grad`).
//   * The graph is a DAG: results own their Node, Nodes own their inputs; no cycles, so the
//     graph is freed when the last result handle goes. backward() also releases every Node it
//     ran (saved tensors and inputs) unless retain_graph is set; running backward through a
//     released Node raises ember::Error.
//   * GradMode: with NoGradGuard alive on a thread, ops build no graph and save nothing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ember/core/error.hpp"
#include "ember/core/tensor.hpp"

namespace ember {

template <FloatingScalar T>
class Var;

namespace detail {

inline bool& grad_mode_flag() {
  thread_local bool enabled = true;
  return enabled;
}

template <class T>
struct VarImpl;

}  // namespace detail

/// Whether operations on this thread record a graph for backward().
inline bool grad_enabled() {
  return detail::grad_mode_flag();
}

/// Disables graph recording on this thread for its lifetime (inference, optimiser steps).
///
///     { ember::NoGradGuard no_grad; auto y = model(x); }   // no graph, nothing saved
class NoGradGuard {
 public:
  NoGradGuard() : previous_(detail::grad_mode_flag()) { detail::grad_mode_flag() = false; }
  ~NoGradGuard() { detail::grad_mode_flag() = previous_; }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// One recorded operation: its inputs and how to turn d(out) into d(inputs).
template <class T>
struct Node {
  std::vector<std::shared_ptr<detail::VarImpl<T>>> inputs;  // null where no grad is needed
  std::vector<bool> needs_grad;                             // per input
  bool released = false;

  virtual ~Node() = default;
  /// Gradients for each input given the gradient of the output; an entry may be left
  /// undefined (empty Tensor) where needs_grad is false.
  virtual std::vector<Tensor<T>> backward(const Tensor<T>& dout) = 0;
  /// Name of the op, for error messages ("mul", "matmul").
  virtual const char* name() const = 0;
  /// Drops what backward needs (saved tensors); called after backward unless retained.
  virtual void release_saved() = 0;

  void release() {
    release_saved();
    inputs.clear();
    released = true;
  }
};

namespace detail {

template <class T>
struct VarImpl {
  Tensor<T> data;
  Tensor<T> grad;  // meaningful only when has_grad
  bool has_grad = false;
  bool requires_grad = false;
  std::shared_ptr<Node<T>> grad_fn;  // null for leaves
};

}  // namespace detail

/// A differentiable tensor of T (float or double). Copies share state, as tensors share data.
///
///     ember::Var<float> w(ember::randn({3, 2}), /*requires_grad=*/true);
///     auto loss = ember::sum(ember::matmul(x, w));
///     loss.backward();            // w.grad() is d loss / d w
template <FloatingScalar T>
class Var {
 public:
  /// An empty (undefined) Var.
  Var() = default;
  /// A leaf holding `data`.
  explicit Var(Tensor<T> data, bool requires_grad = false)
      : impl_(std::make_shared<detail::VarImpl<T>>()) {
    impl_->data = std::move(data);
    impl_->requires_grad = requires_grad;
  }

  bool defined() const { return impl_ != nullptr; }
  const Tensor<T>& data() const { return checked()->data; }
  const Shape& shape() const { return data().shape(); }
  int dim() const { return data().dim(); }
  std::int64_t size(std::int64_t d) const { return data().size(d); }
  std::int64_t numel() const { return data().numel(); }
  T item() const { return data().item(); }

  bool requires_grad() const { return checked()->requires_grad; }
  bool is_leaf() const { return checked()->grad_fn == nullptr; }
  /// Turns gradient tracking on or off for a leaf.
  Var& set_requires_grad(bool on) {
    EMBER_CHECK(is_leaf(), "set_requires_grad",
                "only leaves can change requires_grad (this Var was ", "made by ",
                checked()->grad_fn->name(), ")");
    impl_->requires_grad = on;
    return *this;
  }
  /// The accumulated gradient of a leaf (ember::Error if none was computed yet).
  const Tensor<T>& grad() const {
    EMBER_CHECK(checked()->has_grad, "grad", "no gradient: call backward() on a result first");
    return impl_->grad;
  }
  bool has_grad() const { return checked()->has_grad; }
  /// Forgets the accumulated gradient.
  void zero_grad() const {
    checked()->has_grad = false;
    impl_->grad = Tensor<T>();
  }
  /// The same data, cut off from the graph (a new leaf without requires_grad).
  Var detach() const { return Var(data(), false); }
  /// The op that made this Var, or null for a leaf.
  const std::shared_ptr<Node<T>>& grad_fn() const { return checked()->grad_fn; }

  /// Backpropagates from this scalar (d self / d self = 1) into every leaf that requires grad.
  void backward(bool retain_graph = false) const;
  /// Backpropagates with an explicit gradient of the same shape as this Var.
  void backward(const Tensor<T>& grad_output, bool retain_graph = false) const;

  /// Internal: the shared state (used by ops and the engine).
  const std::shared_ptr<detail::VarImpl<T>>& impl() const { return impl_; }
  /// Internal: a result of `node` (made by an op while grad mode is on).
  static Var from_node(Tensor<T> data, std::shared_ptr<Node<T>> node) {
    Var v(std::move(data), true);
    v.impl_->grad_fn = std::move(node);
    return v;
  }

 private:
  detail::VarImpl<T>* checked() const {
    EMBER_CHECK(impl_ != nullptr, "Var", "use of an undefined Var");
    return impl_.get();
  }
  std::shared_ptr<detail::VarImpl<T>> impl_;
};

namespace detail {

/// True when an op on these inputs must record a Node.
template <class T, class... Vars>
bool needs_graph(const Vars&... vars) {
  return grad_enabled() && (vars.requires_grad() || ...);
}

/// Wires `node` to its inputs and returns the result Var.
template <class T, class NodeT>
Var<T> attach(Tensor<T> out, std::shared_ptr<NodeT> node,
              std::initializer_list<const Var<T>*> inputs) {
  for (const Var<T>* v : inputs) {
    const bool g = v->requires_grad();
    node->needs_grad.push_back(g);
    node->inputs.push_back(g ? v->impl() : nullptr);
  }
  return Var<T>::from_node(std::move(out), std::move(node));
}

}  // namespace detail

}  // namespace ember
