// The shipped models (examples/sentiment/models/{zh,en}.safetensors): `predict` without --model
// sends each text to its script's model, and each shipped model classifies the README's example
// sentences correctly. A model that does not ship (yet) skips its test.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "commands/predict_command.hpp"

using sentiment::cmd::ShippedModels;

namespace {

/// Labels the shipped model of `lang` gives `texts`.
std::vector<std::string> shipped_labels(const std::string& lang, const std::vector<std::string>& texts) {
  ShippedModels shipped(EMBER_SENTIMENT_MODELS_DIR);
  const auto& models = shipped.get(lang);
  std::vector<std::string> out;
  for (const auto& p : sentiment::cmd::predict(models, texts)) out.push_back(models.front().labels[static_cast<std::size_t>(p.label)]);
  return out;
}

bool ships(const std::string& lang) {
  return std::filesystem::exists(std::string(EMBER_SENTIMENT_MODELS_DIR) + "/" + lang + ".safetensors");
}

using Cases = std::vector<std::pair<std::string, std::string>>;

/// Each text of `cases` gets its label from the shipped `lang` model.
void expect_classifies(const std::string& lang, const Cases& cases) {
  std::vector<std::string> texts;
  texts.reserve(cases.size());
  for (const auto& c : cases) texts.push_back(c.first);
  const auto got = shipped_labels(lang, texts);
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(got[i], cases[i].second) << cases[i].first;
}

}  // namespace

TEST(Shipped, ScriptPicksTheModel) {
  EXPECT_STREQ(ShippedModels::language("这家酒店的服务很好"), "zh");
  EXPECT_STREQ(ShippedModels::language("The staff were friendly."), "en");
  EXPECT_STREQ(ShippedModels::language("服务 good"), "zh");   // any CJK character
  EXPECT_STREQ(ShippedModels::language("ＡＢＣ 123"), "en");  // full-width Latin is not CJK
  EXPECT_STREQ(ShippedModels::language(""), "en");
}

TEST(Shipped, MissingModelNamesThePath) {
  ShippedModels none((std::filesystem::temp_directory_path() / "ember-no-models-here").string());
  try {
    none.get("zh");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ember-no-models-here/zh.safetensors"), std::string::npos) << e.what();
  }
}

TEST(Shipped, ChineseModelClassifiesTheReadmeSentences) {
  if (!ships("zh")) GTEST_SKIP() << "no shipped zh model";
  expect_classifies("zh", {{"这家酒店的服务很好,房间也很干净。", "positive"},
                           {"房间又小又脏,前台态度很差,再也不会来了。", "negative"},
                           {"这本书写得很好,值得推荐。", "positive"},
                           {"电池不耐用,用了两天就坏了,非常失望。", "negative"},
                           {"味道不错,分量也足,下次还来。", "positive"},
                           {"菜太咸了,服务员也爱答不理。", "negative"}});
}

TEST(Shipped, EnglishModelClassifiesTheReadmeSentences) {
  if (!ships("en")) GTEST_SKIP() << "no shipped en model";
  expect_classifies("en", {{"The staff were friendly and the breakfast was delicious.", "positive"},
                           {"A boring, predictable movie. I want my money back.", "negative"},
                           {"One of the most moving films I have seen in years.", "positive"},
                           {"The room was dirty.", "negative"}});
}
