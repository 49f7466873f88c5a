// Padded batches of token sequences and masked-language-model inputs: hand-worked padding, the
// masking statistics (rate, 80/10/10 split, specials never picked) against their binomial
// spread, determinism per seed, and clear errors.
#include <cmath>
#include <set>

#include "../test_util.hpp"

using ember::Tensor;
namespace nn = ember::nn;

TEST(Sequence, PadSequencesHandWorked) {
  std::vector<std::vector<std::int64_t>> seqs = {{5, 6, 7}, {}, {8, 9, 10, 11, 12}};
  auto b = nn::pad_sequences(seqs, {.pad_id = 0, .max_len = 4});
  EXPECT_EQ(b.ids.shape(), (ember::Shape{3, 4}));
  EXPECT_EQ(b.ids.to_vector(), (std::vector<std::int64_t>{5, 6, 7, 0, 0, 0, 0, 0, 8, 9, 10, 11}));
  EXPECT_EQ(b.padding_mask.to_vector(),
            (std::vector<bool>{false, false, false, true, true, true, true, true, false, false,
                               false, false}));
  EXPECT_EQ(b.lengths, (std::vector<std::int64_t>{3, 0, 4}));
  // min_len pads a batch of short rows further; pad_id fills.
  auto c = nn::pad_sequences(std::vector<std::vector<std::int64_t>>{{1}}, {.pad_id = 9, .min_len = 3});
  EXPECT_EQ(c.ids.to_vector(), (std::vector<std::int64_t>{1, 9, 9}));
  EXPECT_EMBER_ERROR(nn::pad_sequences(seqs, {.max_len = 2, .min_len = 3}),
                     "pad_sequences: min_len 3 is above max_len 2");
}

namespace {
nn::MaskedLmOptions mlm_options() {
  nn::MaskedLmOptions o;
  o.vocab_size = 1000;
  o.mask_id = 4;
  o.random_low = 5;
  o.special_ids = {0, 2, 3};
  return o;
}
}  // namespace

TEST(MaskedLm, RatesMatchBertsSplit) {
  // 256 × 128 ids: every 8th is padding (0), the first of a row is [CLS] (2).
  const std::int64_t B = 256, T = 128;
  ember::Generator data(3);
  Tensor<std::int64_t> ids = ember::randint<std::int64_t>(5, 1000, {B, T}, data);
  for (std::int64_t b = 0; b < B; ++b) {
    ids.data()[b * T] = 2;
    for (std::int64_t t = 7; t < T; t += 8) ids.data()[b * T + t] = 0;
  }
  std::int64_t eligible = 0;
  for (std::int64_t i = 0; i < ids.numel(); ++i) eligible += ids.data()[i] != 0 && ids.data()[i] != 2;
  ember::Generator g(11);
  auto m = nn::mask_tokens(ids, mlm_options(), g);
  const std::int64_t M = m.positions.numel();
  ASSERT_EQ(m.targets.numel(), M);
  // Picked: Binomial(eligible, 0.15); within 5 standard deviations.
  const double n = static_cast<double>(eligible), sd = std::sqrt(n * 0.15 * 0.85);
  EXPECT_NEAR(static_cast<double>(M), 0.15 * n, 5 * sd);
  std::int64_t masked = 0, replaced = 0, kept = 0, prev = -1;
  for (std::int64_t j = 0; j < M; ++j) {
    const std::int64_t p = m.positions.data()[j];
    EXPECT_GT(p, prev);  // ascending, no repeats
    prev = p;
    EXPECT_EQ(m.targets.data()[j], ids.data()[p]);
    EXPECT_NE(ids.data()[p], 0);  // specials are never picked
    EXPECT_NE(ids.data()[p], 2);
    const std::int64_t now = m.inputs.data()[p];
    if (now == 4) {
      ++masked;
    } else if (now == ids.data()[p]) {
      ++kept;  // left as is, or a random draw that hit the same id (p = 1/995)
    } else {
      ++replaced;
      EXPECT_GE(now, 5);
      EXPECT_LT(now, 1000);
    }
  }
  const double mm = static_cast<double>(M);
  EXPECT_NEAR(static_cast<double>(masked), 0.8 * mm, 5 * std::sqrt(mm * 0.8 * 0.2));
  EXPECT_NEAR(static_cast<double>(replaced), 0.1 * mm, 5 * std::sqrt(mm * 0.1 * 0.9) + 2);
  EXPECT_NEAR(static_cast<double>(kept), 0.1 * mm, 5 * std::sqrt(mm * 0.1 * 0.9) + 2);
  // Every position that was not picked is unchanged.
  std::set<std::int64_t> picked(m.positions.data(), m.positions.data() + M);
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    if (!picked.count(i)) {
      ASSERT_EQ(m.inputs.data()[i], ids.data()[i]) << "flat index " << i;
    }
  }
  // The same seed gives the same mask; another seed another one.
  ember::Generator g2(11), g3(12);
  auto again = nn::mask_tokens(ids, mlm_options(), g2);
  EXPECT_EQ(again.inputs.to_vector(), m.inputs.to_vector());
  EXPECT_EQ(again.positions.to_vector(), m.positions.to_vector());
  EXPECT_NE(nn::mask_tokens(ids, mlm_options(), g3).positions.to_vector(), m.positions.to_vector());
}

TEST(MaskedLm, AlwaysPicksOneAndRefusesBadInput) {
  // Two eligible tokens at probability 1e-9: nothing is drawn, so one is picked uniformly.
  Tensor<std::int64_t> ids{{2, 7, 8, 0}};
  auto o = mlm_options();
  o.probability = 1e-9;
  ember::Generator g(1);
  auto m = nn::mask_tokens(ids, o, g);
  ASSERT_EQ(m.positions.numel(), 1);
  const std::int64_t p = m.positions.data()[0];
  EXPECT_TRUE(p == 1 || p == 2);
  EXPECT_EMBER_ERROR(nn::mask_tokens(Tensor<std::int64_t>{{2, 0}}, o, g),
                     "mask_tokens: every one of the 2 ids of the batch [1,2] is special");
  EXPECT_EMBER_ERROR(nn::mask_tokens(Tensor<std::int64_t>{{2, 1000}}, o, g),
                     "mask_tokens: id 1000 at flat index 1 is outside the vocabulary [0, 1000)");
  o.mask_fraction = 0.95;
  EXPECT_EMBER_ERROR(nn::mask_tokens(ids, o, g), "must be non-negative and sum to at most 1");
}
