// models/config.hpp — every model kind's settings in one record, stored as JSON in the model
// file: the ranges each must lie in (checked before training and when a file is loaded), and
// the readers of older files' configurations.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tokenizer.hpp"

namespace sentiment {

/// Whether `kind` names a registered model kind (models/registry.hpp).
inline bool is_model_kind(const std::string& kind);
/// The registered kinds, for messages: "bow, cnn or transformer".
inline std::string model_kind_list();
struct ModelConfig;
/// The checks only the configuration's own kind needs (models/registry.hpp).
inline void check_kind_settings(const ModelConfig& c, const std::string& what);

inline void check_weighting(const std::string& w) {
  if (w != "nb" && w != "mean" && w != "tfidf") {
    throw std::runtime_error("unknown bag weighting '" + w + "' (nb, mean or tfidf)");
  }
}

inline void check_long_text(const std::string& l, const std::string& what) {
  if (l != "head" && l != "windows") throw std::runtime_error(what + ": long_text '" + l + "' (head or windows)");
}

struct ModelConfig {
  std::string kind = "bow";  // a registered kind: bow | cnn | transformer
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
  // transformer: pre-norm encoder layers, attention heads (dim must divide by them), the
  // feed-forward width, and how the text's vector is pooled ("cls": the [CLS] position;
  // "mean": the mean over the real positions). max_len counts [CLS]; dropout everywhere.
  std::int64_t layers = 4, heads = 4, ffn = 1024;
  std::string pooling = "cls";
  // transformer: how a text longer than its max_len − 1 pieces is read —
  //   "head":    its first max_len − 1 pieces (BERT's truncation);
  //   "windows": every piece, in consecutive windows of max_len − 1 (the last one ending at
  //              the text's end), each led by [CLS]; the text's class probabilities are the
  //              mean of its windows', and in training each window is an example with the
  //              text's label. On IMDb reviews (~300 pieces) the shipped en model scores
  //              +6 points with it; on ChnSentiCorp the zh model loses 0.5 (README).
  std::string long_text = "head";

  nlohmann::json to_json() const {
    return {{"kind", kind},       {"num_classes", num_classes}, {"dim", dim},
            {"buckets", buckets}, {"widths", widths},           {"filters", filters},
            {"dropout", dropout}, {"max_len", max_len}, {"embedding_std", embedding_std}, {"subwords", subwords}, {"ngrams", ngrams}, {"weighting", weighting},
            {"cjk_bigrams", tokenizer.cjk_bigrams}, {"negation", tokenizer.negation},
            {"layers", layers}, {"heads", heads}, {"ffn", ffn}, {"pooling", pooling},
            {"long_text", long_text}};
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
    // Files written before the transformer existed have none of its settings.
    if (j.contains("layers")) c.layers = integer("layers");
    if (j.contains("heads")) c.heads = integer("heads");
    if (j.contains("ffn")) c.ffn = integer("ffn");
    if (j.contains("pooling")) c.pooling = j.at("pooling").get<std::string>();
    // Files written before long_text existed read a text's head.
    if (j.contains("long_text")) c.long_text = j.at("long_text").get<std::string>();
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
    if (!is_model_kind(kind)) throw std::runtime_error(what + ": unknown model kind '" + kind + "' (" + model_kind_list() + ")");
    check_weighting(weighting);
    range("num_classes", num_classes, std::int64_t{2}, kMaxClasses);
    range("dim", dim, std::int64_t{1}, kMaxDim);
    range("buckets", buckets, std::int64_t{0}, kMaxBuckets);
    range("ngrams", ngrams, 1, kMaxNgrams);
    range("filters", filters, std::int64_t{1}, kMaxFilters);
    range("dropout", dropout, 0.0, 0.99);
    range("max_len", max_len, std::int64_t{1}, kMaxLen);
    range("embedding_std", embedding_std, 1e-6, 100.0);
    range("layers", layers, std::int64_t{1}, kMaxLayers);
    range("heads", heads, std::int64_t{1}, kMaxDim);
    range("ffn", ffn, std::int64_t{1}, kMaxFfn);
    if (pooling != "cls" && pooling != "mean") throw std::runtime_error(what + ": pooling '" + pooling + "' (cls or mean)");
    check_long_text(long_text, what);
    check_kind_settings(*this, what);
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
                                kMaxFilters = 4096, kMaxLen = 100000, kMaxWidth = 64,
                                kMaxLayers = 64, kMaxFfn = 65536;
  static constexpr int kMaxNgrams = 8;
};


/// Whether a bag model of `c` reads per-occurrence weights (a weighted sum, not the mean).
inline bool bag_is_weighted(const ModelConfig& c) { return c.kind == "bow" && c.weighting != "mean"; }

}  // namespace sentiment
