// vocab.hpp — token ↔ id tables and fastText-style hashed n-gram features.
// Ids: 0 = <pad>, 1 = <unk>, then tokens by descending count (ties in byte order, so the same
// data gives the same ids everywhere). Hashed n-grams map each adjacent token pair to one of
// `buckets` ids after the vocabulary (Joulin et al. 2017's hashing trick: no bigram table,
// collisions are rare enough not to matter).
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sentiment {

class Vocab {
 public:
  static constexpr std::int64_t kPad = 0, kUnk = 1;

  Vocab() : itos_{"<pad>", "<unk>"} { index(); }

  /// Tokens seen at least `min_count` times, the `max_size` most frequent (0: no limit),
  /// from a token → count table.
  static Vocab build(const std::unordered_map<std::string, std::int64_t>& counts,
                     std::int64_t min_count, std::int64_t max_size) {
    std::vector<std::pair<std::string, std::int64_t>> kept;
    for (const auto& [t, n] : counts) {
      if (n >= min_count && t != "<pad>" && t != "<unk>") kept.emplace_back(t, n);
    }
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (max_size > 0 && static_cast<std::int64_t>(kept.size()) > max_size) {
      kept.resize(static_cast<std::size_t>(max_size));
    }
    Vocab v;
    for (auto& [t, n] : kept) v.itos_.push_back(t);
    v.index();
    return v;
  }

  /// A vocabulary of these tokens in this order; the first two must be <pad> and <unk>.
  static Vocab from_tokens(std::vector<std::string> tokens) {
    if (tokens.size() < 2 || tokens[0] != "<pad>" || tokens[1] != "<unk>") {
      throw std::runtime_error("vocabulary: the first two tokens must be <pad> and <unk>");
    }
    Vocab v;
    v.itos_ = std::move(tokens);
    v.index();
    return v;
  }

  /// The vocabulary written as one token per line (tokens never contain whitespace).
  std::string serialize() const {
    std::string out;
    for (std::size_t i = 2; i < itos_.size(); ++i) {
      out += itos_[i];
      out += '\n';
    }
    return out;
  }
  static Vocab deserialize(std::string_view text) {
    Vocab v;
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t nl = text.find('\n', at);
      if (nl == std::string_view::npos) throw std::runtime_error("vocabulary: missing final newline");
      v.itos_.emplace_back(text.substr(at, nl - at));
      at = nl + 1;
    }
    v.index();
    return v;
  }

  std::int64_t id(const std::string& token) const {
    auto it = stoi_.find(token);
    return it == stoi_.end() ? kUnk : it->second;
  }
  const std::string& token(std::int64_t id) const { return itos_.at(static_cast<std::size_t>(id)); }
  std::int64_t size() const { return static_cast<std::int64_t>(itos_.size()); }

 private:
  void index() {
    stoi_.clear();
    for (std::size_t i = 0; i < itos_.size(); ++i) {
      if (!stoi_.emplace(itos_[i], static_cast<std::int64_t>(i)).second) {
        throw std::runtime_error("vocabulary: duplicate token '" + itos_[i] + "'");
      }
    }
  }
  std::vector<std::string> itos_;
  std::unordered_map<std::string, std::int64_t> stoi_;
};

/// FNV-1a, 64-bit: a fixed, platform-independent hash for n-gram buckets.
inline std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// Bucket ids (in [offset, offset + buckets)) of the runs of 2 to `max_n` adjacent tokens of
/// seq[0, n) (fastText's -wordNgrams).
inline void append_ngram_buckets(const std::vector<std::string>& seq, std::size_t n, int max_n,
                                 std::int64_t buckets, std::int64_t offset,
                                 std::vector<std::int64_t>& out) {
  if (buckets <= 0) return;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t h = fnv1a(seq[i]);
    for (int k = 1; k < max_n && i + static_cast<std::size_t>(k) < n; ++k) {
      h = fnv1a(seq[i + static_cast<std::size_t>(k)], fnv1a("\x1f", h));
      out.push_back(offset + static_cast<std::int64_t>(h % static_cast<std::uint64_t>(buckets)));
    }
  }
}

/// Bucket ids of the character 3–5-grams of a Latin word wrapped in < > (fastText's
/// subwords: "<good>" → <go, goo, ood, od>, <goo, …), so unseen forms share features with
/// seen ones (disappoint-ing/-ed). Words shorter than 2 letters, CJK characters and
/// punctuation have none.
inline void append_char_ngram_buckets(const std::string& word, std::int64_t buckets,
                                      std::int64_t offset, std::vector<std::int64_t>& out) {
  if (buckets <= 0 || word.size() < 2 || static_cast<unsigned char>(word[0]) >= 0x80 ||
      !((word[0] >= 'a' && word[0] <= 'z') || (word[0] >= '0' && word[0] <= '9'))) {
    return;
  }
  const std::string w = "<" + word + ">";
  for (std::size_t n = 3; n <= 5; ++n) {
    for (std::size_t i = 0; i + n <= w.size(); ++i) {
      if (n == w.size()) continue;  // the whole word is already a token
      const std::uint64_t h = fnv1a(std::string_view(w).substr(i, n), 0x84222325cbf29ce4ULL);
      out.push_back(offset + static_cast<std::int64_t>(h % static_cast<std::uint64_t>(buckets)));
    }
  }
}

}  // namespace sentiment
