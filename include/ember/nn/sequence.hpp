// ember/nn/sequence.hpp — variable-length token sequences as one padded batch.
// Layer: nn. pad_sequences is torch.nn.utils.rnn.pad_sequence(batch_first=True) with the
// padding mask that attention (key_padding_mask), masked_mean and masked_max read: true at
// padding. Pooling over the real positions is masked_mean / masked_max (autograd/ops/masked.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "ember/core/error.hpp"
#include "ember/core/factory.hpp"
#include "ember/core/tensor.hpp"

namespace ember::nn {

/// A padded batch of token sequences.
struct PaddedBatch {
  Tensor<std::int64_t> ids;    // (B, L), `pad_id` past each sequence's end
  Tensor<bool> padding_mask;   // (B, L), true at padding
  std::vector<std::int64_t> lengths;  // the real length of each row (after truncation)
};

struct PadOptions {
  std::int64_t pad_id = 0;
  std::int64_t max_len = 0;  // keep at most this many ids per sequence (0: all)
  std::int64_t min_len = 1;  // pad every batch to at least this length
};

/// Pads `seqs` to the longest (truncated) sequence, or `min_len` if longer: L = max(min_len,
/// longest). An empty sequence is allowed (its row is all padding; pooling gives zeros).
inline PaddedBatch pad_sequences(const std::vector<std::span<const std::int64_t>>& seqs,
                                 const PadOptions& o = {}) {
  EMBER_CHECK(o.max_len >= 0 && o.min_len >= 0, "pad_sequences",
              "max_len and min_len must be non-negative, got ", o.max_len, " and ", o.min_len);
  EMBER_CHECK(o.max_len == 0 || o.min_len <= o.max_len, "pad_sequences", "min_len ", o.min_len,
              " is above max_len ", o.max_len);
  PaddedBatch b;
  const auto B = static_cast<std::int64_t>(seqs.size());
  std::int64_t L = o.min_len;
  for (const auto& s : seqs) {
    auto n = static_cast<std::int64_t>(s.size());
    if (o.max_len > 0) n = std::min(n, o.max_len);
    b.lengths.push_back(n);
    L = std::max(L, n);
  }
  b.ids = full<std::int64_t>({B, L}, o.pad_id);
  b.padding_mask = full<bool>({B, L}, true);
  std::int64_t* ids = b.ids.data();
  bool* pad = b.padding_mask.data();
  for (std::int64_t i = 0; i < B; ++i) {
    const auto& s = seqs[static_cast<std::size_t>(i)];
    const std::int64_t n = b.lengths[static_cast<std::size_t>(i)];
    std::copy(s.begin(), s.begin() + n, ids + i * L);
    std::fill(pad + i * L, pad + i * L + n, false);
  }
  return b;
}

/// pad_sequences over whole vectors.
inline PaddedBatch pad_sequences(const std::vector<std::vector<std::int64_t>>& seqs,
                                 const PadOptions& o = {}) {
  std::vector<std::span<const std::int64_t>> spans(seqs.begin(), seqs.end());
  return pad_sequences(spans, o);
}

}  // namespace ember::nn
