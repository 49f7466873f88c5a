// model.hpp — the two classifiers, the features they read, and the model file.
//
//   bow  fastText (Joulin et al. 2017): the mean of the embeddings of a text's tokens, CJK
//        bigrams and hashed adjacent-token bigrams (EmbeddingBag), then one linear layer.
//   cnn  TextCNN (Kim 2014): token embeddings, Conv1d of widths 2/3/4, ReLU, max over the
//        real (unpadded) positions, concatenation, dropout, one linear layer.
//
// A model file is one safetensors file: the weights, and in __metadata__ the configuration
// (JSON), the vocabulary (one token per line) and the label names, so `predict` needs nothing
// else. Written atomically by ember::io.
#pragma once

#include <nlohmann/json.hpp>

#include <ember/ember.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "tokenizer.hpp"
#include "vocab.hpp"

namespace sentiment {

namespace nn = ember::nn;
using ember::Tensor;
using ember::Var;

inline void check_weighting(const std::string& w) {
  if (w != "nb" && w != "mean" && w != "tfidf") {
    throw std::runtime_error("unknown bag weighting '" + w + "' (nb, mean or tfidf)");
  }
}

struct ModelConfig {
  std::string kind = "bow";  // bow | cnn
  std::int64_t num_classes = 2;
  std::int64_t dim = 64;              // embedding width
  std::int64_t buckets = 1 << 18;     // bow: hashed n-gram buckets
  int ngrams = 2;                     // bow: token n-grams up to this length (fastText -wordNgrams)
  std::vector<std::int64_t> widths = {2, 3, 4};  // cnn
  std::int64_t filters = 100;                    // cnn: per width
  double dropout = 0.5;                          // cnn
  std::int64_t max_len = 400;                    // cnn: tokens kept per text
  // cnn: the embedding starts N(0, embedding_std²). torch.nn.Embedding's N(0, 1) leaves the
  // rare tokens' rows mostly noise after a few hundred Adam steps of ~lr each: ChnSentiCorp
  // seeds 1–3, test 90.8 / 90.2 / 91.0% at std 1, 91.8 / 92.5 / 92.3% at 0.1 (dev 89.9 → 91.6
  // on average). Kim (2014) drew U(−0.25, 0.25), std 0.14. `train --init-embeddings` keeps 1.
  double embedding_std = 1.0;
  bool subwords = false;  // bow: hashed character 3–5-grams of Latin words (fastText -minn 3 -maxn 5)
  // bow: how the bag combines its features' embeddings —
  //   "nb":    mean over the distinct features, each scaled by its naive-Bayes log-count ratio
  //            (NBSVM's feature scaling, Wang & Manning 2012), the default;
  //   "mean":  plain mean over every occurrence (fastText);
  //   "tfidf": the embedding of the text's l2-normalised TF-IDF vector.
  std::string weighting = "nb";
  TokenizerOptions tokenizer;

  nlohmann::json to_json() const {
    return {{"kind", kind},       {"num_classes", num_classes}, {"dim", dim},
            {"buckets", buckets}, {"widths", widths},           {"filters", filters},
            {"dropout", dropout}, {"max_len", max_len}, {"embedding_std", embedding_std}, {"subwords", subwords}, {"ngrams", ngrams}, {"weighting", weighting},
            {"cjk_bigrams", tokenizer.cjk_bigrams}, {"negation", tokenizer.negation}};
  }
  static ModelConfig from_json(const nlohmann::json& j) {
    // Integers are read as integers: a JSON number like 1e300 or 2.5 is an error here, never a
    // float-to-int conversion (undefined behaviour out of range).
    auto integer = [&](const char* key) -> std::int64_t {
      const nlohmann::json& v = j.at(key);
      if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
        throw std::runtime_error(std::string("model configuration: ") + key + " " + v.dump() + " is too large");
      }
      if (!v.is_number_integer()) {
        throw std::runtime_error(std::string("model configuration: ") + key + " must be an integer, got " + v.dump());
      }
      return v.get<std::int64_t>();
    };
    auto number = [&](const char* key) -> double {
      const nlohmann::json& v = j.at(key);
      if (!v.is_number()) {
        throw std::runtime_error(std::string("model configuration: ") + key + " must be a number, got " + v.dump());
      }
      return v.get<double>();
    };
    ModelConfig c;
    c.kind = j.at("kind").get<std::string>();
    c.num_classes = integer("num_classes");
    c.dim = integer("dim");
    c.buckets = integer("buckets");
    c.widths.clear();
    if (!j.at("widths").is_array()) throw std::runtime_error("model configuration: widths must be an array");
    if (j.at("widths").size() > 8) throw std::runtime_error("model configuration: more than 8 filter widths");
    for (const auto& w : j.at("widths")) {
      if (!w.is_number_integer()) throw std::runtime_error("model configuration: a filter width must be an integer, got " + w.dump());
      c.widths.push_back(w.get<std::int64_t>());
    }
    c.filters = integer("filters");
    c.dropout = number("dropout");
    c.max_len = integer("max_len");
    // Files written before embedding_std existed drew N(0, 1).
    c.embedding_std = j.contains("embedding_std") ? number("embedding_std") : 1.0;
    c.subwords = j.at("subwords").get<bool>();
    const std::int64_t ngrams = integer("ngrams");
    if (ngrams < 1 || ngrams > kMaxNgrams) {
      throw std::runtime_error("model configuration: ngrams " + std::to_string(ngrams) + " is outside [1, " +
                               std::to_string(kMaxNgrams) + "]");
    }
    c.ngrams = static_cast<int>(ngrams);
    if (j.contains("weighting")) {
      c.weighting = j.at("weighting").get<std::string>();
    } else {  // files written before "weighting" existed
      c.weighting = j.value("tfidf", false) ? "tfidf" : "mean";
    }
    c.tokenizer.cjk_bigrams = j.at("cjk_bigrams").get<bool>();
    c.tokenizer.negation = j.at("negation").get<bool>();
    c.validate();
    return c;
  }

  /// The ranges every configuration must lie in, checked before training starts and when a
  /// model file is loaded, so that whatever is saved loads back and a hostile file cannot make
  /// the featurizer index out of bounds or overflow a size. `what` prefixes messages.
  void validate(const std::string& what = "model configuration") const {
    auto range = [&](const char* name, auto v, auto lo, auto hi) {
      if (!(v >= lo && v <= hi)) {
        throw std::runtime_error(what + ": " + name + " " + nlohmann::json(v).dump() + " is outside [" +
                                 nlohmann::json(lo).dump() + ", " + nlohmann::json(hi).dump() + "]");
      }
    };
    if (kind != "bow" && kind != "cnn") throw std::runtime_error(what + ": unknown model kind '" + kind + "' (bow or cnn)");
    check_weighting(weighting);
    range("num_classes", num_classes, std::int64_t{2}, kMaxClasses);
    range("dim", dim, std::int64_t{1}, kMaxDim);
    range("buckets", buckets, std::int64_t{0}, kMaxBuckets);
    range("ngrams", ngrams, 1, kMaxNgrams);
    range("filters", filters, std::int64_t{1}, kMaxFilters);
    range("dropout", dropout, 0.0, 0.99);
    range("max_len", max_len, std::int64_t{1}, kMaxLen);
    range("embedding_std", embedding_std, 1e-6, 100.0);
    if (widths.empty() || widths.size() > 8) {
      throw std::runtime_error(what + ": widths needs 1 to 8 filter widths, got " + std::to_string(widths.size()));
    }
    for (std::size_t i = 0; i < widths.size(); ++i) {
      range("widths", widths[i], std::int64_t{1}, kMaxWidth);
      for (std::size_t k = 0; k < i; ++k) {
        if (widths[k] == widths[i]) throw std::runtime_error(what + ": filter width " + std::to_string(widths[i]) + " is listed twice");
      }
    }
  }

  // Far above anything useful, far below an overflow: (vocabulary + buckets) · dim stays
  // under 2^45 and every index fits in int64 with room to spare.
  static constexpr std::int64_t kMaxClasses = 1000, kMaxDim = 4096, kMaxBuckets = std::int64_t{1} << 26,
                                kMaxFilters = 4096, kMaxLen = 100000, kMaxWidth = 64;
  static constexpr int kMaxNgrams = 8;
};

/// The defaults per model kind (what `train --model` picks unless overridden).
inline ModelConfig default_config(const std::string& kind) {
  ModelConfig c;
  c.kind = kind;
  if (kind == "cnn") {
    c.dim = 128;
    c.embedding_std = 0.1;
    c.buckets = 0;
    c.weighting = "mean";  // unused: the convolution reads the sequence
    // The convolution sees n-grams of its own: no negation marking. CJK bigram embeddings are
    // added at each position (characters alone carry little of a Chinese word's meaning).
    c.tokenizer = {.cjk_bigrams = true, .negation = false};
  } else if (kind != "bow") {
    throw std::runtime_error("unknown model '" + kind + "' (bow or cnn)");
  }
  return c;
}

/// Text → token ids as a model reads them.
class Featurizer {
 public:
  /// `table` holds one weight per feature id (IDF or naive-Bayes ratio) for weighted bags.
  Featurizer(const ModelConfig& c, const Vocab& v, const std::vector<float>* table = nullptr)
      : cfg_(c), vocab_(v), table_(table) {
    const std::size_t features = static_cast<std::size_t>(v.size() + c.buckets);
    if (weighted(c) && (table == nullptr || table->size() != features)) {
      throw std::runtime_error("a " + c.weighting + "-weighted bag needs one weight per feature (" +
                               std::to_string(features) + "), got " +
                               std::to_string(table == nullptr ? 0 : table->size()));
    }
  }
  /// Whether the model's bag reads per-occurrence weights (a weighted sum, not the mean).
  static bool weighted(const ModelConfig& c) { return c.kind == "bow" && c.weighting != "mean"; }
  bool weighted() const { return weighted(cfg_); }

  /// The weight of each feature occurrence in `ids`, so that the bag's weighted sum is:
  ///   tfidf — the embedding of the text's l2-normalised TF-IDF vector: idf(f) / ‖tf·idf‖₂
  ///           (sklearn's TfidfVectorizer with sublinear_tf off, norm l2);
  ///   nb    — Σ over the distinct features f of r(f)·E[f] / (number of distinct features):
  ///           binarised counts scaled by the log-count ratio r, as NBSVM, then averaged
  ///           (ids() already lists each feature once for this weighting).
  std::vector<float> weights(const std::vector<std::int64_t>& ids) const {
    if (!weighted()) return {};
    const auto table = [&](std::int64_t id) { return static_cast<double>((*table_)[static_cast<std::size_t>(id)]); };
    // Term frequencies from a sorted copy (a hash map per text cost a third of inference time).
    std::vector<std::int64_t> sorted(ids);
    std::sort(sorted.begin(), sorted.end());
    const auto tf = [&](std::int64_t id) {
      auto [lo, hi] = std::equal_range(sorted.begin(), sorted.end(), id);
      return static_cast<double>(hi - lo);
    };
    std::vector<float> w;
    w.reserve(ids.size());
    if (cfg_.weighting == "nb") {
      std::size_t distinct = 0;
      for (std::size_t i = 0; i < sorted.size(); ++i) distinct += (i == 0 || sorted[i] != sorted[i - 1]);
      const auto d = static_cast<double>(distinct);
      for (auto id : ids) {  // ids from ids() are distinct already; repeats share their weight
        w.push_back(static_cast<float>(table(id) / (distinct == ids.size() ? d : tf(id) * d)));
      }
      return w;
    }
    double sq = 0;
    for (std::size_t i = 0; i < sorted.size();) {
      std::size_t j = i;
      while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
      const double v = static_cast<double>(j - i) * table(sorted[i]);
      sq += v * v;
      i = j;
    }
    const double inv = sq > 0 ? 1 / std::sqrt(sq) : 0;
    for (auto id : ids) w.push_back(static_cast<float>(table(id) * inv));
    return w;
  }

  Tokens tokens(const std::string& text) const {
    auto norm = normalize(text);
    return tokenize_normalized(norm ? *norm : std::string(), cfg_.tokenizer);
  }
  std::vector<std::int64_t> ids(const std::string& text) const {
    Tokens t = tokens(text);
    std::vector<std::int64_t> out;
    if (cfg_.kind == "cnn") return sequence_ids(t);
    out.reserve(t.items.size() + t.sequence_length);
    for (const auto& item : t.items) out.push_back(vocab_.id(item));
    if (cfg_.kind == "bow") {
      append_ngram_buckets(t.items, t.sequence_length, cfg_.ngrams, cfg_.buckets, vocab_.size(),
                           out);
      if (cfg_.subwords) {
        for (std::size_t i = 0; i < t.sequence_length; ++i) {
          append_char_ngram_buckets(t.items[i], cfg_.buckets, vocab_.size(), out);
        }
      }
    }
    if (out.empty()) out.push_back(Vocab::kUnk);  // an empty text still has one feature
    if (cfg_.kind == "bow" && cfg_.weighting == "nb") {
      // Binarised features: each distinct id once (the bag's order does not matter). A third
      // shorter for IMDB reviews, and the weights need no term counts.
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
    }
    return out;
  }

  /// Ids per position for a sequence model: the tokens, at most max_len of them; with CJK
  /// bigrams, pairs (token, bigram starting there or <pad>) interleaved: t0 b0 t1 b1 ….
  std::vector<std::int64_t> sequence_ids(const Tokens& t) const {
    const std::size_t n = std::min<std::size_t>(t.sequence_length, static_cast<std::size_t>(cfg_.max_len));
    const bool pairs = cfg_.tokenizer.cjk_bigrams;
    std::vector<std::int64_t> out;
    out.reserve(pairs ? 2 * n : n);
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(vocab_.id(t.items[i]));
      if (pairs) out.push_back(t.bigram_at[i] == 0 ? Vocab::kPad : vocab_.id(t.items[t.bigram_at[i]]));
    }
    if (out.empty()) {  // an empty text still has one position
      out.push_back(Vocab::kUnk);
      if (pairs) out.push_back(Vocab::kPad);
    }
    return out;
  }

 private:
  ModelConfig cfg_;
  const Vocab& vocab_;
  const std::vector<float>* table_;
};

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
};

class BowModel : public Classifier {
 public:
  BowModel(const ModelConfig& c, std::int64_t vocab, ember::Generator& g) {
    {
      nn::init::SkipInit skip;  // built at zero without drawing (17 M normals for a 2^18-bucket bag)
      bag_ = register_module("embedding", std::make_shared<nn::EmbeddingBag<float>>(
                                              vocab + c.buckets, c.dim,
                                              Featurizer::weighted(c) ? ember::BagMode::Sum : ember::BagMode::Mean,
                                              g, /*sparse=*/true));
      fc_ = register_module("fc", std::make_shared<nn::Linear<float>>(c.dim, c.num_classes, true, g));
    }
    // fastText's initialisation, drawn once: inputs U(−1/dim, 1/dim), output zero.
    const double b = 1.0 / static_cast<double>(c.dim);
    nn::init::uniform_(bag_->weight(), -b, b, g);
    nn::init::constant_(fc_->weight(), 0.0);
    nn::init::constant_(fc_->bias(), 0.0);
  }
  bool padded_input() const override { return false; }
  Var<float> forward(const Batch& b) override {
    return (*fc_)((*bag_)(b.flat, b.offsets, b.weights));
  }

 private:
  std::shared_ptr<nn::EmbeddingBag<float>> bag_;
  std::shared_ptr<nn::Linear<float>> fc_;
};

class CnnModel : public Classifier {
 public:
  CnnModel(const ModelConfig& c, std::int64_t vocab, ember::Generator& g)
      : widths_(c.widths), pairs_(c.tokenizer.cjk_bigrams) {
    {
      nn::init::SkipInit skip;  // built at zero without drawing; drawn once below at its own std
      emb_ = register_module("embedding",
                             std::make_shared<nn::Embedding<float>>(vocab, c.dim, g, /*sparse=*/true));
    }
    nn::init::normal_(emb_->weight(), 0.0, c.embedding_std, g);
    for (std::size_t i = 0; i < widths_.size(); ++i) {
      convs_.push_back(register_module(
          "conv" + std::to_string(widths_[i]),
          std::make_shared<nn::Conv1d<float>>(c.dim, c.filters, widths_[i], g)));
    }
    drop_ = register_module("dropout", std::make_shared<nn::Dropout<float>>(c.dropout, g.next_u64()));
    fc_ = register_module("fc", std::make_shared<nn::Linear<float>>(
                                    c.filters * static_cast<std::int64_t>(widths_.size()),
                                    c.num_classes, true, g));
  }
  std::int64_t min_length() const override {
    return *std::max_element(widths_.begin(), widths_.end()) * (pairs_ ? 2 : 1);
  }
  Var<float> forward(const Batch& b) override {
    const std::int64_t B = b.ids.size(0), L = b.ids.size(1) / (pairs_ ? 2 : 1);
    Var<float> e = (*emb_)(b.ids);  // (B, L or 2L, dim)
    if (pairs_) e = ember::sum(ember::reshape(e, {B, L, 2, e.size(2)}), {2});  // token + bigram
    Var<float> x = ember::transpose(e, 1, 2);  // (B, dim, L)
    std::vector<Var<float>> pooled;
    for (std::size_t i = 0; i < convs_.size(); ++i) {
      const std::int64_t K = widths_[i], Lout = L - K + 1;
      Var<float> h = ember::relu((*convs_[i])(x));  // (B, filters, Lout)
      // Window l covers tokens [l, l + K): it is real if it starts inside the text (a text
      // shorter than K keeps its first, partly padded window). Padded windows become 0, which
      // cannot win a max over ReLU outputs unless everything is 0.
      Tensor<bool> pad = ember::zeros<bool>({B, 1, Lout});
      for (std::int64_t r = 0; r < B; ++r) {
        const std::int64_t len = b.lengths[static_cast<std::size_t>(r)] / (pairs_ ? 2 : 1);
        const std::int64_t last = std::max<std::int64_t>(len - K, 0);
        for (std::int64_t l = last + 1; l < Lout; ++l) pad.data()[r * Lout + l] = true;
      }
      pooled.push_back(ember::max(ember::masked_fill(h, pad, 0.0f), {2}));  // (B, filters)
    }
    return (*fc_)((*drop_)(ember::cat(pooled, 1)));
  }

 private:
  std::vector<std::int64_t> widths_;
  bool pairs_;  // ids come as (token, CJK bigram) pairs; their embeddings are summed
  std::shared_ptr<nn::Embedding<float>> emb_;
  std::vector<std::shared_ptr<nn::Conv1d<float>>> convs_;
  std::shared_ptr<nn::Dropout<float>> drop_;
  std::shared_ptr<nn::Linear<float>> fc_;
};

/// The name and shape of every parameter the model of `c` over a vocabulary of `vocab` tokens
/// has (what make_model builds; a test holds the two together). Loading compares a file's
/// tensors against this before anything is allocated.
inline std::vector<std::pair<std::string, ember::Shape>> parameter_shapes(const ModelConfig& c,
                                                                          std::int64_t vocab) {
  if (c.kind == "bow") {
    return {{"embedding.weight", {vocab + c.buckets, c.dim}},
            {"fc.weight", {c.num_classes, c.dim}},
            {"fc.bias", {c.num_classes}}};
  }
  std::vector<std::pair<std::string, ember::Shape>> out = {{"embedding.weight", {vocab, c.dim}}};
  for (std::int64_t w : c.widths) {
    out.push_back({"conv" + std::to_string(w) + ".weight", {c.filters, c.dim, w}});
    out.push_back({"conv" + std::to_string(w) + ".bias", {c.filters}});
  }
  out.push_back({"fc.weight", {c.num_classes, c.filters * static_cast<std::int64_t>(c.widths.size())}});
  out.push_back({"fc.bias", {c.num_classes}});
  return out;
}

/// The number of weights the model of `c` needs; throws if it exceeds `limit` (checked with
/// overflow-safe arithmetic, before any allocation).
inline std::int64_t checked_parameter_count(const ModelConfig& c, std::int64_t vocab, std::int64_t limit) {
  std::int64_t total = 0;
  for (auto& [name, shape] : parameter_shapes(c, vocab)) {
    std::int64_t n = 1;
    for (std::int64_t d : shape) {
      if (__builtin_mul_overflow(n, d, &n)) n = limit + 1;
    }
    if (__builtin_add_overflow(total, n, &total) || total > limit) {
      throw std::runtime_error("the model would have more than " + std::to_string(limit) +
                               " weights (" + name + " alone: " + shape.to_string() +
                               "); lower --dim, --buckets or --max-vocab");
    }
  }
  return total;
}

/// At most this many weights in one model: 4 GiB of fp32.
inline constexpr std::int64_t kMaxModelWeights = std::int64_t{1} << 30;

inline std::unique_ptr<Classifier> make_model(const ModelConfig& c, std::int64_t vocab,
                                              ember::Generator& g) {
  c.validate();
  checked_parameter_count(c, vocab, kMaxModelWeights);
  if (c.kind == "cnn") return std::make_unique<CnnModel>(c, vocab, g);
  return std::make_unique<BowModel>(c, vocab, g);
}

/// Everything `predict` needs, as loaded from one file.
struct SavedModel {
  ModelConfig config;
  Vocab vocab;
  std::vector<float> feature_weights;  // weighted bags only: IDF or naive-Bayes ratio per feature
  std::vector<std::string> labels = {"negative", "positive"};
  std::unique_ptr<Classifier> model;
};

inline void save_model(const std::string& path, const ModelConfig& cfg, const Vocab& vocab,
                       const std::vector<std::string>& labels, const Classifier& model,
                       const std::vector<float>& feature_weights = {},
                       const std::map<std::string, std::string>& extra = {}) {
  cfg.validate("save_model");  // what is saved must load back
  std::vector<std::pair<std::string, ember::io::AnyTensor>> tensors;
  for (auto& [name, t] : model.state_dict()) tensors.emplace_back(name, t);
  if (!feature_weights.empty()) tensors.emplace_back("featurizer.weights", ember::from_vector(feature_weights));
  std::map<std::string, std::string> meta = extra;
  meta["format"] = "ember-sentiment/1";
  meta["config"] = cfg.to_json().dump();
  meta["vocab"] = vocab.serialize();
  meta["labels"] = nlohmann::json(labels).dump();
  ember::io::save_safetensors(path, tensors, meta);
}

/// Model files larger than this are refused before they are read (the largest model the CLI
/// trains at its defaults is about 70 MB).
inline constexpr std::int64_t kMaxModelFileBytes = std::int64_t{2} << 30;

/// Where a tensor holds NaN or ±Inf: "" if all finite, else "element i is nan".
inline std::string first_non_finite(const float* p, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i])) return "element " + std::to_string(i) + " is " + (std::isnan(p[i]) ? "NaN" : "infinite");
  }
  return {};
}

/// Parses a model file's bytes (`path` names it in messages). Everything is checked before the
/// model is built: the configuration's ranges, the vocabulary, the labels, and every tensor's
/// name, type, shape and values against what the configuration needs, so a file from another
/// configuration or vocabulary says what differs and a file claiming huge sizes allocates
/// nothing.
inline SavedModel parse_model(std::string_view bytes, const std::string& path) {
  ember::io::Checkpoint ck = ember::io::parse_safetensors(bytes, path);
  auto need = [&](const char* key) -> const std::string& {
    auto it = ck.metadata.find(key);
    if (it == ck.metadata.end()) {
      throw std::runtime_error(path + ": not an ember-sentiment model (no '" + key + "' metadata)");
    }
    return it->second;
  };
  if (need("format") != "ember-sentiment/1") {
    throw std::runtime_error(path + ": unsupported model format '" + need("format") + "'");
  }
  SavedModel m;
  try {
    m.config = ModelConfig::from_json(nlohmann::json::parse(need("config")));
    m.labels = nlohmann::json::parse(need("labels")).get<std::vector<std::string>>();
    m.vocab = Vocab::deserialize(need("vocab"));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": bad model metadata: " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  if (static_cast<std::int64_t>(m.labels.size()) != m.config.num_classes) {
    throw std::runtime_error(path + ": " + std::to_string(m.labels.size()) + " label names for " +
                             std::to_string(m.config.num_classes) + " classes");
  }
  for (std::size_t i = 0; i < m.labels.size(); ++i) {
    if (m.labels[i].empty() || std::find(m.labels.begin(), m.labels.begin() + static_cast<std::ptrdiff_t>(i), m.labels[i]) !=
                                   m.labels.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::runtime_error(path + ": label names must be distinct and non-empty, got " + nlohmann::json(m.labels).dump());
    }
  }
  // The file's tensors against the shapes the configuration and vocabulary imply.
  const auto expected = parameter_shapes(m.config, m.vocab.size());
  const std::string config_says = "the configuration (" + m.config.kind + ", vocabulary " +
                                  std::to_string(m.vocab.size()) + ", dim " + std::to_string(m.config.dim) +
                                  (m.config.kind == "bow" ? ", buckets " + std::to_string(m.config.buckets) : "") + ")";
  std::vector<std::pair<std::string, Tensor<float>>> values;
  for (auto& [name, any] : ck.tensors) {
    const auto* t = std::get_if<Tensor<float>>(&any);
    if (t == nullptr) throw std::runtime_error(path + ": tensor '" + name + "' is not F32");
    if (auto bad = first_non_finite(t->data(), t->numel()); !bad.empty()) {
      throw std::runtime_error(path + ": tensor '" + name + "' holds a non-finite weight (" + bad +
                               "): the model was saved from a diverged run");
    }
    if (name == "featurizer.weights" || name == "featurizer.idf") {  // .idf: older files
      m.feature_weights = t->to_vector();
      continue;
    }
    const std::string& tensor_name = name;  // clang 14 cannot capture a structured binding
    auto it = std::find_if(expected.begin(), expected.end(), [&](auto& e) { return e.first == tensor_name; });
    if (it == expected.end()) {
      throw std::runtime_error(path + ": tensor '" + name + "' is not a parameter of " + config_says);
    }
    if (t->shape() != it->second) {
      throw std::runtime_error(path + ": tensor '" + name + "' has shape " + t->shape().to_string() + " but " +
                               config_says + " needs " + it->second.to_string());
    }
    values.emplace_back(name, *t);
  }
  for (const auto& want : expected) {
    if (std::none_of(values.begin(), values.end(), [&](auto& v) { return v.first == want.first; })) {
      throw std::runtime_error(path + ": no tensor '" + want.first + "' (" + config_says + " needs " +
                               want.second.to_string() + ")");
    }
  }
  const std::int64_t features = m.vocab.size() + (m.config.kind == "bow" ? m.config.buckets : 0);
  if (Featurizer::weighted(m.config) && static_cast<std::int64_t>(m.feature_weights.size()) != features) {
    throw std::runtime_error(path + ": " + m.config.weighting +
                             "-weighted model without a matching 'featurizer.weights' table (" +
                             std::to_string(m.feature_weights.size()) + " weights for " +
                             std::to_string(features) + " features)");
  }
  // Every shape matches a tensor the file holds: building the model allocates no more than the
  // file's own size.
  {
    nn::init::SkipInit skip;  // every weight comes from the file: don't draw them first
    ember::Generator g(0);
    m.model = make_model(m.config, m.vocab.size(), g);
  }
  m.model->load_state_dict(values);
  m.model->eval();
  return m;
}

/// Loads a model file written by save_model: a regular file of at most kMaxModelFileBytes.
inline SavedModel load_model(const std::string& path) {
  return parse_model(ember::io::read_file(path, kMaxModelFileBytes, "load model"), path);
}

}  // namespace sentiment
