// ember/nn/masked_lm.hpp — masked-language-model inputs (BERT, Devlin et al. 2019).
// Layer: nn. mask_tokens picks each eligible token with probability p (15%) and replaces the
// picked ones by [MASK] (80%), a random token (10%) or leaves them (10%); the model is scored
// on the picked positions only. As Hugging Face's DataCollatorForLanguageModeling, with two
// differences: the draws come from ember's Generator (the same mask for the same seed on every
// platform), and a batch in which no token was picked gets one picked uniformly (so the loss
// is always defined).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ember/core/error.hpp"
#include "ember/core/factory.hpp"
#include "ember/core/random.hpp"
#include "ember/core/tensor.hpp"

namespace ember::nn {

struct MaskedLmOptions {
  std::int64_t vocab_size = 0;  // ids are in [0, vocab_size)
  std::int64_t mask_id = -1;    // the [MASK] token
  double probability = 0.15;    // of picking each eligible token
  double mask_fraction = 0.8;   // of the picked: replaced by [MASK]
  double random_fraction = 0.1; // of the picked: replaced by a random token (the rest stay)
  std::int64_t random_low = 0;  // random replacements are drawn from [random_low, vocab_size)
  std::vector<std::int64_t> special_ids;  // never picked (padding, [CLS], [SEP], …)
};

struct MaskedLmBatch {
  Tensor<std::int64_t> inputs;     // (B, T): the ids with the picked ones replaced
  Tensor<std::int64_t> positions;  // (M): flat indices b·T + t of the picked tokens, ascending
  Tensor<std::int64_t> targets;    // (M): their original ids
};

/// Masks `ids` (B, T) for one MLM step. Draws, in row-major order, one uniform per eligible
/// token, and for a picked token one more for its replacement (and one for a random id).
inline MaskedLmBatch mask_tokens(const Tensor<std::int64_t>& ids, const MaskedLmOptions& o,
                                 Generator& gen) {
  EMBER_CHECK(ids.dim() == 2, "mask_tokens", "expects ids (B, T), got ", ids.shape());
  EMBER_CHECK(o.vocab_size > 0 && o.mask_id >= 0 && o.mask_id < o.vocab_size, "mask_tokens",
              "mask_id ", o.mask_id, " is outside the vocabulary [0, ", o.vocab_size, ")");
  EMBER_CHECK(o.probability > 0 && o.probability <= 1, "mask_tokens",
              "probability must be in (0, 1], got ", o.probability);
  EMBER_CHECK(o.mask_fraction >= 0 && o.random_fraction >= 0 &&
                  o.mask_fraction + o.random_fraction <= 1,
              "mask_tokens", "mask_fraction ", o.mask_fraction, " and random_fraction ",
              o.random_fraction, " must be non-negative and sum to at most 1");
  EMBER_CHECK(o.random_low >= 0 && o.random_low < o.vocab_size, "mask_tokens", "random_low ",
              o.random_low, " is outside the vocabulary [0, ", o.vocab_size, ")");
  const Tensor<std::int64_t> src = ids.contiguous();
  const std::int64_t n = src.numel();
  const std::int64_t* in = src.data();
  for (std::int64_t i = 0; i < n; ++i) {
    EMBER_CHECK(in[i] >= 0 && in[i] < o.vocab_size, "mask_tokens", "id ", in[i], " at flat index ",
                i, " is outside the vocabulary [0, ", o.vocab_size, ")");
  }
  auto special = [&](std::int64_t id) {
    return std::find(o.special_ids.begin(), o.special_ids.end(), id) != o.special_ids.end();
  };
  MaskedLmBatch out;
  out.inputs = src.clone();
  std::int64_t* x = out.inputs.data();
  std::vector<std::int64_t> picked;
  std::int64_t eligible = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (special(in[i])) continue;
    ++eligible;
    if (gen.next_double() < o.probability) picked.push_back(i);
  }
  EMBER_CHECK(eligible > 0, "mask_tokens", "every one of the ", n,
              " ids of the batch ", ids.shape(), " is special: nothing to mask");
  if (picked.empty()) {  // keep the loss defined: pick one eligible token uniformly
    auto k = static_cast<std::int64_t>(gen.next_below(static_cast<std::uint64_t>(eligible)));
    for (std::int64_t i = 0; i < n; ++i) {
      if (special(in[i])) continue;
      if (k-- == 0) {
        picked.push_back(i);
        break;
      }
    }
  }
  const auto span = static_cast<std::uint64_t>(o.vocab_size - o.random_low);
  for (std::int64_t i : picked) {
    const double r = gen.next_double();
    if (r < o.mask_fraction) {
      x[i] = o.mask_id;
    } else if (r < o.mask_fraction + o.random_fraction) {
      x[i] = o.random_low + static_cast<std::int64_t>(gen.next_below(span));
    }
  }
  const auto M = static_cast<std::int64_t>(picked.size());
  out.positions = Tensor<std::int64_t>::empty({M});
  out.targets = Tensor<std::int64_t>::empty({M});
  for (std::int64_t j = 0; j < M; ++j) {
    out.positions.data()[j] = picked[static_cast<std::size_t>(j)];
    out.targets.data()[j] = in[picked[static_cast<std::size_t>(j)]];
  }
  return out;
}

}  // namespace ember::nn
