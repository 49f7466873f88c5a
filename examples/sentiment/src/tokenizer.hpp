// tokenizer.hpp — mixed Chinese/English tokenisation for sentiment models.
//
//   "这家酒店的服务很好,房间也很干净。" → 这 家 酒 店 的 服 务 很 好 , 房 间 …  (+ bigrams 这家 家酒 …)
//   "The room was NOT clean!!"          → the room was not not_clean ! !
//
// Text is normalised first (unicode.hpp: NFKC, case folding, whitespace folding). Then:
//   * CJK characters are one token each; with `cjk_bigrams`, every pair of adjacent CJK
//     characters is also a token, appended after the sequence (bag-of-words models bag them;
//     the CNN adds each bigram's embedding to the position where it starts).
//   * Latin-script words are runs of letters and digits, keeping inner apostrophes (don't,
//     n't); a word of digits only becomes <num>.
//   * Every other non-space character (punctuation, symbols, emoji) is a token of its own.
//   * With `negation`, up to three words after a negator (not, no, never, n't, don't, …) get the
//     prefix not_, stopping at punctuation — Das & Chen's / Pang et al.'s negation marking, so
//     "not good" and "good" are different features.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "unicode.hpp"

namespace sentiment {

struct TokenizerOptions {
  bool cjk_bigrams = true;
  bool negation = true;
};

struct Tokens {
  std::vector<std::string> items;  // the sequence, then (if enabled) the CJK bigrams
  std::size_t sequence_length = 0;  // items[0, sequence_length) is the token sequence
  // With cjk_bigrams: for each sequence position, the index in `items` of the bigram that
  // starts there, or 0 when the position and the next are not both CJK characters.
  std::vector<std::size_t> bigram_at;
};

inline bool is_negator(std::string_view w) {
  static constexpr std::array<std::string_view, 30> kNegators = {
      "not",    "no",     "never",   "n't",      "nothing",  "nobody",  "none",   "neither",
      "nor",    "without", "hardly", "cannot",   "can't",    "don't",   "doesn't", "didn't",
      "isn't",  "wasn't", "aren't",  "weren't",  "won't",    "wouldn't", "shouldn't",
      "couldn't", "haven't", "hasn't", "hadn't", "ain't",    "nowhere", "barely"};
  for (auto n : kNegators) {
    if (w == n) return true;
  }
  return false;
}

/// Tokenises already-normalised text (see normalize()).
inline Tokens tokenize_normalized(std::string_view text, const TokenizerOptions& opt = {}) {
  Tokens out;
  std::vector<std::string>& toks = out.items;
  std::vector<std::size_t> cjk_pairs;  // indices i where toks[i] and toks[i+1] are adjacent CJK
  const std::vector<char32_t> cps = decode_utf8(text);
  int negation_left = 0;  // words still to mark after a negator
  bool prev_cjk = false;
  for (std::size_t i = 0; i < cps.size();) {
    const char32_t c = cps[i];
    if (is_space(c)) {
      prev_cjk = false;
      ++i;
      continue;
    }
    if (is_cjk(c)) {
      std::string t;
      append_utf8(t, c);
      if (prev_cjk) cjk_pairs.push_back(toks.size() - 1);
      toks.push_back(std::move(t));
      prev_cjk = true;
      negation_left = 0;
      ++i;
      continue;
    }
    prev_cjk = false;
    if (is_word_char(c)) {
      std::string w;
      bool all_digits = true;
      std::size_t j = i;
      for (; j < cps.size(); ++j) {
        const char32_t d = cps[j];
        const bool inner_apostrophe = (d == U'\'' || d == U'\u2019') && j + 1 < cps.size() &&
                                      is_word_char(cps[j + 1]) && !is_cjk(cps[j + 1]);
        if (!(is_word_char(d) && !is_cjk(d)) && !inner_apostrophe) break;
        all_digits = all_digits && is_digit(d);
        append_utf8(w, d == U'\u2019' ? U'\'' : d);
      }
      // PTB tokenisation (SST) writes "do n't": n't arrives as a word of its own.
      i = j;
      if (all_digits) w = "<num>";
      if (opt.negation && negation_left > 0) {
        toks.push_back("not_" + w);
        --negation_left;
      } else {
        toks.push_back(w);
      }
      if (opt.negation && is_negator(w)) negation_left = 3;
      continue;
    }
    std::string p;
    append_utf8(p, c);
    toks.push_back(std::move(p));
    negation_left = 0;  // punctuation ends a negation's scope
    ++i;
  }
  out.sequence_length = toks.size();
  if (opt.cjk_bigrams) {
    out.bigram_at.assign(toks.size(), 0);
    for (std::size_t k : cjk_pairs) {
      out.bigram_at[k] = toks.size();
      toks.push_back(toks[k] + toks[k + 1]);
    }
  }
  return out;
}

}  // namespace sentiment
