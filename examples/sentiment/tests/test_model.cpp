// Models, metrics and the model file: shapes, a hand-worked confusion matrix, a save → load
// round trip that predicts identical probabilities, and an end-to-end training run on the
// built-in corpus with a fixed seed.
#include <gtest/gtest.h>

#include <filesystem>

#include "train.hpp"

using namespace sentiment;

namespace {

std::vector<Example> corpus(const std::string& name) {
  ReadReport rep;
  return read_dataset(std::string(SENTIMENT_DATA_DIR) + "/" + name, {.strict = true}, rep);
}

}  // namespace

TEST(Metrics, HandWorked) {
  // truth 0 0 0 1 1, predicted 0 1 0 1 0: confusion [[2, 1], [1, 1]].
  Metrics m = Metrics::from({0, 0, 0, 1, 1}, {0, 1, 0, 1, 0}, 2, 0.0);
  EXPECT_EQ(m.confusion, (std::vector<std::vector<std::int64_t>>{{2, 1}, {1, 1}}));
  EXPECT_DOUBLE_EQ(m.accuracy, 0.6);
  EXPECT_DOUBLE_EQ(m.precision[0], 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall[1], 0.5);
  EXPECT_DOUBLE_EQ(m.f1[1], 0.5);
  EXPECT_DOUBLE_EQ(m.macro_f1, (2.0 / 3 + 0.5) / 2);
}

TEST(Corpus, BuiltInCorpusIsBilingualBalancedAndLargeEnough) {
  auto train = corpus("train.tsv"), test = corpus("test.tsv");
  EXPECT_GE(train.size() + test.size(), 600u);
  std::int64_t pos = 0, cjk = 0;
  for (auto* set : {&train, &test}) {
    for (auto& e : *set) {
      pos += e.label;
      cjk += (static_cast<unsigned char>(e.text[0]) >= 0xE3);  // starts with a CJK character
    }
  }
  const double n = static_cast<double>(train.size() + test.size());
  EXPECT_NEAR(static_cast<double>(pos) / n, 0.5, 0.05);
  EXPECT_NEAR(static_cast<double>(cjk) / n, 0.5, 0.1);
}

TEST(Model, CnnHandlesTextsShorterThanItsWidestFilter) {
  ModelConfig cfg = default_config("cnn");
  cfg.dim = 8;
  cfg.filters = 4;
  Vocab vocab = build_vocab({{1, "好 棒"}, {0, "差"}}, cfg, 1, 0);
  ember::Generator g(1);
  auto model = make_model(cfg, vocab.size(), g);
  Featurizer f(cfg, vocab);
  Encoded e = encode({{1, "好"}, {0, "差 差 差 差 差 差"}}, f);
  Tensor<float> p = predict_proba(*model, e);
  EXPECT_EQ(p.shape(), (ember::Shape{2, 2}));
  for (std::int64_t i = 0; i < 2; ++i) EXPECT_NEAR(p.at(i, 0) + p.at(i, 1), 1.0f, 1e-6);
}

TEST(Model, FileRoundTripPredictsIdenticalProbabilities) {
  auto train = corpus("train.tsv");
  train.resize(120);
  for (const std::string variant : {"bow", "cnn", "bow+tfidf"}) {
    const std::string kind = variant.substr(0, 3);
    ModelConfig cfg = default_config(kind);
    cfg.dim = 16;
    cfg.filters = 8;
    cfg.buckets = cfg.kind == "bow" ? 4096 : 0;
    cfg.tfidf = variant == "bow+tfidf";
    Vocab vocab = build_vocab(train, cfg, 1, 0);
    std::vector<float> idf;
    if (cfg.tfidf) idf = compute_idf(encode(train, Featurizer(cfg, vocab)), vocab.size() + cfg.buckets);
    ember::Generator g(2);
    auto model = make_model(cfg, vocab.size(), g);
    Featurizer f(cfg, vocab, &idf);
    Encoded enc = encode(train, f);
    EXPECT_EQ(enc.weights.size(), cfg.tfidf ? train.size() : 0u);
    train_model(*model, enc, enc, 2, {.epochs = 1, .batch = 16, .lr = 0.01});
    const std::string path =
        (std::filesystem::temp_directory_path() / ("rt_" + kind + ".safetensors")).string();
    save_model(path, cfg, vocab, {"negative", "positive"}, *model, idf);
    SavedModel back = load_model(path);
    EXPECT_EQ(back.config.kind, kind);
    EXPECT_EQ(back.config.tfidf, cfg.tfidf);
    EXPECT_EQ(back.idf, idf);
    EXPECT_EQ(back.vocab.size(), vocab.size());
    EXPECT_EQ(back.labels, (std::vector<std::string>{"negative", "positive"}));
    Encoded enc2 = encode(train, Featurizer(back.config, back.vocab, &back.idf));
    EXPECT_TRUE(ember::equal(predict_proba(*model, enc), predict_proba(*back.model, enc2))) << variant;
  }
}

TEST(Model, LoadRejectsFilesThatAreNotModels) {
  const std::string path = (std::filesystem::temp_directory_path() / "not_a_model.safetensors").string();
  ember::io::save_safetensors(path, {{"w", ember::zeros<float>({2})}});
  try {
    load_model(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not an ember-sentiment model (no 'format' metadata)"),
              std::string::npos);
  }
  EXPECT_THROW(load_model("/nonexistent.safetensors"), ember::Error);
}

TEST(EndToEnd, BowOnTheBuiltInCorpusBeatsChanceByFar) {
  // The demo's recipe with its default seed: held-out accuracy was 81.7% when written (seeds
  // 1–5: 80.9–83.2%); the threshold leaves room for platform differences in float sums.
  auto train = corpus("train.tsv"), test = corpus("test.tsv");
  ModelConfig cfg = default_config("bow");
  cfg.dim = 16;
  cfg.buckets = 1 << 14;
  cfg.subwords = true;
  Vocab vocab = build_vocab(train, cfg, 1, 0);
  ember::Generator g(1);
  auto model = make_model(cfg, vocab.size(), g);
  Featurizer f(cfg, vocab);
  Encoded tr = encode(train, f), te = encode(test, f);
  TrainOptions o{.epochs = 6, .batch = 16, .lr = 0.02, .label_smoothing = 0.1, .patience = 6,
                 .keep_best = false, .seed = 1};
  TrainResult r = train_model(*model, tr, te, 2, o);
  EXPECT_EQ(r.history.size(), 6u);
  EXPECT_LT(r.history.back().train_loss, r.history.front().train_loss);
  Metrics m = evaluate(*model, te, 2);
  EXPECT_GE(m.accuracy, 0.75);
  EXPECT_EQ(m.n, static_cast<std::int64_t>(test.size()));
}
