// models/classifier.hpp — what every model kind is: a module from a padded batch of token ids
// to class logits.
#pragma once

#include <ember/ember.hpp>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace sentiment {

namespace nn = ember::nn;
using ember::Tensor;
using ember::Var;

/// A padded batch: ids (B, L) with <pad> = 0 beyond each length, and the flat form
/// (ids, offsets) for bag models.
struct Batch {
  Tensor<std::int64_t> ids, flat, offsets, labels;
  Tensor<float> weights;  // per flat id (weighted bags), or empty
  std::vector<std::int64_t> lengths;
};

/// `padded`: build ids (B, L) too (sequence models); bag models read only the flat form, and a
/// padded copy of a batch holding one 1 MB text would cost gigabytes.
inline Batch make_batch(const std::vector<const std::vector<std::int64_t>*>& seqs,
                        const std::vector<int>& labels, std::int64_t min_len,
                        const std::vector<const std::vector<float>*>& weights = {}, bool padded = true) {
  Batch b;
  const auto B = static_cast<std::int64_t>(seqs.size());
  std::int64_t L = min_len, total = 0;
  for (auto* s : seqs) {
    L = std::max<std::int64_t>(L, static_cast<std::int64_t>(s->size()));
    total += static_cast<std::int64_t>(s->size());
  }
  b.ids = padded ? ember::zeros<std::int64_t>({B, L}) : Tensor<std::int64_t>::empty({B, 0});
  b.flat = Tensor<std::int64_t>::empty({total});
  b.offsets = Tensor<std::int64_t>::empty({B});
  b.labels = Tensor<std::int64_t>::empty({B});
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < B; ++i) {
    const auto& s = *seqs[static_cast<std::size_t>(i)];
    b.offsets.data()[i] = at;
    for (std::size_t j = 0; j < s.size(); ++j) {
      if (padded) b.ids.data()[i * L + static_cast<std::int64_t>(j)] = s[j];
      b.flat.data()[at++] = s[j];
    }
    b.lengths.push_back(static_cast<std::int64_t>(s.size()));
    b.labels.data()[i] = labels.empty() ? 0 : labels[static_cast<std::size_t>(i)];
  }
  if (!weights.empty()) {
    b.weights = Tensor<float>::empty({total});
    std::int64_t k = 0;
    for (auto* w : weights) {
      for (float x : *w) b.weights.data()[k++] = x;
    }
  }
  return b;
}

class Classifier : public nn::Module<float> {
 public:
  /// Logits (B, num_classes).
  virtual Var<float> forward(const Batch& b) = 0;
  /// Shortest padded length the model accepts (the widest convolution).
  virtual std::int64_t min_length() const { return 1; }
  /// Whether forward() reads Batch::ids (B, L); bag models read only the flat ids.
  virtual bool padded_input() const { return true; }
  /// Each parameter's multipliers of the learning rate and the weight decay, in the order of
  /// parameters(): a fine-tuning recipe's parameter groups (here: all 1).
  virtual std::vector<ember::optim::ParamScale> param_scales(double /*layer_decay*/) const {
    return std::vector<ember::optim::ParamScale>(parameters().size());
  }
};


}  // namespace sentiment
