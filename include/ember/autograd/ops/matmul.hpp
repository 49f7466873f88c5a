// ember/autograd/ops/matmul.hpp — differentiable matmul (torch.matmul rules) and linear.
// Layer: autograd. For C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC, each summed over batch dims that were
// broadcast (sum_to). 1-D operands are lifted to matrices and their extra dim dropped again.
// Saves A and B (the handles, not copies).
#pragma once

#include "ember/autograd/function.hpp"
#include "ember/kernels/gemm/gemm.hpp"

namespace ember {

namespace ops {

template <class T>
struct Matmul : Node<T> {
  Tensor<T> a, b;
  static Var<T> apply(const Var<T>& x, const Var<T>& y) {
    Tensor<T> out = ember::matmul(x.data(), y.data());
    if (!detail::needs_graph<T>(x, y)) return Var<T>(out);
    auto n = std::make_shared<Matmul>();
    n->a = x.data();
    n->b = y.data();
    return detail::attach<T>(std::move(out), std::move(n), {&x, &y});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    // Lift vectors to matrices so one formula covers every rank: a [..., m, k], b [..., k, n].
    const bool a_vec = a.dim() == 1, b_vec = b.dim() == 1;
    Tensor<T> A = a_vec ? a.unsqueeze(0) : a, B = b_vec ? b.unsqueeze(1) : b;
    // dout without the dims matmul dropped for vector operands: batch + [m, n].
    Shape lifted = broadcast_shapes(Shape(A.shape().begin(), A.shape().end() - 2),
                                    Shape(B.shape().begin(), B.shape().end() - 2), "matmul");
    lifted.push_back(A.size(-2));
    lifted.push_back(B.size(-1));
    Tensor<T> dC = dout.reshape(lifted);
    Tensor<T> da, db;
    if (this->needs_grad[0]) {
      da = ember::matmul(dC, B.transpose(-1, -2));  // [..., m, k]
      da = detail::sum_to(da, A.shape());
      if (a_vec) da = da.reshape(a.shape());
    }
    if (this->needs_grad[1] && B.dim() == 2 && A.dim() > 2) {
      // A shared matrix under a batch (linear layers): one GEMM over all rows,
      // [k, batch·m]·[batch·m, n], instead of a batch of products summed afterwards.
      const std::int64_t k = A.size(-1), n = B.size(-1);
      db = ember::matmul(A.reshape({-1, k}).transpose(0, 1), dC.reshape({-1, n}));
      if (b_vec) db = db.reshape(b.shape());
    } else if (this->needs_grad[1]) {
      db = ember::matmul(A.transpose(-1, -2), dC);  // [..., k, n]
      db = detail::sum_to(db, B.shape());
      if (b_vec) db = db.reshape(b.shape());
    }
    return {da, db};
  }
  const char* name() const override { return "matmul"; }
  void release_saved() override { a = b = Tensor<T>(); }
};

}  // namespace ops

/// Differentiable matrix product with torch.matmul's rules.
template <FloatingScalar T>
Var<T> matmul(const Var<T>& a, const Var<T>& b) {
  return ops::Matmul<T>::apply(a, b);
}

}  // namespace ember
