// ember/autograd/engine.hpp — backward(): reverse-mode accumulation over the recorded graph.
// Layer: autograd. micrograd's engine at tensor granularity: order the VarImpls reachable from
// the root topologically (iterative DFS), walk them in reverse, ask each Node for its inputs'
// gradients and sum them per input; leaves that require grad accumulate into `grad` across
// calls (as PyTorch: call zero_grad() between steps). Intermediate gradients live only for the
// duration of the walk.
#pragma once

#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/autograd/variable.hpp"
#include "ember/kernels/elementwise.hpp"
#include "ember/kernels/index.hpp"

namespace ember {

namespace detail {

// Adds rows of gradient into a 2-D leaf: into its dense gradient if it has one, else appended
// to its row-sparse one.
template <class T>
void accumulate_sparse(VarImpl<T>& leaf, Tensor<std::int64_t> rows, Tensor<T> values) {
  if (!leaf.requires_grad) return;
  if (leaf.has_grad) {
    add_rows(leaf.grad, rows, values);
  } else if (leaf.has_sparse_grad) {
    leaf.sparse_rows = cat(std::vector<Tensor<std::int64_t>>{leaf.sparse_rows, rows});
    leaf.sparse_values = cat(std::vector<Tensor<T>>{leaf.sparse_values, values});
  } else {
    leaf.sparse_rows = std::move(rows);
    leaf.sparse_values = std::move(values);
    leaf.has_sparse_grad = true;
  }
}

template <class T>
void run_backward(const std::shared_ptr<VarImpl<T>>& root, Tensor<T> seed, bool retain_graph) {
  EMBER_CHECK(root->requires_grad, "backward",
              "this Var does not require grad: nothing it depends on has requires_grad=true");
  // Topological order: children (inputs) before parents, by iterative post-order DFS. The
  // order holds owning pointers: releasing a Node drops its inputs, which may be the only owner
  // of an intermediate VarImpl still to be visited.
  std::vector<std::shared_ptr<VarImpl<T>>> order;
  std::unordered_map<VarImpl<T>*, bool> visited;
  std::vector<std::pair<std::shared_ptr<VarImpl<T>>, std::size_t>> stack{{root, 0}};
  visited[root.get()] = true;
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    Node<T>* fn = v->grad_fn.get();
    if (fn != nullptr && fn->released) {
      fail("backward", "the graph through '", fn->name(),
           "' was freed by an earlier backward(); pass retain_graph=true to backward twice");
    }
    if (fn != nullptr && next < fn->inputs.size()) {
      const std::shared_ptr<VarImpl<T>>& in = fn->inputs[next++];
      if (in != nullptr && !visited[in.get()]) {
        visited[in.get()] = true;
        stack.emplace_back(in, 0);
      }
      continue;
    }
    order.push_back(v);
    stack.pop_back();
  }

  std::unordered_map<VarImpl<T>*, Tensor<T>> grads;
  grads.emplace(root.get(), std::move(seed));
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    VarImpl<T>* v = it->get();
    auto found = grads.find(v);
    if (found == grads.end()) continue;
    Tensor<T> g = std::move(found->second);
    grads.erase(found);
    if (v->grad_fn == nullptr) {  // a leaf: accumulate
      if (v->requires_grad) {
        densify_grad(*v);  // a dense gradient joins a row-sparse one: both become dense
        if (v->has_grad) {
          add_(v->grad, g);
        } else {
          // The leaf must own its gradient: later accumulation writes into it. A fresh,
          // unshared, contiguous result of a backward is adopted as it is; anything that shares
          // its buffer (an op's dout passed through, the caller's seed) is copied.
          const bool sole_owner = g.storage().use_count() == 1 && g.is_contiguous();
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
      auto slot = grads.find(in);
      if (slot == grads.end())
        grads.emplace(in, std::move(gin[i]));
      else
        slot->second = add(slot->second, gin[i]);
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
