// pretrain.hpp — token vectors from unlabelled text: skip-gram with negative sampling
// (word2vec, Mikolov et al. 2013), trained with ember's autograd on row-sparse embeddings. The
// CNN starts from them (`train --init-embeddings`): pretrain on raw text, then fine-tune on
// labels, as BERT is used, at the scale of a word-vector model.
//
// What is trained: every token of the sequence, as the CNN's tokenizer produces it, predicts
// the tokens within a random window of up to `window` positions on each side (word2vec's
// dynamic window); with CJK bigrams, the bigram starting at a position predicts the same
// context, so character and bigram vectors share one space (the CNN adds them). Frequent
// tokens are subsampled (keep probability √(t/f) + t/f); each true pair is contrasted with
// `negatives` tokens drawn from the unigram distribution raised to 0.75. The loss is the sum
// of −log σ(u·v) over true pairs and −log σ(−u·v) over noise pairs — word2vec's recipe, in
// batches. Batched, word2vec's plain SGD (lr 0.025 per pair) collapsed every vector onto one
// direction: a frequent token occurs in a hundred pairs of a batch and its summed step is a
// hundred times too large. Adam (lazy, on the rows a batch touches) normalises each row's
// step, and the learning rate decays linearly to 0.01% of its start.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "model.hpp"
#include "train.hpp"

namespace sentiment {

struct PretrainOptions {
  std::int64_t dim = 128;
  int window = 5;
  int negatives = 5;
  int epochs = 5;
  std::int64_t batch = 1024;  // true pairs per step
  double lr = 0.005;  // Adam's
  double subsample = 1e-4;  // word2vec's t
  std::int64_t min_count = 2, max_vocab = 0;
  std::uint64_t seed = 1;
};

/// Vectors for a vocabulary, and the tokenizer settings they were trained with.
struct TokenVectors {
  TokenizerOptions tokenizer;
  Vocab vocab;
  Tensor<float> vectors;  // (vocab.size(), dim); rows 0 and 1 (<pad>, <unk>) are zero
};

namespace detail {

/// Cumulative unigram^0.75 distribution over ids ≥ 2, for drawing noise tokens.
class NoiseTable {
 public:
  explicit NoiseTable(const std::vector<double>& counts) {
    cumulative_.assign(counts.size(), 0.0);
    double sum = 0;
    for (std::size_t i = 2; i < counts.size(); ++i) {
      sum += std::pow(counts[i], 0.75);
      cumulative_[i] = sum;
    }
    total_ = sum;
  }
  std::int64_t draw(ember::Generator& g) const {
    const double u = g.next_double() * total_;
    auto it = std::upper_bound(cumulative_.begin() + 2, cumulative_.end(), u);
    if (it == cumulative_.end()) --it;
    return static_cast<std::int64_t>(it - cumulative_.begin());
  }

 private:
  std::vector<double> cumulative_;
  double total_ = 0;
};

}  // namespace detail

/// Trains token vectors on `texts` (labels are ignored). `on_epoch(epoch, mean loss, seconds)`
/// reports progress.
inline TokenVectors pretrain_vectors(const std::vector<Example>& texts, const TokenizerOptions& tok,
                                     const PretrainOptions& o,
                                     const std::function<void(int, double, double)>& on_epoch = {}) {
  if (o.dim <= 0 || o.window <= 0 || o.negatives <= 0 || o.epochs <= 0 || o.batch <= 0 || o.lr <= 0) {
    throw std::runtime_error("pretrain: dim, window, negatives, epochs, batch and lr must be positive");
  }
  // Tokenise once: per text, the token ids and the bigram id starting at each position (−1: none).
  std::unordered_map<std::string, std::int64_t> counts;
  std::vector<Tokens> tokens;
  tokens.reserve(texts.size());
  for (const Example& ex : texts) {
    auto norm = normalize(ex.text);
    tokens.push_back(tokenize_normalized(norm ? *norm : std::string(), tok));
    for (const auto& t : tokens.back().items) ++counts[t];
  }
  TokenVectors out;
  out.tokenizer = tok;
  out.vocab = Vocab::build(counts, o.min_count, o.max_vocab);
  const std::int64_t V = out.vocab.size();
  if (V <= 2) throw std::runtime_error("pretrain: no token occurs " + std::to_string(o.min_count) + " times");
  std::vector<std::vector<std::int64_t>> seqs, bigrams;
  std::vector<double> freq(static_cast<std::size_t>(V), 0.0);
  double n_tokens = 0;
  for (const Tokens& t : tokens) {
    std::vector<std::int64_t> s, b;
    for (std::size_t i = 0; i < t.sequence_length; ++i) {
      const std::int64_t id = out.vocab.id(t.items[i]);
      const std::int64_t bid =
          t.bigram_at.empty() || t.bigram_at[i] == 0 ? -1 : out.vocab.id(t.items[t.bigram_at[i]]);
      s.push_back(id);
      b.push_back(bid == Vocab::kUnk ? -1 : bid);
      freq[static_cast<std::size_t>(id)] += 1;
      if (bid >= 2) freq[static_cast<std::size_t>(bid)] += 1;
      n_tokens += 1;
    }
    seqs.push_back(std::move(s));
    bigrams.push_back(std::move(b));
  }
  tokens.clear();
  const detail::NoiseTable noise(freq);
  std::vector<float> keep(static_cast<std::size_t>(V), 1.0f);
  for (std::int64_t i = 2; i < V; ++i) {
    const double f = freq[static_cast<std::size_t>(i)] / std::max(n_tokens, 1.0);
    if (f > 0) keep[static_cast<std::size_t>(i)] = static_cast<float>(std::min(1.0, std::sqrt(o.subsample / f) + o.subsample / f));
  }

  ember::Generator g(o.seed);
  const double bound = 0.5 / static_cast<double>(o.dim);
  ember::Var<float> in(ember::uniform<float>({V, o.dim}, -bound, bound, g), true);
  ember::Var<float> outv(ember::zeros<float>({V, o.dim}), true);
  ember::optim::Adam<float> opt({in, outv}, {.lr = o.lr});
  const std::int64_t K = o.negatives, B = o.batch;
  Tensor<float> target = ember::zeros<float>({B, 1 + K});
  for (std::int64_t r = 0; r < B; ++r) target.data()[r * (1 + K)] = 1.0f;

  // Pairs per epoch, estimated for the learning-rate schedule (the window is random).
  double pairs_estimate = 0;
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    for (std::size_t i = 0; i < seqs[s].size(); ++i) {
      const double k = keep[static_cast<std::size_t>(seqs[s][i])];
      pairs_estimate += k * k * (o.window + 1) * (bigrams[s][i] >= 0 ? 2 : 1);
    }
  }
  const double total_steps = std::max(1.0, pairs_estimate * o.epochs / static_cast<double>(B));
  std::int64_t step = 0;

  std::vector<std::int64_t> centers, contexts;
  centers.reserve(static_cast<std::size_t>(B));
  contexts.reserve(static_cast<std::size_t>(B));
  double loss_sum = 0;
  std::int64_t loss_pairs = 0;
  auto run_step = [&]() {
    const auto n = static_cast<std::int64_t>(centers.size());
    Tensor<std::int64_t> c = Tensor<std::int64_t>::empty({n});
    Tensor<std::int64_t> ctx = Tensor<std::int64_t>::empty({n, 1 + K});
    for (std::int64_t r = 0; r < n; ++r) {
      c.data()[r] = centers[static_cast<std::size_t>(r)];
      ctx.data()[r * (1 + K)] = contexts[static_cast<std::size_t>(r)];
      for (std::int64_t k = 1; k <= K; ++k) ctx.data()[r * (1 + K) + k] = noise.draw(g);
    }
    ember::Var<float> u = ember::reshape(ember::embedding(in, c, /*sparse=*/true), {n, 1, o.dim});
    ember::Var<float> v = ember::embedding(outv, ctx, /*sparse=*/true);                    // (n, 1+K, D)
    ember::Var<float> logits = ember::sum(u * v, {2});                                     // (n, 1+K)
    const Tensor<float> t = n == B ? target : target.narrow(0, 0, n).contiguous();
    // Per pair: the sum over its 1+K terms, averaged over the batch.
    ember::Var<float> loss = ember::binary_cross_entropy_with_logits(logits, t) * static_cast<float>(1 + K);
    if (const double l = loss.item(); !std::isfinite(l)) {
      throw TrainingDiverged("pretraining diverged: the loss is " + std::string(std::isnan(l) ? "NaN" : "infinite") +
                             " at step " + std::to_string(step + 1) + " (learning rate too high?); nothing was saved");
    }
    opt.zero_grad();
    loss.backward();
    const double progress = std::min(1.0, static_cast<double>(step++) / total_steps);
    opt.set_lr(o.lr * std::max(1e-4, 1.0 - progress));
    opt.step();
    loss_sum += static_cast<double>(loss.item()) * static_cast<double>(n);
    loss_pairs += n;
    centers.clear();
    contexts.clear();
  };
  auto add = [&](std::int64_t center, std::int64_t context) {
    centers.push_back(center);
    contexts.push_back(context);
    if (static_cast<std::int64_t>(centers.size()) == B) run_step();
  };

  std::vector<std::size_t> order(seqs.size());
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    loss_sum = 0;
    loss_pairs = 0;
    Tensor<std::int64_t> perm = ember::randperm(static_cast<std::int64_t>(seqs.size()), g);
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::size_t>(perm.data()[i]);
    std::vector<std::int64_t> pos;  // positions kept after subsampling
    for (std::size_t s : order) {
      const auto& seq = seqs[s];
      pos.clear();
      for (std::size_t i = 0; i < seq.size(); ++i) {
        if (seq[i] >= 2 && g.next_float() < keep[static_cast<std::size_t>(seq[i])]) pos.push_back(static_cast<std::int64_t>(i));
      }
      for (std::size_t a = 0; a < pos.size(); ++a) {
        const auto w = static_cast<std::size_t>(1 + g.next_below(static_cast<std::uint64_t>(o.window)));
        const std::size_t lo = a >= w ? a - w : 0, hi = std::min(pos.size(), a + w + 1);
        const auto i = static_cast<std::size_t>(pos[a]);
        for (std::size_t b = lo; b < hi; ++b) {
          if (b == a) continue;
          const std::int64_t context = seq[static_cast<std::size_t>(pos[b])];
          add(seq[i], context);
          if (bigrams[s][i] >= 2) add(bigrams[s][i], context);
        }
      }
    }
    if (!centers.empty()) run_step();
    if (on_epoch) {
      on_epoch(epoch, loss_sum / static_cast<double>(std::max<std::int64_t>(loss_pairs, 1)),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  // Remove the component every vector shares (Mu & Viswanath 2018, "all-but-the-top"): it
  // carries no meaning and made all cosine similarities ≈ 0.98 here.
  out.vectors = in.data().clone();
  if (auto bad = first_non_finite(out.vectors.data(), out.vectors.numel()); !bad.empty()) {
    throw TrainingDiverged("pretraining diverged: vector " + bad + "; nothing was saved");
  }
  Tensor<float> rows = out.vectors.narrow(0, 2, V - 2);
  rows -= ember::mean(rows, {0}, /*keepdim=*/true);
  out.vectors[0].fill_(0.0f);
  out.vectors[1].fill_(0.0f);
  return out;
}

inline void save_vectors(const std::string& path, const TokenVectors& v) {
  ember::io::save_safetensors(
      path, {{"vectors", v.vectors}},
      {{"format", "ember-sentiment-vectors/1"},
       {"vocab", v.vocab.serialize()},
       {"tokenizer", nlohmann::json{{"cjk_bigrams", v.tokenizer.cjk_bigrams},
                                    {"negation", v.tokenizer.negation}}.dump()}});
}

inline TokenVectors load_vectors(const std::string& path) {
  ember::io::Checkpoint ck = ember::io::load_safetensors(path, kMaxModelFileBytes);
  auto meta = [&](const char* key) -> const std::string& {
    auto it = ck.metadata.find(key);
    if (it == ck.metadata.end()) throw std::runtime_error(path + ": not an ember-sentiment vectors file (no '" + key + "' metadata)");
    return it->second;
  };
  if (meta("format") != "ember-sentiment-vectors/1") {
    throw std::runtime_error(path + ": unsupported vectors format '" + meta("format") + "'");
  }
  TokenVectors v;
  try {
    const auto j = nlohmann::json::parse(meta("tokenizer"));
    v.tokenizer.cjk_bigrams = j.at("cjk_bigrams").get<bool>();
    v.tokenizer.negation = j.at("negation").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": bad tokenizer metadata: " + e.what());
  }
  try {
    v.vocab = Vocab::deserialize(meta("vocab"));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  auto it = std::find_if(ck.tensors.begin(), ck.tensors.end(), [](const auto& p) { return p.first == "vectors"; });
  const Tensor<float>* t = it == ck.tensors.end() ? nullptr : std::get_if<Tensor<float>>(&it->second);
  if (t == nullptr || t->dim() != 2 || t->size(0) != v.vocab.size() || t->size(1) < 1 ||
      t->size(1) > ModelConfig::kMaxDim) {
    throw std::runtime_error(path + ": expected an F32 'vectors' tensor with one row per token (" +
                             std::to_string(v.vocab.size()) + ") of 1 to " + std::to_string(ModelConfig::kMaxDim) +
                             " dimensions");
  }
  if (auto bad = first_non_finite(t->data(), t->numel()); !bad.empty()) {
    throw std::runtime_error(path + ": tensor 'vectors' holds a non-finite value (" + bad + ")");
  }
  v.vectors = *t;
  return v;
}

/// Copies the rows of `v`, rescaled, into `embedding` (vocab.size() × dim) for every token both
/// vocabularies share and zeroes <pad>; returns how many rows were copied.
inline std::int64_t copy_vectors(const TokenVectors& v, const Vocab& vocab, Tensor<float>& embedding) {
  if (embedding.size(1) != v.vectors.size(1)) {
    throw std::runtime_error("pretrained vectors have " + std::to_string(v.vectors.size(1)) +
                             " dimensions, the model's embedding " + std::to_string(embedding.size(1)) +
                             " (train with --dim " + std::to_string(v.vectors.size(1)) + ")");
  }
  // Skip-gram vectors are small (norm ≈ 0.5); scaled to the standard deviation the embedding
  // was initialised with, the layers above see inputs of the size they were initialised for
  // (SST-2 dev with IMDB vectors: 85.2% scaled, 80.2% as they are).
  const double target = std::sqrt(static_cast<double>(ember::var(embedding, {}, 0).item()));
  const double have = std::sqrt(static_cast<double>(ember::var(v.vectors.narrow(0, 2, v.vectors.size(0) - 2), {}, 0).item()));
  const float scale = have > 0 && target > 0 ? static_cast<float>(target / have) : 1.0f;
  // <pad> also stands for "no bigram starts here" in the cnn's pairs: it starts at zero, so
  // a position without one is its token's pretrained vector alone.
  embedding[Vocab::kPad].fill_(0.0f);
  std::int64_t copied = 0;
  for (std::int64_t i = 2; i < vocab.size(); ++i) {
    const std::int64_t j = v.vocab.id(vocab.token(i));
    if (j == Vocab::kUnk) continue;
    embedding[i].copy_(v.vectors[j] * scale);
    ++copied;
  }
  return copied;
}

}  // namespace sentiment
