// libFuzzer target: the UTF-8 checks, NFKC normalisation and the mixed CJK/Latin tokenizer,
// then the featurizer of a bag and a cnn model. On any bytes: invalid UTF-8 is found (and only
// then does normalisation fail), normalised text is valid UTF-8, tokens are non-empty, bigram
// positions point at bigrams, and every feature id lies inside the model's table.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "train.hpp"

namespace {
struct Models {
  sentiment::ModelConfig bow = sentiment::default_config("bow"), cnn = sentiment::default_config("cnn");
  sentiment::Vocab vocab;
  std::vector<float> table;
  Models() {
    bow.buckets = 97;
    bow.subwords = true;
    bow.ngrams = 3;
    const std::vector<sentiment::Example> data = {{1, "很好 good great 服务很好"}, {0, "很差 bad not good"}};
    vocab = sentiment::build_vocab(data, bow, 1, 0);
    table = sentiment::compute_feature_weights(data, bow, vocab);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Models m;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const bool valid = !sentiment::find_invalid_utf8(text).has_value();
  const auto norm = sentiment::normalize(text);
  if (valid && !norm) std::abort();
  if (!valid) return 0;  // the readers reject such texts before they get here
  if (sentiment::find_invalid_utf8(*norm)) std::abort();
  for (bool bigrams : {false, true}) {
    const sentiment::Tokens t = sentiment::tokenize_normalized(*norm, {.cjk_bigrams = bigrams, .negation = true});
    if (t.sequence_length > t.items.size()) std::abort();
    for (const auto& tok : t.items) {
      if (tok.empty() || sentiment::find_invalid_utf8(tok)) std::abort();
    }
    if (bigrams) {
      if (t.bigram_at.size() != t.sequence_length) std::abort();
      for (std::size_t b : t.bigram_at) {
        if (b != 0 && (b < t.sequence_length || b >= t.items.size())) std::abort();
      }
    }
  }
  const sentiment::Featurizer bow(m.bow, m.vocab, &m.table), cnn(m.cnn, m.vocab);
  const auto ids = bow.ids(text);
  for (auto id : ids) {
    if (id < 0 || id >= m.vocab.size() + m.bow.buckets) std::abort();
  }
  if (bow.weights(ids).size() != ids.size()) std::abort();
  for (auto id : cnn.ids(text)) {
    if (id < 0 || id >= m.vocab.size()) std::abort();
  }
  return 0;
}
