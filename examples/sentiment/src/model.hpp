// model.hpp — the features every model kind reads, and the model file. The kinds themselves
// are under models/ (models/registry.hpp lists them).
//
// A model file is one safetensors file: the weights, and in __metadata__ the configuration
// (JSON), the vocabulary (one token per line) and the label names, so `predict` needs nothing
// else; a transformer's SentencePiece vocabulary is the uint8 tensor "tokenizer.sentencepiece"
// instead. Written atomically by ember::io.
#pragma once

#include <nlohmann/json.hpp>

#include <ember/ember.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <unordered_map>
#include <string>
#include <vector>

#include "models/registry.hpp"
#include "subword.hpp"
#include "tokenizer.hpp"
#include "vocab.hpp"

namespace sentiment {

namespace nn = ember::nn;
using ember::Tensor;
using ember::Var;

/// Text → token ids as a model reads them.
class Featurizer {
 public:
  /// `table` holds one weight per feature id (IDF or naive-Bayes ratio) for weighted bags;
  /// `subword` the SentencePiece vocabulary of a subword model (the transformer).
  Featurizer(const ModelConfig& c, const Vocab& v, const std::vector<float>* table = nullptr,
             const SubwordVocab* subword = nullptr)
      : cfg_(c),
        vocab_(v),
        table_(table),
        subword_(subword),
        windowed_(subword != nullptr && model_kind(c.kind).subword && c.long_text == "windows") {
    if (model_kind(c.kind).subword && (subword == nullptr || subword->empty())) {
      throw std::runtime_error("a " + c.kind + " model reads SentencePiece ids: it needs its vocabulary");
    }
    const std::size_t features = static_cast<std::size_t>(v.size() + c.buckets);
    if (weighted(c) && (table == nullptr || table->size() != features)) {
      throw std::runtime_error("a " + c.weighting + "-weighted bag needs one weight per feature (" +
                               std::to_string(features) + "), got " +
                               std::to_string(table == nullptr ? 0 : table->size()));
    }
  }
  /// Whether the model's bag reads per-occurrence weights (a weighted sum, not the mean).
  static bool weighted(const ModelConfig& c) { return bag_is_weighted(c); }
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
    if (subword_ != nullptr && model_kind(cfg_.kind).subword) return subword_ids(text);
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

  /// [CLS] and the SentencePiece ids of the normalised text, at most max_len in all.
  std::vector<std::int64_t> subword_ids(const std::string& text) const {
    auto windows = subword_windows(text, 1);
    return std::move(windows.front());
  }

  /// Whether a text longer than the model's positions is read as several windows
  /// (config long_text "windows"; sequences() then gives each text one or more).
  bool windowed() const { return windowed_; }

  /// The id sequences the model reads for `text`: ids(text) alone, or for a windowed model
  /// every window of it (subword_windows).
  std::vector<std::vector<std::int64_t>> sequences(const std::string& text) const {
    if (!windowed()) return {ids(text)};
    return subword_windows(text, std::numeric_limits<std::size_t>::max());
  }

  /// The text's SentencePiece ids in at most `most` windows of n = max_len − 1 ids, each led
  /// by [CLS]: one window for a text of at most n ids; otherwise ⌈ids / n⌉ of them at 0, n,
  /// 2n, … with the last one moved to end at the text's end (it overlaps the one before),
  /// so that every id is read and every window is full. With most = 1: the head alone.
  std::vector<std::vector<std::int64_t>> subword_windows(const std::string& text, std::size_t most) const {
    auto norm = normalize(text);
    const std::vector<std::int64_t> ids = subword_->encode(norm ? *norm : std::string());
    const auto n = static_cast<std::size_t>(cfg_.max_len - 1);
    // (max_len 1 leaves no room: [CLS] alone.)
    const std::size_t count = std::min(most, n == 0 || ids.size() <= n ? std::size_t{1} : (ids.size() + n - 1) / n);
    std::vector<std::vector<std::int64_t>> out(count);
    for (std::size_t w = 0; w < count; ++w) {
      const std::size_t begin = w + 1 == count && count > 1 ? ids.size() - n : w * n;
      const std::size_t end = std::min(ids.size(), begin + n);
      out[w].reserve(end - begin + 1);
      out[w].push_back(SubwordVocab::kCls);
      out[w].insert(out[w].end(), ids.begin() + static_cast<std::ptrdiff_t>(begin),
                    ids.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return out;
  }

 private:
  ModelConfig cfg_;
  const Vocab& vocab_;
  const std::vector<float>* table_;
  const SubwordVocab* subword_;
  bool windowed_;  // see windowed()
};

/// Everything `predict` needs, as loaded from one file.
struct SavedModel {
  ModelConfig config;
  Vocab vocab;
  std::vector<float> feature_weights;  // weighted bags only: IDF or naive-Bayes ratio per feature
  std::vector<std::string> labels = {"negative", "positive"};
  SubwordVocab subword;  // subword models only
  std::unique_ptr<Classifier> model;
  /// The featurizer this model reads its texts through (valid while the model lives).
  Featurizer featurizer() const { return Featurizer(config, vocab, &feature_weights, &subword); }
};

/// The tensor that holds a subword model's SentencePiece model (its serialized bytes).
inline constexpr const char* kSubwordTensor = "tokenizer.sentencepiece";

inline Tensor<std::uint8_t> subword_tensor(const SubwordVocab& v) {
  const std::string& b = v.bytes();
  Tensor<std::uint8_t> t = Tensor<std::uint8_t>::empty({static_cast<std::int64_t>(b.size())});
  std::copy(b.begin(), b.end(), reinterpret_cast<char*>(t.data()));
  return t;
}

/// The SentencePiece vocabulary a safetensors file holds (a model, an encoder checkpoint or a
/// vocabulary file); `where` names the file in messages.
inline SubwordVocab subword_of(const ember::io::Checkpoint& ck, const std::string& where) {
  for (const auto& [name, any] : ck.tensors) {
    if (name != kSubwordTensor) continue;
    const auto* u8 = std::get_if<Tensor<std::uint8_t>>(&any);
    if (u8 == nullptr) throw std::runtime_error(where + ": tensor '" + name + "' is not U8");
    return SubwordVocab::from_bytes(
        std::string_view(reinterpret_cast<const char*>(u8->data()), static_cast<std::size_t>(u8->numel())), where);
  }
  throw std::runtime_error(where + ": no SentencePiece vocabulary in it (tensor '" + std::string(kSubwordTensor) +
                           "'); `ember-sentiment vocab` writes one");
}

/// The vocabulary table of a subword model: its pieces in id order.
inline Vocab vocab_of(const SubwordVocab& v) {
  std::vector<std::string> pieces;
  for (std::int64_t i = 0; i < v.size(); ++i) pieces.push_back(v.piece(i));
  return Vocab::from_tokens(std::move(pieces));
}

/// Whether save_model stores a weight as bfloat16 when asked for bf16 weights: matrices (2-D
/// and up); vectors (biases, norms) stay fp32.
inline bool stored_as_bf16(const Tensor<float>& t) { return t.dim() >= 2; }

/// Rounds, in place, the weights save_model would store as bf16 to the values the file holds
/// (so a model can be evaluated as its bf16 file will load).
inline void round_as_stored_bf16(const std::vector<std::pair<std::string, Tensor<float>>>& weights) {
  for (const auto& [name, t] : weights) {
    if (stored_as_bf16(t)) Tensor<float>(t).copy_(t.to<ember::bfloat16>().to<float>());
  }
}

inline void save_model(const std::string& path, const ModelConfig& cfg, const Vocab& vocab,
                       const std::vector<std::string>& labels, const Classifier& model,
                       const std::vector<float>& feature_weights = {},
                       const std::map<std::string, std::string>& extra = {},
                       const SubwordVocab* subword = nullptr, bool bf16_weights = false) {
  cfg.validate("save_model");  // what is saved must load back
  const bool sub = model_kind(cfg.kind).subword;
  if (sub && (subword == nullptr || subword->empty())) throw std::runtime_error("save_model: a " + cfg.kind + " model needs its vocabulary");
  std::vector<std::pair<std::string, ember::io::AnyTensor>> tensors;
  // bf16_weights: matrices (2-D and up) as bfloat16, half the bytes (a shipped model's size
  // limit); vectors (biases, norms) stay fp32. Loading widens them back to fp32.
  for (auto& [name, t] : model.state_dict()) {
    if (bf16_weights && stored_as_bf16(t)) {
      tensors.emplace_back(name, t.to<ember::bfloat16>());
    } else {
      tensors.emplace_back(name, t);
    }
  }
  if (!feature_weights.empty()) tensors.emplace_back("featurizer.weights", ember::from_vector(feature_weights));
  if (sub) tensors.emplace_back(kSubwordTensor, subword_tensor(*subword));
  std::map<std::string, std::string> meta = extra;
  meta["format"] = "ember-sentiment/1";
  meta["config"] = cfg.to_json().dump();
  meta["vocab"] = sub ? std::string() : vocab.serialize();  // a subword model's is its SentencePiece model
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
    if (model_kind(m.config.kind).subword) {
      m.subword = subword_of(ck, "the " + m.config.kind + " model");  // path is prefixed below
      m.vocab = vocab_of(m.subword);
    } else {
      m.vocab = Vocab::deserialize(need("vocab"));
    }
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
    if (name == kSubwordTensor && !m.subword.empty()) continue;  // read above
    Tensor<float> widened;
    const auto* t = std::get_if<Tensor<float>>(&any);
    if (const auto* b = std::get_if<Tensor<ember::bfloat16>>(&any); b != nullptr && name != "featurizer.weights") {
      widened = b->to<float>();  // a bf16-stored weight matrix
      t = &widened;
    }
    if (t == nullptr) throw std::runtime_error(path + ": tensor '" + name + "' is not F32 (or BF16)");
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
