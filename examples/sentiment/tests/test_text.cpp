// The text pipeline: normalisation, tokenisation of Chinese, English, mixed text, emoji and
// full-width forms, invalid UTF-8, and the vocabulary.
#include <gtest/gtest.h>

#include "tokenizer.hpp"
#include "vocab.hpp"

using namespace sentiment;
using Strings = std::vector<std::string>;

namespace {
Strings tok(const std::string& text, TokenizerOptions o = {}) {
  auto n = normalize(text);
  EXPECT_TRUE(n.has_value()) << text;
  return tokenize_normalized(*n, o).items;
}
}  // namespace

TEST(Normalize, NfkcCaseFoldAndWhitespace) {
  EXPECT_EQ(*normalize("  Ｈｅｌｌｏ,\tＷＯＲＬＤ！ １２３  "), "hello, world! 123");
  EXPECT_EQ(*normalize("ﬁne Café"), "fine café");  // ligature decomposed, é composed
  EXPECT_EQ(*normalize("酒店\u3000很好"), "酒店 很好");  // ideographic space folds too
  EXPECT_EQ(*normalize(""), "");
}

TEST(Normalize, InvalidUtf8IsFoundAndRejected) {
  const std::string bad = std::string("ok") + "\xC3\x28" + "x";  // a truncated 2-byte sequence
  EXPECT_EQ(find_invalid_utf8(bad), std::optional<std::size_t>(2));
  EXPECT_FALSE(normalize(bad).has_value());
  EXPECT_EQ(find_invalid_utf8("\xE9\x85\x92\xE5\xBA\x97"), std::nullopt);  // 酒店
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), std::optional<std::size_t>(0));  // a surrogate
}

TEST(Tokenizer, ChineseCharactersThenBigrams) {
  EXPECT_EQ(tok("服务很好。"), (Strings{"服", "务", "很", "好", "。", "服务", "务很", "很好"}));
  EXPECT_EQ(tok("服务很好", {.cjk_bigrams = false}), (Strings{"服", "务", "很", "好"}));
  // Punctuation breaks a run: no bigram across it.
  EXPECT_EQ(tok("好,差"), (Strings{"好", ",", "差"}));
  // Where each bigram starts (index into items; 0: none), for sequence models.
  Tokens t = tokenize_normalized("服务很好。", {});
  EXPECT_EQ(t.sequence_length, 5u);
  EXPECT_EQ(t.bigram_at, (std::vector<std::size_t>{5, 6, 7, 0, 0}));
}

TEST(Tokenizer, EnglishWordsPunctuationNumbersNegation) {
  EXPECT_EQ(tok("The room was NOT clean!!"),
            (Strings{"the", "room", "was", "not", "not_clean", "!", "!"}));
  EXPECT_EQ(tok("I didn't like it at all, but the bar was fine."),
            (Strings{"i", "didn't", "not_like", "not_it", "not_at", "all", ",", "but", "the",
                     "bar", "was", "fine", "."}));
  EXPECT_EQ(tok("do n't go", {.negation = true}), (Strings{"do", "n't", "not_go"}));
  EXPECT_EQ(tok("Room 404 cost $120.50", {.negation = false}),
            (Strings{"room", "<num>", "cost", "$", "<num>", ".", "<num>"}));
  EXPECT_EQ(tok("rock’n’roll", {.negation = false}), (Strings{"rock'n'roll"}));
}

TEST(Tokenizer, MixedEmojiAndFullWidth) {
  EXPECT_EQ(tok("酒店WiFi很快👍"),
            (Strings{"酒", "店", "wifi", "很", "快", "👍", "酒店", "很快"}));
  EXPECT_EQ(tok("ＧＯＯＤ！！好评"), (Strings{"good", "!", "!", "好", "评", "好评"}));
  EXPECT_EQ(tok("😡😡 never again"), (Strings{"😡", "😡", "never", "not_again"}));
  EXPECT_TRUE(tok("   ").empty());
}

TEST(Vocab, BuildOrderLimitsAndRoundTrip) {
  std::unordered_map<std::string, std::int64_t> counts{
      {"good", 5}, {"bad", 5}, {"ok", 2}, {"rare", 1}, {"<unk>", 9}};
  Vocab v = Vocab::build(counts, /*min_count=*/2, /*max_size=*/0);
  // Specials first, then by count, ties in byte order; below min_count dropped.
  EXPECT_EQ(v.size(), 5);
  EXPECT_EQ(v.token(2), "bad");
  EXPECT_EQ(v.token(3), "good");
  EXPECT_EQ(v.token(4), "ok");
  EXPECT_EQ(v.id("rare"), Vocab::kUnk);
  EXPECT_EQ(v.id("good"), 3);
  EXPECT_EQ(Vocab::build(counts, 1, 2).size(), 4);  // max_size keeps the 2 most frequent
  Vocab back = Vocab::deserialize(v.serialize());
  EXPECT_EQ(back.size(), v.size());
  EXPECT_EQ(back.id("ok"), 4);
  EXPECT_THROW(Vocab::deserialize("a\na\n"), std::runtime_error);  // duplicate token
  EXPECT_THROW(Vocab::deserialize("a"), std::runtime_error);       // truncated
}

TEST(Vocab, HashedFeaturesAreStableAndInRange) {
  std::vector<std::int64_t> ids;
  append_ngram_buckets({"not", "good", "!"}, 3, 2, 1000, 50, ids);
  ASSERT_EQ(ids.size(), 2u);  // two bigrams
  std::vector<std::int64_t> tri;
  append_ngram_buckets({"not", "good", "!"}, 3, 3, 1000, 50, tri);
  ASSERT_EQ(tri.size(), 3u);  // two bigrams and a trigram
  EXPECT_EQ(tri[0], ids[0]);
  for (auto id : ids) EXPECT_TRUE(id >= 50 && id < 1050);
  // FNV-1a test vector ("a" → 0xaf63dc4c8601ec8c): same ids on every platform.
  EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cULL);
  std::vector<std::int64_t> sub;
  append_char_ngram_buckets("good", 1000, 0, sub);
  EXPECT_EQ(sub.size(), 4u + 3u + 2u);  // "<good>": 4 trigrams, 3 four-grams, 2 five-grams
  std::vector<std::int64_t> none;
  append_char_ngram_buckets("好", 1000, 0, none);
  append_char_ngram_buckets("!", 1000, 0, none);
  EXPECT_TRUE(none.empty());
}
