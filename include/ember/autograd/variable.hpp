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

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ember/core/error.hpp"
#include "ember/core/scoped_flag.hpp"
#include "ember/core/small_vector.hpp"
#include "ember/core/tensor.hpp"
#include "ember/kernels/embedding.hpp"
#include "ember/kernels/index.hpp"

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
class NoGradGuard : public detail::ScopedFlag<detail::grad_mode_flag, false> {};

/// One recorded operation: its inputs and how to turn d(out) into d(inputs).
template <class T>
struct Node {
  // Inline up to three entries (core/small_vector.hpp): no heap allocation for nearly every op.
  detail::SmallVector<std::shared_ptr<detail::VarImpl<T>>, 3> inputs;  // null where no grad is needed
  detail::SmallVector<bool, 3> needs_grad;                             // per input
  bool released = false;

  virtual ~Node() = default;
  /// Gradients for each input given the gradient of the output; an entry may be left
  /// undefined (empty Tensor) where needs_grad is false.
  virtual std::vector<Tensor<T>> backward(const Tensor<T>& dout) = 0;
  /// Name of the op, for error messages ("mul", "matmul").
  virtual const char* name() const = 0;
  /// Drops what backward needs (saved tensors); called after backward unless retained.
  virtual void release_saved() = 0;
  /// Row-sparse ops (embedding lookups built with sparse = true) may give the gradient of
  /// their single input as rows instead: fill `rows` (n, unique) and `values` (n, D) and return
  /// true. The engine asks only when that input is a leaf; otherwise backward() runs.
  virtual bool sparse_backward(const Tensor<T>& /*dout*/, Tensor<std::int64_t>& /*rows*/,
                               Tensor<T>& /*values*/) {
    return false;
  }

  void release() {
    release_saved();
    inputs.clear();
    released = true;
  }
};

namespace detail {

/// dense[rows[i], :] += values[i, :] for a contiguous (V, D) `dense`; repeated rows add up.
template <class T>
void add_rows(const Tensor<T>& dense, const Tensor<std::int64_t>& rows, const Tensor<T>& values) {
  const Tensor<T> vals = values.contiguous();
  const Tensor<std::int64_t> r = rows.contiguous();
  kernels::embedding_backward(vals.data(), dense.size(1), r.data(), r.numel(), dense.data());
}

/// Sums the values of duplicate rows and sorts the rows (so an optimiser touches each once).
template <class T>
void coalesce_rows(Tensor<std::int64_t>& rows, Tensor<T>& values) {
  const std::int64_t n = rows.numel(), D = values.size(1);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  const std::int64_t* r = rows.data();
  std::sort(order.begin(), order.end(), [r](std::int64_t a, std::int64_t b) {
    return r[a] != r[b] ? r[a] < r[b] : a < b;
  });
  std::int64_t unique = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    unique += i == 0 || r[order[static_cast<std::size_t>(i)]] != r[order[static_cast<std::size_t>(i - 1)]];
  }
  Tensor<std::int64_t> out_rows = Tensor<std::int64_t>::empty({unique});
  Tensor<T> out_vals = Tensor<T>::empty({unique, D});
  const Tensor<T> v = values.contiguous();
  std::int64_t at = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t src = order[static_cast<std::size_t>(i)];
    T* dst;
    if (i == 0 || r[src] != out_rows.data()[at]) {
      out_rows.data()[++at] = r[src];
      dst = out_vals.data() + at * D;
      std::copy_n(v.data() + src * D, D, dst);
      continue;
    }
    dst = out_vals.data() + at * D;
    const T* s = v.data() + src * D;
    for (std::int64_t d = 0; d < D; ++d) dst[d] += s[d];
  }
  rows = std::move(out_rows);
  values = std::move(out_vals);
}

/// The row-sparse gradient of a 2-D leaf (V, D): the rows it touches (n) and their values
/// (n, D), as embedding ops built with sparse = true give it. Rows may repeat until coalesce().
/// A leaf holds one only while its gradient is row-sparse (VarImpl::sparse_grad), so the common
/// VarImpl carries a null pointer instead of two tensors (992 → 512 bytes for float, each
/// zeroed and destroyed once per op).
template <class T>
class RowSparseGrad {
 public:
  RowSparseGrad(Tensor<std::int64_t> rows, Tensor<T> values)
      : rows_(std::move(rows)), values_(std::move(values)) {}
  /// Adds more rows (another lookup's gradient into the same leaf).
  void append(const Tensor<std::int64_t>& rows, const Tensor<T>& values) {
    rows_ = cat(std::vector<Tensor<std::int64_t>>{rows_, rows});
    values_ = cat(std::vector<Tensor<T>>{values_, values});
  }
  /// Sums the values of repeated rows and sorts the rows.
  void coalesce() { coalesce_rows(rows_, values_); }
  /// dense[rows[i], :] += values[i, :] for a contiguous (V, D) `dense`.
  void add_to(const Tensor<T>& dense) const { add_rows(dense, rows_, values_); }
  const Tensor<std::int64_t>& rows() const { return rows_; }
  const Tensor<T>& values() const { return values_; }

 private:
  Tensor<std::int64_t> rows_;
  Tensor<T> values_;
};

template <class T>
struct VarImpl {
  Tensor<T> data;
  Tensor<T> grad;  // meaningful only when has_grad
  bool has_grad = false;
  bool requires_grad = false;
  // A row-sparse gradient of a leaf; never set together with a dense `grad`.
  std::unique_ptr<RowSparseGrad<T>> sparse_grad;
  std::shared_ptr<Node<T>> grad_fn;  // null for leaves
};

/// Turns a leaf's row-sparse gradient into a dense one (kept).
template <class T>
void densify_grad(VarImpl<T>& v) {
  if (v.sparse_grad == nullptr) return;
  Tensor<T> g = Tensor<T>::empty(v.data.shape());
  g.fill_(T(0));
  v.sparse_grad->add_to(g);
  v.grad = std::move(g);
  v.has_grad = true;
  v.sparse_grad.reset();
}

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
  /// The accumulated gradient of a leaf (ember::Error if none was computed yet). A row-sparse
  /// gradient is made dense here (and stays dense).
  const Tensor<T>& grad() const {
    EMBER_CHECK(has_grad(), "grad", "no gradient: call backward() on a result first");
    detail::densify_grad(*impl_);
    return impl_->grad;
  }
  bool has_grad() const { return checked()->has_grad || impl_->sparse_grad != nullptr; }
  /// True when the gradient is held row-sparse (from embedding ops with sparse = true).
  bool grad_is_sparse() const { return checked()->sparse_grad != nullptr; }
  /// The row-sparse gradient, coalesced: unique sorted rows (n) and their values (n, D).
  std::pair<Tensor<std::int64_t>, Tensor<T>> sparse_grad() const {
    EMBER_CHECK(grad_is_sparse(), "sparse_grad", "the gradient is not row-sparse");
    impl_->sparse_grad->coalesce();
    return {impl_->sparse_grad->rows(), impl_->sparse_grad->values()};
  }
  /// Forgets the accumulated gradient.
  void zero_grad() const {
    checked()->has_grad = false;
    impl_->grad = Tensor<T>();
    impl_->sparse_grad.reset();
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
              std::span<const Var<T>* const> inputs) {
  node->needs_grad.reserve(inputs.size());
  node->inputs.reserve(inputs.size());
  for (const Var<T>* v : inputs) {
    const bool g = v->requires_grad();
    node->needs_grad.push_back(g);
    node->inputs.push_back(g ? v->impl() : nullptr);
  }
  return Var<T>::from_node(std::move(out), std::move(node));
}
template <class T, class NodeT>
Var<T> attach(Tensor<T> out, std::shared_ptr<NodeT> node,
              std::initializer_list<const Var<T>*> inputs) {
  return attach<T>(std::move(out), std::move(node),
                   std::span<const Var<T>* const>(inputs.begin(), inputs.size()));
}

}  // namespace detail

}  // namespace ember
