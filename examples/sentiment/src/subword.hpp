// subword.hpp — the transformer's subword vocabulary: a SentencePiece model (Kudo & Richardson
// 2018; unigram or BPE), the tokenizer family BERT-era models ship, from Debian's
// libsentencepiece-dev rather than a hand-written trainer: its unigram EM and BPE merges are
// tested on far more languages than we could, and its model format is what other tools read.
//
// Texts are normalised by normalize() (NFKC, case folding) before training and before encoding,
// and SentencePiece's own normalisation is off (identity), so the two can never disagree.
// Ids: 0 <pad>, 1 <unk>, 2 [CLS], 3 [SEP], 4 [MASK], then the learned pieces. The model's bytes
// (a serialized ModelProto) are stored inside the model file as a uint8 tensor, so a model
// stays one file.
#pragma once

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "unicode.hpp"

namespace sentiment {

struct SubwordOptions {
  std::string type = "unigram";      // unigram | bpe | char
  std::int64_t size = 8000;          // pieces, the five special ids included
  double character_coverage = 0.9995;  // of the characters seen (SentencePiece's; CJK needs < 1)
  std::int64_t max_sentences = 2000000;  // texts read by the trainer (the first ones)
  int threads = 2;
};

class SubwordVocab {
 public:
  static constexpr std::int64_t kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4, kFirstPiece = 5;

  /// Learns a vocabulary from already-normalised texts.
  static SubwordVocab train(const std::vector<std::string>& texts, const SubwordOptions& o) {
    if (o.type != "unigram" && o.type != "bpe" && o.type != "char") {
      throw std::runtime_error("vocabulary type '" + o.type + "' (unigram, bpe or char)");
    }
    if (o.size < kFirstPiece + 1 || o.size > kMaxSize) {
      throw std::runtime_error("vocabulary size " + std::to_string(o.size) + " is outside [6, " +
                               std::to_string(kMaxSize) + "]");
    }
    if (texts.empty()) throw std::runtime_error("a vocabulary needs at least one text");
    struct Iterator : sentencepiece::SentenceIterator {
      const std::vector<std::string>* v = nullptr;
      std::size_t i = 0, end = 0;
      bool done() const override { return i >= end; }
      void Next() override { ++i; }
      const std::string& value() const override { return (*v)[i]; }
      sentencepiece::util::Status status() const override { return {}; }
    } it;
    it.v = &texts;
    it.end = std::min<std::size_t>(texts.size(), static_cast<std::size_t>(o.max_sentences));
    const std::unordered_map<std::string, std::string> args = {
        {"model_type", o.type},
        {"vocab_size", std::to_string(o.size)},
        {"character_coverage", std::to_string(o.character_coverage)},
        {"num_threads", std::to_string(o.threads)},
        {"pad_id", "0"},
        {"unk_id", "1"},
        {"bos_id", "-1"},
        {"eos_id", "-1"},
        {"pad_piece", "<pad>"},
        {"unk_piece", "<unk>"},
        {"user_defined_symbols", "[CLS],[SEP],[MASK]"},
        {"normalization_rule_name", "identity"},  // normalize() already ran
        {"input_sentence_size", "0"},
        {"shuffle_input_sentence", "false"},
        {"max_sentence_length", "65536"},
        {"hard_vocab_limit", "false"},  // a small text may support fewer pieces than asked
        {"minloglevel", "2"}};
    std::string proto;
    const auto st = sentencepiece::SentencePieceTrainer::Train(args, &it, &proto);
    if (!st.ok()) {
      std::string msg = "SentencePiece training failed: " + st.ToString();
      if (msg.find("required_chars") != std::string::npos) {
        msg += " (the vocabulary size is --size; the character coverage --coverage)";
      }
      throw std::runtime_error(msg);
    }
    return from_bytes(proto, "the new vocabulary");
  }

  /// Loads the serialized model `bytes`; `where` names it in messages. Checks the special ids.
  static SubwordVocab from_bytes(std::string_view bytes, const std::string& where) {
    SubwordVocab v;
    v.sp_ = std::make_shared<sentencepiece::SentencePieceProcessor>();
    const auto st = v.sp_->LoadFromSerializedProto(bytes);
    if (!st.ok()) throw std::runtime_error(where + ": not a SentencePiece model (" + st.ToString() + ")");
    const int n = v.sp_->GetPieceSize();
    if (n <= kFirstPiece || n > kMaxSize) {
      throw std::runtime_error(where + ": a SentencePiece model of " + std::to_string(n) + " pieces (6 to " +
                               std::to_string(kMaxSize) + " expected)");
    }
    const char* want[] = {"<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; ++i) {
      if (v.sp_->IdToPiece(i) != want[i]) {
        throw std::runtime_error(where + ": SentencePiece id " + std::to_string(i) + " is '" + v.sp_->IdToPiece(i) +
                                 "', not " + want[i] + " (not an ember-sentiment vocabulary)");
      }
    }
    v.bytes_.assign(bytes);
    return v;
  }

  /// Ids of an already-normalised text (no [CLS]/[SEP]).
  std::vector<std::int64_t> encode(std::string_view normalized) const {
    std::vector<int> ids;
    const auto st = sp_->Encode(normalized, &ids);
    if (!st.ok()) throw std::runtime_error("SentencePiece encode: " + st.ToString());
    return {ids.begin(), ids.end()};
  }
  /// The pieces of an already-normalised text, as strings.
  std::vector<std::string> pieces(std::string_view normalized) const {
    std::vector<std::string> p;
    const auto st = sp_->Encode(normalized, &p);
    if (!st.ok()) throw std::runtime_error("SentencePiece encode: " + st.ToString());
    return p;
  }
  std::string decode(const std::vector<std::int64_t>& ids) const {
    std::vector<int> v;
    for (auto id : ids) {
      if (id < 0 || id >= size()) throw std::runtime_error("decode: id " + std::to_string(id) + " outside the vocabulary");
      v.push_back(static_cast<int>(id));
    }
    std::string out;
    const auto st = sp_->Decode(v, &out);
    if (!st.ok()) throw std::runtime_error("SentencePiece decode: " + st.ToString());
    return out;
  }
  std::int64_t size() const { return sp_ ? sp_->GetPieceSize() : 0; }
  std::string piece(std::int64_t id) const { return sp_->IdToPiece(static_cast<int>(id)); }
  const std::string& bytes() const { return bytes_; }
  bool empty() const { return sp_ == nullptr; }

  static constexpr std::int64_t kMaxSize = 1 << 20;

 private:
  std::shared_ptr<sentencepiece::SentencePieceProcessor> sp_;  // const after loading: shared
  std::string bytes_;
};

}  // namespace sentiment
