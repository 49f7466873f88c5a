// ember/autograd/engine.hpp — backward(): reverse-mode accumulation over the recorded graph.
// Layer: autograd. micrograd's engine at tensor granularity: order the VarImpls reachable from
// the root topologically (iterative DFS), walk them in reverse, ask each Node for its inputs'
// gradients and sum them per input; leaves that require grad accumulate into `grad` across
// calls (as PyTorch: call zero_grad() between steps). Intermediate gradients live only for the
// duration of the walk.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ember/autograd/variable.hpp"
#include "ember/kernels/elementwise.hpp"

namespace ember {

namespace detail {

// Adds rows of gradient into a 2-D leaf: into its dense gradient if it has one, else appended
// to its row-sparse one.
template <class T>
void accumulate_sparse(VarImpl<T>& leaf, Tensor<std::int64_t> rows, Tensor<T> values) {
  if (!leaf.requires_grad) return;
  if (leaf.has_grad) {
    add_rows(leaf.grad, rows, values);
  } else if (leaf.sparse_grad != nullptr) {
    leaf.sparse_grad->append(rows, values);
  } else {
    leaf.sparse_grad = std::make_unique<RowSparseGrad<T>>(std::move(rows), std::move(values));
  }
}

/// VarImpl* → its position in a backward pass's topological order: open addressing with linear
/// probing in one power-of-two array, so a pass over a small graph allocates a handful of
/// buffers instead of a hash node per Var (std::unordered_map was a third of the fixed cost per
/// op; see the speed note on run_backward).
template <class Key>
class PointerIndex {
 public:
  /// The index of `k`, or -1.
  std::int64_t find(const Key* k) const {
    if (slots_.empty()) return -1;
    for (std::size_t i = hash(k);; i = (i + 1) & mask_) {
      if (slots_[i].key == k) return slots_[i].index;
      if (slots_[i].key == nullptr) return -1;
    }
  }
  /// Changes the index recorded for k (k present).
  void assign(const Key* k, std::int64_t index) {
    for (std::size_t i = hash(k);; i = (i + 1) & mask_) {
      if (slots_[i].key == k) {
        slots_[i].index = index;
        return;
      }
    }
  }
  /// Records k → index (k not present yet).
  void insert(const Key* k, std::int64_t index) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    place(k, index);
    ++size_;
  }

 private:
  struct Slot {
    const Key* key = nullptr;
    std::int64_t index = -1;
  };
  std::size_t hash(const Key* k) const {
    // Fibonacci hashing of the address (its low bits are alignment zeros).
    return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(k) * 0x9E3779B97F4A7C15ull) >> 20) & mask_;
  }
  void place(const Key* k, std::int64_t index) {
    std::size_t i = hash(k);
    while (slots_[i].key != nullptr) i = (i + 1) & mask_;
    slots_[i] = Slot{k, index};
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 32 : 2 * old.size(), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.key != nullptr) place(s.key, s.index);
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

// Speed target (bench_autograd autograd/op_overhead, 4-element tensors, one forward op and its
// share of backward): ≤ 0.5 µs per op (issue 13). Measured on the Zen 5 guest, back to back:
// 0.90–1.15 µs before the flat index, the inline input lists of Node (core/small_vector.hpp)
// and the same-shape fast path of the element-wise maps, 0.72–0.83 µs after; then, with the
// allocator's per-thread cache of small blocks and the in-place accumulation below, a median
// of 0.495 µs against 0.565 before (ten alternating rounds, pinned to one core; README,
// "Autograd overhead"). Reached on that day's host, by a hair.
template <class T>
void run_backward(const std::shared_ptr<VarImpl<T>>& root, Tensor<T> seed, bool retain_graph) {
  EMBER_CHECK(root->requires_grad, "backward",
              "this Var does not require grad: nothing it depends on has requires_grad=true");
  // Topological order: children (inputs) before parents, by iterative post-order DFS. The
  // order holds owning pointers: releasing a Node drops its inputs, which may be the only owner
  // of an intermediate VarImpl still to be visited. `index` maps a visited VarImpl to its slot
  // in `order` (-2 until it is placed there).
  std::vector<std::shared_ptr<VarImpl<T>>> order;
  PointerIndex<VarImpl<T>> index;
  std::vector<std::pair<std::shared_ptr<VarImpl<T>>, std::size_t>> stack;
  stack.reserve(16);
  stack.emplace_back(root, 0);
  index.insert(root.get(), -2);
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    Node<T>* fn = v->grad_fn.get();
    if (fn != nullptr && fn->released) {
      fail("backward", "the graph through '", fn->name(),
           "' was freed by an earlier backward(); pass retain_graph=true to backward twice");
    }
    if (fn != nullptr && next < fn->inputs.size()) {
      const std::shared_ptr<VarImpl<T>>& in = fn->inputs[next++];
      if (in != nullptr && index.find(in.get()) == -1) {
        index.insert(in.get(), -2);
        stack.emplace_back(in, 0);
      }
      continue;
    }
    index.assign(v.get(), static_cast<std::int64_t>(order.size()));
    order.push_back(std::move(v));
    stack.pop_back();
  }

  // grads[i]: the gradient summed so far for order[i], present where arrived[i].
  std::vector<Tensor<T>> grads(order.size());
  std::vector<unsigned char> arrived(order.size(), 0);
  grads.back() = std::move(seed);  // the root is last in post-order
  arrived.back() = 1;
  for (std::size_t at = order.size(); at-- > 0;) {
    VarImpl<T>* v = order[at].get();
    if (arrived[at] == 0) continue;
    Tensor<T> g = std::move(grads[at]);
    grads[at] = Tensor<T>();
    if (v->grad_fn == nullptr) {  // a leaf: accumulate
      if (v->requires_grad) {
        densify_grad(*v);  // a dense gradient joins a row-sparse one: both become dense
        if (v->has_grad) {
          add_(v->grad, g);
        } else {
          // The leaf must own its gradient: later accumulation writes into it. A fresh,
          // unshared, contiguous result of a backward is adopted as it is; anything that shares
          // its buffer (an op's dout passed through, the caller's seed) or borrows it (a seed
          // wrapping an Eigen matrix) is copied.
          const bool sole_owner = g.storage().exclusive() && g.is_contiguous();
          v->grad = sole_owner ? std::move(g) : g.clone();
          v->has_grad = true;
        }
      }
      continue;
    }
    Node<T>& fn = *v->grad_fn;
    if (fn.inputs.size() == 1 && fn.needs_grad[0] && fn.inputs[0] != nullptr &&
        fn.inputs[0]->grad_fn == nullptr && fn.inputs[0]->data.dim() == 2) {
      Tensor<std::int64_t> rows;
      Tensor<T> values;
      if (fn.sparse_backward(g, rows, values)) {
        accumulate_sparse(*fn.inputs[0], std::move(rows), std::move(values));
        if (!retain_graph) fn.release();
        continue;
      }
    }
    std::vector<Tensor<T>> gin = fn.backward(g);
    EMBER_CHECK(gin.size() == fn.inputs.size(), "backward", fn.name(), " returned ", gin.size(),
                " gradients for ", fn.inputs.size(), " inputs");
    for (std::size_t i = 0; i < gin.size(); ++i) {
      VarImpl<T>* in = fn.inputs[i].get();
      if (in == nullptr || !fn.needs_grad[i]) continue;
      EMBER_CHECK(gin[i].shape() == in->data.shape(), "backward", fn.name(),
                  " gave a gradient of shape ", gin[i].shape(), " for an input of shape ",
                  in->data.shape());
      const auto j = static_cast<std::size_t>(index.find(in));
      if (arrived[j] == 0) {
        grads[j] = std::move(gin[i]);
        arrived[j] = 1;
      } else if (grads[j].storage().exclusive() && grads[j].is_contiguous()) {
        add_(grads[j], gin[i]);  // the sum so far is ours alone: accumulate in place
      } else {
        grads[j] = add(grads[j], gin[i]);
      }
    }
    if (!retain_graph) fn.release();
  }
}

}  // namespace detail

template <FloatingScalar T>
void Var<T>::backward(bool retain_graph) const {
  EMBER_CHECK(numel() == 1, "backward",
              "an implicit gradient needs a one-element output, got shape ", shape(),
              "; pass the gradient explicitly");
  detail::run_backward(impl_, ones<T>(shape()), retain_graph);
}

template <FloatingScalar T>
void Var<T>::backward(const Tensor<T>& grad_output, bool retain_graph) const {
  EMBER_CHECK(grad_output.shape() == shape(), "backward", "gradient of shape ", grad_output.shape(),
              " for an output of shape ", shape());
  detail::run_backward(impl_, grad_output.contiguous(), retain_graph);
}

}  // namespace ember
