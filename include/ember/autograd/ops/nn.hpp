// ember/autograd/ops/nn.hpp — differentiable neural-network ops, fused where fusion pays:
// softmax, log_softmax, cross_entropy (fused with log_softmax, ignore_index, label smoothing),
// binary_cross_entropy_with_logits, layer_norm, embedding, embedding_bag, conv1d, dropout,
// masked_fill, masked_mean, masked_max, gelu, linear.
// Layer: autograd. Shapes are written at each op; glossary: N rows (batch·time), C classes,
// D features, V vocabulary.
#pragma once

#include <cmath>
#include <limits>

#include "ember/autograd/function.hpp"
#include "ember/autograd/ops/elementwise.hpp"
#include "ember/autograd/ops/matmul.hpp"
#include "ember/autograd/ops/reduce.hpp"
#include "ember/autograd/ops/shape.hpp"
#include "ember/core/random.hpp"
#include "ember/kernels/dropout.hpp"
#include "ember/kernels/layernorm.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/kernels/softmax.hpp"

namespace ember {

/// How embedding_bag combines the rows of a bag.
enum class BagMode { Sum, Mean };

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
// x: (N, C) logits, targets: (N) class ids. Fused: dx_i = (softmax(x_i) − q_i) / n_valid, so the
// N×C probabilities are the only thing saved.
template <class T>
struct CrossEntropy : Node<T> {
  Tensor<T> probs;               // (N, C) softmax of the logits
  Tensor<std::int64_t> targets;  // (N)
  std::int64_t ignore_index = -100;
  double smoothing = 0;
  std::int64_t n_valid = 0;

  static Var<T> apply(const Var<T>& logits, const Tensor<std::int64_t>& targets_in,
                      std::int64_t ignore_index, double smoothing) {
    const Tensor<T>& x = logits.data();
    EMBER_CHECK(x.dim() == 2, "cross_entropy", "expects logits (N, C), got ", x.shape());
    EMBER_CHECK(targets_in.dim() == 1 && targets_in.size(0) == x.size(0), "cross_entropy",
                "targets ", targets_in.shape(), " do not match logits ", x.shape());
    EMBER_CHECK(smoothing >= 0 && smoothing <= 1, "cross_entropy", "label_smoothing ", smoothing,
                " is outside [0, 1]");
    const std::int64_t N = x.size(0), C = x.size(1);
    Tensor<std::int64_t> t = targets_in.contiguous();
    Tensor<T> logp = ember::log_softmax(x, -1);  // (N, C) contiguous
    const T* lp = logp.data();
    double total = 0;
    std::int64_t valid = 0;
    for (std::int64_t i = 0; i < N; ++i) {
      const std::int64_t ti = t.data()[i];
      if (ti == ignore_index) continue;
      EMBER_CHECK(ti >= 0 && ti < C, "cross_entropy", "target ", ti, " in row ", i,
                  " is out of range for ", C, " classes");
      double row = -(1.0 - smoothing) * static_cast<double>(lp[i * C + ti]);
      if (smoothing > 0) {
        double s = 0;
        for (std::int64_t c = 0; c < C; ++c) s += static_cast<double>(lp[i * C + c]);
        row -= smoothing / static_cast<double>(C) * s;
      }
      total += row;
      ++valid;
    }
    // Like PyTorch, a batch whose targets are all ignored has loss NaN (0/0).
    Tensor<T> out = scalar_tensor<T>(static_cast<T>(total / static_cast<double>(valid)));
    if (!detail::needs_graph<T>(logits)) return Var<T>(out);
    auto n = std::make_shared<CrossEntropy>();
    n->probs = ember::exp(logp);
    n->targets = t;
    n->ignore_index = ignore_index;
    n->smoothing = smoothing;
    n->n_valid = valid;
    return detail::attach<T>(std::move(out), std::move(n), {&logits});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const std::int64_t N = probs.size(0), C = probs.size(1);
    Tensor<T> dx = probs.clone();
    T* g = dx.data();
    const T scale = dout.item() / static_cast<T>(n_valid);
    const T off = static_cast<T>(smoothing / static_cast<double>(C));
    for (std::int64_t i = 0; i < N; ++i) {
      const std::int64_t ti = targets.data()[i];
      T* row = g + i * C;
      if (ti == ignore_index) {
        for (std::int64_t c = 0; c < C; ++c) row[c] = T(0);
        continue;
      }
      for (std::int64_t c = 0; c < C; ++c) row[c] = (row[c] - off) * scale;
      row[ti] -= static_cast<T>(1.0 - smoothing) * scale;
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

// y = (x − mean) · rstd · w + b over the last dim (size D); x: (..., D), w, b: (D).
// Saves x̂ = (x − mean)·rstd and rstd per row; backward (per row, with g = dy ⊙ w):
//   dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),  dw = Σ_rows dy ⊙ x̂,  db = Σ_rows dy.
template <class T>
struct LayerNorm : Node<T> {
  Tensor<T> xhat, rstd, w;  // xhat (R, D), rstd (R, 1), w (D): what dx needs
  Shape x_shape;
  // x: (..., D), weight, bias: (D) → (..., D). The kernel (kernels/layernorm.hpp) is finite for
  // every finite input.
  static Var<T> apply(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, double eps) {
    EMBER_CHECK(x.dim() >= 1, "layer_norm", "expects at least one dim, got ", x.shape());
    const std::int64_t D = x.size(-1);
    EMBER_CHECK(weight.shape() == Shape{D} && bias.shape() == Shape{D}, "layer_norm", "weight ",
                weight.shape(), " and bias ", bias.shape(), " must be [", D, "] for input ",
                x.shape());
    EMBER_CHECK(eps >= 0 && std::isfinite(eps), "layer_norm", "eps must be finite and >= 0, got ",
                eps);
    const Tensor<T> x2 = x.data().contiguous();
    const std::int64_t R = D == 0 ? 0 : x2.numel() / D;
    const Tensor<T> wc = weight.data().contiguous(), bc = bias.data().contiguous();
    Tensor<T> out = Tensor<T>::empty(x.shape());
    Tensor<T> xhat = Tensor<T>::empty({R, D}), rstd = Tensor<T>::empty({R, 1});
    detail::layer_norm_forward(x2.data(), wc.data(), bc.data(), out.data(), xhat.data(),
                               rstd.data(), R, D, eps);
    if (!detail::needs_graph<T>(x, weight, bias)) return Var<T>(out);
    auto n = std::make_shared<LayerNorm>();
    n->xhat = xhat;
    n->rstd = rstd;
    n->w = wc;
    n->x_shape = x.shape();
    return detail::attach<T>(std::move(out), std::move(n), {&x, &weight, &bias});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const std::int64_t D = xhat.size(1), R = xhat.size(0);
    Tensor<T> dy = dout.reshape({-1, D}).contiguous();
    Tensor<T> dx, dw, db;
    if (this->needs_grad[0]) {
      dx = Tensor<T>::empty(x_shape);
      detail::layer_norm_backward_input(dy.data(), w.data(), xhat.data(), rstd.data(), dx.data(),
                                        R, D);
    }
    if (this->needs_grad[1]) dw = ember::sum(dy * xhat, {0});
    if (this->needs_grad[2]) db = ember::sum(dy, {0});
    return {dx, dw, db};
  }
  const char* name() const override { return "layer_norm"; }
  void release_saved() override { xhat = rstd = w = Tensor<T>(); }
};

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
    Tensor<T> out = Tensor<T>::empty(out_shape);
    // Row copies straight between contiguous buffers: this runs every training step, and a
    // view plus a strided copy per row cost more than the copy itself.
    const Tensor<T> w = weight.data().contiguous();
    T* dst = out.data();
    for (std::int64_t i = 0, n = ids.numel(); i < n; ++i) {
      const std::int64_t id = ids.data()[i];
      EMBER_CHECK(id >= 0 && id < V, "embedding", "index ", id, " at position ", i,
                  " is out of range for ", V, " rows");
      std::copy_n(w.data() + id * D, D, dst + i * D);
    }
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
    Tensor<T> g = dout.reshape({-1, D}).contiguous();
    for (std::int64_t i = 0, n = ids.numel(); i < n; ++i) {
      T* dst = dw.data() + ids.data()[i] * D;
      const T* src = g.data() + i * D;
      for (std::int64_t d = 0; d < D; ++d) dst[d] += src[d];
    }
    return {dw};
  }
  const char* name() const override { return "embedding"; }
  void release_saved() override { ids = Tensor<std::int64_t>(); }
};

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

// y = where(mask, value, x) (mask broadcasts to x). dx = where(mask, 0, dy).
template <class T>
struct MaskedFill : Node<T> {
  Tensor<bool> mask;
  static Var<T> apply(const Var<T>& x, const Tensor<bool>& mask, T value) {
    EMBER_CHECK(broadcastable_to(mask.shape(), x.shape()), "masked_fill", "mask ", mask.shape(),
                " does not broadcast to ", x.shape());
    Tensor<T> out = where(mask, value, x.data());
    if (!detail::needs_graph<T>(x)) return Var<T>(out);
    auto n = std::make_shared<MaskedFill>();
    n->mask = mask;
    return detail::attach<T>(std::move(out), std::move(n), {&x});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override { return {where(mask, T(0), dy)}; }
  const char* name() const override { return "masked_fill"; }
  void release_saved() override { mask = Tensor<bool>(); }
};

// y = gelu(x) = x·Φ(x) (exact, erf form). dx = dy·(Φ(x) + x·φ(x)). Saves x.
template <class T>
struct Gelu : Unary<T, Gelu<T>> {
  static Var<T> apply(const Var<T>& a) {
    const Tensor<T>& x = a.data();
    Tensor<T> y;
    if (x.is_contiguous()) {  // the pointer kernel (kernels/activation.hpp)
      y = Tensor<T>::empty(x.shape());
      kernels::gelu_forward(x.data(), y.data(), x.numel());
    } else {
      y = ember::gelu(x);
    }
    return Unary<T, Gelu<T>>::record(a, y, true, false);
  }
  Tensor<T> grad(const Tensor<T>& dy) {
    using CT = compute_t<T>;
    const Tensor<T>& x = this->x;
    // One pass, not a derivative tensor and a product. Through the pointer kernel when both are
    // contiguous: map2's generic loop called the (large, inlined-math) lambda once per element,
    // which no compiler vectorises (19% of bench_autograd's encoder step, 1 thread).
    if (x.is_contiguous() && dy.is_contiguous() && dy.shape() == x.shape()) {
      Tensor<T> dx = Tensor<T>::empty(x.shape());
      kernels::gelu_backward(x.data(), dy.data(), dx.data(), x.numel());
      return dx;
    }
    return detail::map2<T>(x, dy, "gelu backward",
                           [](CT v, CT g) { return g * detail::gelu_grad(v); });
  }
  const char* name() const override { return "gelu"; }
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

  // Coefficient of occurrence j in a bag [start, end).
  static T coef(const T* p, std::int64_t j, BagMode mode, std::int64_t start, std::int64_t end) {
    if (p != nullptr) return p[j];
    return mode == BagMode::Mean ? T(1) / static_cast<T>(end - start) : T(1);
  }

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
    Tensor<T> out = zeros<T>({B, D});
    parallel_for(0, B, std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(D, 1)),
                 [&](std::int64_t b0, std::int64_t b1) {
                   for (std::int64_t b = b0; b < b1; ++b) {
                     const std::int64_t start = off[b], end = b + 1 < B ? off[b + 1] : n;
                     T* dst = out.data() + b * D;
                     for (std::int64_t j = start; j < end; ++j) {
                       const T* row = w.data() + ids.data()[j] * D;
                       const T c = p ? p[j] : T(1);
                       for (std::int64_t d = 0; d < D; ++d) dst[d] += c * row[d];
                     }
                     if (mode == BagMode::Mean && end > start) {
                       const T inv = T(1) / static_cast<T>(end - start);
                       for (std::int64_t d = 0; d < D; ++d) dst[d] *= inv;
                     }
                   }
                 });
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
    const T* p = psw.numel() > 0 ? psw.data() : nullptr;
    Tensor<T> values = Tensor<T>::empty({n, D});
    for (std::int64_t b = 0; b < B; ++b) {
      const std::int64_t start = offsets.data()[b], end = b + 1 < B ? offsets.data()[b + 1] : n;
      const T* src = g.data() + b * D;
      for (std::int64_t j = start; j < end; ++j) {
        const T c = coef(p, j, mode, start, end);
        T* dst = values.data() + j * D;
        for (std::int64_t d = 0; d < D; ++d) dst[d] = c * src[d];
      }
    }
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

// 1-D convolution (cross-correlation, as torch.nn.functional.conv1d):
//   y[b, o, l] = bias[o] + Σ_{c, k} w[o, c, k] · x[b, c, l·stride − padding + k·dilation]
// x (B, Cin, L), w (Cout, Cin, K), bias (Cout) → (B, Cout, Lout),
// Lout = (L + 2·padding − dilation·(K − 1) − 1) / stride + 1.
// Computed as one GEMM over unfolded input (im2col): cols (B·Lout, Cin·K) · wᵀ. Backward:
// dw = dyᵀ·cols, dcols = dy·w folded back into dx (col2im), db = Σ dy. Saves x (cols are rebuilt
// in backward: cheaper in memory than keeping them, and the unfold is a copy, not a GEMM).
template <class T>
struct Conv1d : Node<T> {
  Tensor<T> x, w;  // x (contiguous) only when the weight needs a gradient
  Shape x_shape;
  std::int64_t stride = 1, padding = 0, dilation = 1, l_out = 0;

  static std::int64_t out_length(std::int64_t L, std::int64_t K, std::int64_t stride,
                                 std::int64_t padding, std::int64_t dilation) {
    return (L + 2 * padding - dilation * (K - 1) - 1) / stride + 1;
  }
  // cols[(b·Lout + l), c·K + k] = x[b, c, l·stride − padding + k·dilation] or 0 outside.
  static Tensor<T> unfold(const Tensor<T>& xc, std::int64_t K, std::int64_t stride,
                          std::int64_t padding, std::int64_t dilation, std::int64_t l_out) {
    const std::int64_t B = xc.size(0), C = xc.size(1), L = xc.size(2);
    Tensor<T> cols = Tensor<T>::empty({B * l_out, C * K});
    const T* src = xc.data();
    T* dst = cols.data();
    parallel_for(0, B * l_out, 64, [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const std::int64_t b = r / l_out, l = r % l_out;
        T* row = dst + r * C * K;
        for (std::int64_t c = 0; c < C; ++c) {
          const T* xs = src + (b * C + c) * L;
          for (std::int64_t k = 0; k < K; ++k) {
            const std::int64_t pos = l * stride - padding + k * dilation;
            row[c * K + k] = (pos >= 0 && pos < L) ? xs[pos] : T(0);
          }
        }
      }
    });
    return cols;
  }

  static Var<T> apply(const Var<T>& input, const Var<T>& weight, const Var<T>* bias,
                      std::int64_t stride, std::int64_t padding, std::int64_t dilation) {
    EMBER_CHECK(input.dim() == 3 && weight.dim() == 3, "conv1d",
                "expects input (B, Cin, L) and weight (Cout, Cin, K), got ", input.shape(),
                " and ", weight.shape());
    const std::int64_t B = input.size(0), C = input.size(1), L = input.size(2);
    const std::int64_t O = weight.size(0), K = weight.size(2);
    EMBER_CHECK(weight.size(1) == C, "conv1d", "input ", input.shape(), " has ", C,
                " channels but weight ", weight.shape(), " expects ", weight.size(1));
    EMBER_CHECK(stride >= 1 && padding >= 0 && dilation >= 1, "conv1d", "stride ", stride,
                ", padding ", padding, ", dilation ", dilation, " are invalid");
    if (bias) {
      EMBER_CHECK(bias->shape() == Shape{O}, "conv1d", "bias ", bias->shape(), " must be [", O,
                  "]");
    }
    EMBER_CHECK(K >= 1, "conv1d", "weight ", weight.shape(), " has a kernel of size 0");
    // Padded length and the kernel's reach, checked for overflow (padding and dilation come from
    // users' configurations).
    std::int64_t padded = 0, reach = 0;
    const bool overflow = __builtin_mul_overflow(padding, 2, &padded) ||
                          __builtin_add_overflow(padded, L, &padded) ||
                          __builtin_mul_overflow(dilation, K - 1, &reach) ||
                          __builtin_add_overflow(reach, 1, &reach);
    EMBER_CHECK(!overflow, "conv1d", "padding ", padding, " or dilation ", dilation,
                " is too large for kernel size ", K, " (size overflow)");
    EMBER_CHECK(padded >= reach, "conv1d", "input length ", L, " (padding ", padding,
                ") is shorter than the kernel's reach ", reach);
    const std::int64_t l_out = out_length(L, K, stride, padding, dilation);
    Tensor<T> xc = input.data().contiguous();
    Tensor<T> cols = unfold(xc, K, stride, padding, dilation, l_out);
    // (B·Lout, Cin·K)·(Cin·K, Cout) → (B, Lout, Cout) → (B, Cout, Lout).
    Tensor<T> y = ember::matmul(cols, weight.data().reshape({O, C * K}).transpose(0, 1));
    Tensor<T> out = y.view({B, l_out, O}).permute({0, 2, 1}).contiguous();
    if (bias) out += bias->data().view({O, 1});
    const bool graph = bias ? detail::needs_graph<T>(input, weight, *bias)
                            : detail::needs_graph<T>(input, weight);
    if (!graph) return Var<T>(out);
    auto n = std::make_shared<Conv1d>();
    if (weight.requires_grad()) n->x = xc;
    n->w = weight.data();
    n->stride = stride;
    n->padding = padding;
    n->dilation = dilation;
    n->l_out = l_out;
    n->x_shape = input.shape();
    return bias ? detail::attach<T>(out, n, {&input, &weight, bias})
                : detail::attach<T>(out, n, {&input, &weight});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dout) override {
    const std::int64_t B = x_shape[0], C = x_shape[1], L = x_shape[2];
    const std::int64_t O = w.size(0), K = w.size(2);
    // dy as (B·Lout, Cout), the layout of the forward GEMM's result.
    Tensor<T> g = dout.permute({0, 2, 1}).contiguous().view({B * l_out, O});
    std::vector<Tensor<T>> grads(this->needs_grad.size());
    if (this->needs_grad[0]) {
      Tensor<T> dcols = ember::matmul(g, w.reshape({O, C * K}));  // (B·Lout, Cin·K)
      Tensor<T> dx = zeros<T>(x_shape);
      T* dst = dx.data();
      const T* src = dcols.data();
      parallel_for(0, B, 1, [&](std::int64_t b0, std::int64_t b1) {  // batches own their rows
        for (std::int64_t b = b0; b < b1; ++b) {
          for (std::int64_t l = 0; l < l_out; ++l) {
            const T* row = src + (b * l_out + l) * C * K;
            for (std::int64_t c = 0; c < C; ++c) {
              T* xs = dst + (b * C + c) * L;
              for (std::int64_t k = 0; k < K; ++k) {
                const std::int64_t pos = l * stride - padding + k * dilation;
                if (pos >= 0 && pos < L) xs[pos] += row[c * K + k];
              }
            }
          }
        }
      });
      grads[0] = dx;
    }
    if (this->needs_grad[1]) {
      Tensor<T> cols = unfold(x, K, stride, padding, dilation, l_out);
      grads[1] = ember::matmul(g.transpose(0, 1), cols).view({O, C, K});
    }
    if (grads.size() > 2 && this->needs_grad[2]) {
      const Tensor<T> gc = g.contiguous();  // (rows, features): the bias gradient sums rows
      grads[2] = Tensor<T>::empty({gc.size(1)});
      detail::column_sums(gc.data(), gc.size(0), gc.size(1), gc.size(1), grads[2].data());
    }
    return grads;
  }
  const char* name() const override { return "conv1d"; }
  void release_saved() override { x = w = Tensor<T>(); }
};

// y = x·wᵀ + b over all rows of x (..., in) → (..., out), one fused op: the forward is one GEMM
// with the bias as its beta = 1 input, and the backward computes each gradient in its own
// layout with one GEMM over all rows (N = rows of x):
//   dx = dy·w (N, in),  dw = dyᵀ·x (out, in),  db = Σ_rows dy.
// Composed as matmul(x, transpose(w)) + b instead, dw came out transposed and had to be
// copied, and the bias add was a separate pass. Saves x and w.
template <class T>
struct Linear : Node<T> {
  Tensor<T> x, w;
  static Var<T> apply(const Var<T>& input, const Var<T>& weight, const Var<T>* bias) {
    Tensor<T> out = ember::linear(input.data(), weight.data(),
                                  bias ? bias->data() : Tensor<T>());
    const bool graph = bias ? detail::needs_graph<T>(input, weight, *bias)
                            : detail::needs_graph<T>(input, weight);
    if (!graph) return Var<T>(out);
    auto n = std::make_shared<Linear>();
    if (weight.requires_grad()) n->x = input.data();
    if (input.requires_grad()) n->w = weight.data();
    return bias ? detail::attach<T>(out, n, {&input, &weight, bias})
                : detail::attach<T>(out, n, {&input, &weight});
  }
  std::vector<Tensor<T>> backward(const Tensor<T>& dy) override {
    const std::int64_t out_f = dy.size(-1);
    Tensor<T> g = dy.reshape({-1, out_f});
    std::vector<Tensor<T>> grads(this->needs_grad.size());
    if (this->needs_grad[0]) {
      Shape xs = dy.shape();
      xs[xs.rank() - 1] = w.size(1);
      grads[0] = ember::matmul(g, w).view(xs);
    }
    if (this->needs_grad[1]) {
      grads[1] = ember::matmul(g.transpose(0, 1), x.reshape({-1, x.size(-1)}));
    }
    if (grads.size() > 2 && this->needs_grad[2]) {
      const Tensor<T> gc = g.contiguous();  // (rows, features): the bias gradient sums rows
      grads[2] = Tensor<T>::empty({gc.size(1)});
      detail::column_sums(gc.data(), gc.size(0), gc.size(1), gc.size(1), grads[2].data());
    }
    return grads;
  }
  const char* name() const override { return "linear"; }
  void release_saved() override { x = w = Tensor<T>(); }
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
/// Layer normalisation over the last dim with affine weight and bias (D).
template <FloatingScalar T>
Var<T> layer_norm(const Var<T>& x, const Var<T>& weight, const Var<T>& bias, double eps = 1e-5) {
  return ops::LayerNorm<T>::apply(x, weight, bias, eps);
}
/// Rows of `weight` (V, D) picked by `ids`: (ids..., D).
/// With `sparse`, a leaf weight receives a row-sparse gradient (only the rows used; see
/// Var::sparse_grad), as torch's sparse=True.
template <FloatingScalar T>
Var<T> embedding(const Var<T>& weight, const Tensor<std::int64_t>& ids, bool sparse = false) {
  return ops::Embedding<T>::apply(weight, ids, sparse);
}
/// Inverted dropout with drop probability p, a no-op when not training.
template <FloatingScalar T>
Var<T> dropout(const Var<T>& x, double p, bool training, Generator& gen = default_generator()) {
  return ops::Dropout<T>::apply(x, p, training, gen);
}
/// x with `value` where mask is true (mask broadcasts to x).
template <FloatingScalar T>
Var<T> masked_fill(const Var<T>& x, const Tensor<bool>& mask, T value) {
  return ops::MaskedFill<T>::apply(x, mask, value);
}
/// Differentiable exact gelu.
template <FloatingScalar T>
Var<T> gelu(const Var<T>& x) {
  return ops::Gelu<T>::apply(x);
}
/// x·wᵀ + b (torch.nn.functional.linear): x (..., in), w (out, in), b (out).
template <FloatingScalar T>
Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  return ops::Linear<T>::apply(x, w, &b);
}
template <FloatingScalar T>
Var<T> linear(const Var<T>& x, const Var<T>& w) {
  return ops::Linear<T>::apply(x, w, nullptr);
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
/// 1-D convolution of x (B, Cin, L) with w (Cout, Cin, K) and bias (Cout) → (B, Cout, Lout).
template <FloatingScalar T>
Var<T> conv1d(const Var<T>& x, const Var<T>& w, const Var<T>& bias, std::int64_t stride = 1,
              std::int64_t padding = 0, std::int64_t dilation = 1) {
  return ops::Conv1d<T>::apply(x, w, &bias, stride, padding, dilation);
}
/// 1-D convolution without a bias.
template <FloatingScalar T>
Var<T> conv1d(const Var<T>& x, const Var<T>& w, std::int64_t stride = 1, std::int64_t padding = 0,
              std::int64_t dilation = 1) {
  return ops::Conv1d<T>::apply(x, w, nullptr, stride, padding, dilation);
}
/// Mean of x (B, T, D) over its time axis, leaving out the positions where `mask` (B, T) is
/// true (padding; the same convention as masked_fill and attention's padding mask) → (B, D).
/// A row with every position masked gives zeros. Gradient: dy / count at the kept positions.
template <FloatingScalar T>
Var<T> masked_mean(const Var<T>& x, const Tensor<bool>& mask) {
  EMBER_CHECK(x.dim() == 3 && mask.dim() == 2 && mask.size(0) == x.size(0) &&
                  mask.size(1) == x.size(1),
              "masked_mean", "expects x (B, T, D) and mask (B, T), got ", x.shape(), " and ",
              mask.shape());
  // weight[b, t] = keep / max(count_b, 1): the pooling is a weighted sum, so its gradient
  // is the weight itself — composing two recorded ops gives it exactly.
  Tensor<T> keep = where(mask, T(0), T(1));
  Tensor<T> count = clamp(ember::sum(keep, {1}, /*keepdim=*/true), T(1),
                          std::numeric_limits<T>::max());
  Var<T> weight((keep / count).unsqueeze(2));
  return sum(x * weight, {1});
}

/// Maximum of x (B, T, D) over its time axis, leaving out the positions where `mask` (B, T)
/// is true (padding) → (B, D): the max pooling of a padded batch (TextCNN's pooling,
/// sentence encoders' max pooling), without padding ever winning. A row with every position
/// masked gives zeros, as masked_mean. Gradient: dy to the position that holds the maximum.
template <FloatingScalar T>
Var<T> masked_max(const Var<T>& x, const Tensor<bool>& mask) {
  EMBER_CHECK(x.dim() == 3 && mask.dim() == 2 && mask.size(0) == x.size(0) &&
                  mask.size(1) == x.size(1),
              "masked_max", "expects x (B, T, D) and mask (B, T), got ", x.shape(), " and ",
              mask.shape());
  EMBER_CHECK(x.size(1) > 0, "masked_max", "needs at least one position, got x ", x.shape());
  const Tensor<bool> m = mask.contiguous();
  const std::int64_t B = m.size(0), Tn = m.size(1);
  Tensor<bool> empty_row = zeros<bool>({B, 1});
  for (std::int64_t b = 0; b < B; ++b) {
    bool all = true;
    for (std::int64_t t = 0; t < Tn && all; ++t) all = m.data()[b * Tn + t];
    empty_row.data()[b] = all;
  }
  Var<T> filled = masked_fill(x, m.unsqueeze(2), std::numeric_limits<T>::lowest());
  return masked_fill(max(filled, {1}), empty_row, T(0));
}

}  // namespace ember
