// models/registry.hpp — the model kinds `train --model` knows. A kind is one file under
// models/ and one row here: its defaults, the names and shapes of its parameters (checked
// against a file before anything is allocated), how to build it, and the `train` options that
// only it reads (the others are refused for it).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/bow.hpp"
#include "models/classifier.hpp"
#include "models/cnn.hpp"
#include "models/config.hpp"
#include "models/transformer.hpp"

namespace sentiment {

using ParameterShapes = std::vector<std::pair<std::string, ember::Shape>>;

struct ModelKind {
  std::string name, summary;
  std::function<void(ModelConfig&)> defaults;
  std::function<ParameterShapes(const ModelConfig&, std::int64_t vocab)> shapes;
  std::function<std::unique_ptr<Classifier>(const ModelConfig&, std::int64_t vocab, ember::Generator&)> make;
  std::vector<std::string> options;  // `train` options only this kind reads
  double lr = 1e-3;                  // its default peak learning rate
  bool subword = false;              // reads SentencePiece ids (a vocabulary inside the file)
  std::function<void(const ModelConfig&, const std::string& what)> check = nullptr;  // its own settings' rules
};

inline const std::vector<ModelKind>& model_kinds() {
  static const std::vector<ModelKind> kinds = {
      {"bow", "fastText-style bag of words, n-grams and subwords", bow::defaults, bow::shapes,
       [](const ModelConfig& c, std::int64_t v, ember::Generator& g) -> std::unique_ptr<Classifier> {
         return std::make_unique<BowModel>(c, v, g);
       },
       {"--buckets", "--ngrams", "--weighting", "--subwords", "--min-count", "--max-vocab"}, 0.003, false},
      {"cnn", "TextCNN over tokens and CJK bigrams", cnn::defaults, cnn::shapes,
       [](const ModelConfig& c, std::int64_t v, ember::Generator& g) -> std::unique_ptr<Classifier> {
         return std::make_unique<CnnModel>(c, v, g);
       },
       {"--filters", "--widths", "--dropout", "--max-len", "--embedding-std", "--init-embeddings", "--min-count",
        "--max-vocab"},
       2e-3, false},
      {"transformer", "BERT-style encoder over SentencePiece ids; pretrain with `pretrain --objective mlm`",
       transformer::defaults, transformer::shapes,
       [](const ModelConfig& c, std::int64_t v, ember::Generator& g) -> std::unique_ptr<Classifier> {
         return std::make_unique<TransformerModel>(c, v, g);
       },
       {"--dropout", "--max-len", "--layers", "--heads", "--ffn", "--pooling", "--long-text", "--layer-decay", "--init", "--vocab",
        "--vocab-size"}, 1e-4, true, transformer::check},
  };
  return kinds;
}

inline bool is_model_kind(const std::string& kind) {
  for (const auto& k : model_kinds()) {
    if (k.name == kind) return true;
  }
  return false;
}

inline void check_kind_settings(const ModelConfig& c, const std::string& what) {
  for (const auto& k : model_kinds()) {
    if (k.name != c.kind) continue;
    if (k.check) k.check(c, what);
    if (c.long_text == "windows" && !k.subword) {
      throw std::runtime_error(what + ": long_text 'windows' is for models of SentencePiece ids (the transformer), not " +
                               c.kind);
    }
  }
}

inline std::string model_kind_list() {
  std::string out;
  const auto& kinds = model_kinds();
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == kinds.size() ? " or " : ", ") + kinds[i].name;
  }
  return out;
}

inline const ModelKind& model_kind(const std::string& kind) {
  for (const auto& k : model_kinds()) {
    if (k.name == kind) return k;
  }
  throw std::runtime_error("unknown model '" + kind + "' (" + model_kind_list() + ")");
}

/// The defaults of `kind` (what `train --model` picks unless overridden).
inline ModelConfig default_config(const std::string& kind) {
  ModelConfig c;
  c.kind = kind;
  model_kind(kind).defaults(c);
  return c;
}

/// The name and shape of every parameter the model of `c` over a vocabulary of `vocab` tokens
/// has (what make_model builds; a test holds the two together). Loading compares a file's
/// tensors against this before anything is allocated.
inline ParameterShapes parameter_shapes(const ModelConfig& c, std::int64_t vocab) {
  return model_kind(c.kind).shapes(c, vocab);
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

inline std::unique_ptr<Classifier> make_model(const ModelConfig& c, std::int64_t vocab, ember::Generator& g) {
  c.validate();
  checked_parameter_count(c, vocab, kMaxModelWeights);
  return model_kind(c.kind).make(c, vocab, g);
}

}  // namespace sentiment
