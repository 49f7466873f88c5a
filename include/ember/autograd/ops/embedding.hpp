// ember/autograd/ops/embedding.hpp — embedding and embedding_bag: rows of a table gathered by id
// (and summed or averaged per bag), with dense or row-sparse gradients.
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
#include "ember/kernels/embedding.hpp"

namespace ember {

namespace ops {

// out[..., :] = weight[ids[...], :]; weight: (V, D), ids: any shape of int64 → (ids..., D).
// dweight gets dout rows added into the rows that were used (others stay zero).
template <class T>
struct Embedding : Node<T> {
  Tensor<std::int64_t> ids;  // contiguous
  std::int64_t vocab = 0;
  bool sparse = false;
  static Var<T> apply(const Var<T>& weight, const Tensor<std::int64_t>& ids_in, bool sparse) {
    EMBER_CHECK(weight.dim() == 2, "embedding", "expects a weight (V, D), got ", weight.shape());
    const std::int64_t V = weight.size(0), D = weight.size(1);
    Tensor<std::int64_t> ids = ids_in.contiguous();
    Shape out_shape = ids.shape();
    out_shape.push_back(D);
    for (std::int64_t i = 0, n = ids.numel(); i < n; ++i) {
      const std::int64_t id = ids.data()[i];
      EMBER_CHECK(id >= 0 && id < V, "embedding", "index ", id, " at position ", i,
                  " is out of range for ", V, " rows");
    }
    Tensor<T> out = Tensor<T>::empty(out_shape);
    const Tensor<T> w = weight.data().contiguous();
    kernels::embedding_forward(w.data(), D, ids.data(), ids.numel(), out.data());
    if (!detail::needs_graph<T>(weight)) return Var<T>(out);
    auto node = std::make_shared<Embedding>();
    node->ids = ids;
    node->vocab = V;
    node->sparse = sparse;
    return detail::attach<T>(std::move(out), std::move(node), {&weight});
  }
  // With sparse = true: the rows used, each once, with their summed gradients.
  bool sparse_backward(const Tensor<T>& dout, Tensor<std::int64_t>& rows,
                       Tensor<T>& values) override {
    if (!sparse) return false;
    rows = ids.reshape({-1}).clone();
    values = dout.reshape({-1, dout.size(-1)}).clone();
    detail::coalesce_rows(rows, values);
    return true;
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const std::int64_t D = dout.size(-1);
    Tensor<T> dw = zeros<T>({vocab, D});
    const Tensor<T> g = dout.reshape({-1, D}).contiguous();
    kernels::embedding_backward(g.data(), D, ids.data(), ids.numel(), dw.data());
    return {dw};
  }
  const char* name() const override { return "embedding"; }
  void release_saved() override { ids = Tensor<std::int64_t>(); }
};

// out[b] = Σ (or mean) of weight[ids[j]] for j in [offsets[b], offsets[b+1]) (the last bag runs
// to the end of ids), as torch.nn.functional.embedding_bag; an empty bag gives zeros. With
// per_sample_weights p (n, mode Sum only, as torch): out[b] = Σ p[j]·weight[ids[j]] (TF-IDF
// weighted bags); p is a constant (no gradient flows to it).
// weight (V, D), ids (n), offsets (B) → (B, D). dweight[ids[j]] += c_j·dout[b], c_j = p[j]
// or 1 / bag size (mean) or 1.
template <class T>
struct EmbeddingBag : Node<T> {
  Tensor<std::int64_t> ids, offsets;  // contiguous
  std::int64_t vocab = 0;
  BagMode mode = BagMode::Mean;
  bool sparse = false;
  Tensor<T> psw;  // per-sample weights (n), contiguous, or empty

  static Var<T> apply(const Var<T>& weight, const Tensor<std::int64_t>& ids_in,
                      const Tensor<std::int64_t>& offsets_in, BagMode mode, bool sparse,
                      const Tensor<T>& per_sample_weights) {
    EMBER_CHECK(weight.dim() == 2, "embedding_bag", "expects a weight (V, D), got ",
                weight.shape());
    EMBER_CHECK(ids_in.dim() == 1 && offsets_in.dim() == 1, "embedding_bag",
                "expects 1-D ids and offsets, got ", ids_in.shape(), " and ", offsets_in.shape());
    const std::int64_t V = weight.size(0), D = weight.size(1);
    const std::int64_t n = ids_in.numel(), B = offsets_in.numel();
    Tensor<std::int64_t> ids = ids_in.contiguous(), offsets = offsets_in.contiguous();
    const std::int64_t* off = offsets.data();
    for (std::int64_t b = 0; b < B; ++b) {
      const std::int64_t end = b + 1 < B ? off[b + 1] : n;
      EMBER_CHECK(off[b] >= 0 && off[b] <= end && end <= n, "embedding_bag", "offsets[", b,
                  "] = ", off[b], " does not start a bag inside ", n,
                  " ids (offsets must be non-decreasing from 0)");
    }
    EMBER_CHECK(B == 0 || off[0] == 0 || n == 0, "embedding_bag", "offsets[0] must be 0, got ",
                off[0]);
    for (std::int64_t j = 0; j < n; ++j) {
      EMBER_CHECK(ids.data()[j] >= 0 && ids.data()[j] < V, "embedding_bag", "index ",
                  ids.data()[j], " at position ", j, " is out of range for ", V, " rows");
    }
    const bool weighted = per_sample_weights.numel() > 0 || per_sample_weights.dim() != 1;
    Tensor<T> psw;
    if (weighted) {
      EMBER_CHECK(mode == BagMode::Sum, "embedding_bag",
                  "per_sample_weights need mode Sum (as torch)");
      EMBER_CHECK(per_sample_weights.shape() == ids.shape(), "embedding_bag",
                  "per_sample_weights ", per_sample_weights.shape(), " must match ids ",
                  ids.shape());
      psw = per_sample_weights.contiguous();
    }
    const T* p = weighted ? psw.data() : nullptr;
    const Tensor<T> w = weight.data().contiguous();
    Tensor<T> out = Tensor<T>::empty({B, D});
    kernels::embedding_bag_forward(w.data(), D, ids.data(), n, off, B, mode, p, out.data());
    if (!detail::needs_graph<T>(weight)) return Var<T>(out);
    auto node = std::make_shared<EmbeddingBag>();
    node->ids = ids;
    node->offsets = offsets;
    node->vocab = V;
    node->mode = mode;
    node->sparse = sparse;
    node->psw = psw;
    return detail::attach<T>(std::move(out), std::move(node), {&weight});
  }
  // One gradient row per id occurrence: c_j·dout[b] for occurrence j of bag b.
  Tensor<T> occurrence_grads(const Tensor<T>& dout) const {
    const std::int64_t D = dout.size(1), B = offsets.numel(), n = ids.numel();
    const Tensor<T> g = dout.contiguous();
    Tensor<T> values = Tensor<T>::empty({n, D});
    kernels::embedding_bag_occurrence_grads(g.data(), D, n, offsets.data(), B, mode,
                                            psw.numel() > 0 ? psw.data() : nullptr,
                                            values.data());
    return values;
  }
  // With sparse = true: the occurrence rows coalesced to the unique rows used. A bow model's
  // batch touches thousands of rows of a table with hundreds of thousands; the dense form would
  // write and the optimiser read all of them.
  bool sparse_backward(const Tensor<T>& dout, Tensor<std::int64_t>& rows,
                       Tensor<T>& values) override {
    if (!sparse) return false;
    rows = ids.clone();
    values = occurrence_grads(dout);
    detail::coalesce_rows(rows, values);
    return true;
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    Tensor<T> dw = zeros<T>({vocab, dout.size(1)});
    detail::add_rows(dw, ids, occurrence_grads(dout));
    return {dw};
  }
  const char* name() const override { return "embedding_bag"; }
  void release_saved() override {
    ids = offsets = Tensor<std::int64_t>();
    psw = Tensor<T>();
  }
};

}  // namespace ops

/// Rows of `weight` (V, D) picked by `ids`: (ids..., D).
/// With `sparse`, a leaf weight receives a row-sparse gradient (only the rows used; see
/// Var::sparse_grad), as torch's sparse=True.
template <FloatingScalar T>
Var<T> embedding(const Var<T>& weight, const Tensor<std::int64_t>& ids, bool sparse = false) {
  return ops::Embedding<T>::apply(weight, ids, sparse);
}
/// Sums (or means) of the rows of `weight` (V, D) over bags of `ids` (n): bag b is
/// ids[offsets[b] : offsets[b+1]] (the last runs to the end) → (B, D); empty bags give zeros.
/// With `sparse`, a leaf weight receives a row-sparse gradient (see Var::sparse_grad). With
/// `per_sample_weights` (n; mode Sum), each row is scaled by its weight before summing.
template <FloatingScalar T>
Var<T> embedding_bag(const Var<T>& weight, const Tensor<std::int64_t>& ids,
                     const Tensor<std::int64_t>& offsets, BagMode mode = BagMode::Mean,
                     bool sparse = false, const Tensor<T>& per_sample_weights = Tensor<T>()) {
  return ops::EmbeddingBag<T>::apply(weight, ids, offsets, mode, sparse, per_sample_weights);
}

}  // namespace ember
