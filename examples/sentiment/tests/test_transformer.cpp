// The transformer and its pretraining: SentencePiece training and an encode/decode round trip,
// packing, a tiny transformer that overfits the built-in corpus, MLM loss that falls on a
// small text, a resumed pretraining run equal to one that never stopped, the model file round
// trip with the vocabulary inside, clear errors for a broken vocabulary, and `average` (a model
// soup): the file holds the mean of its models' weights and refuses models that do not match.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "commands/average_command.hpp"
#include "commands/predict_command.hpp"
#include "mlm.hpp"
#include "train.hpp"

using namespace sentiment;

namespace {

std::vector<Example> corpus(const std::string& name) {
  ReadReport rep;
  return read_dataset(std::string(SENTIMENT_DATA_DIR) + "/" + name, {.strict = true}, rep);
}

std::vector<std::string> normalized_texts(const std::vector<Example>& data) {
  std::vector<std::string> out;
  for (const auto& e : data) {
    auto n = normalize(e.text);
    if (n && !n->empty()) out.push_back(*n);
  }
  return out;
}

/// A vocabulary learned from the built-in training texts (both languages), shared by the tests.
const SubwordVocab& builtin_vocab() {
  static const SubwordVocab v = [] {
    SubwordOptions o;
    o.size = 1000;
    o.threads = 1;
    return SubwordVocab::train(normalized_texts(corpus("train.tsv")), o);
  }();
  return v;
}

ModelConfig tiny_transformer() {
  ModelConfig c = default_config("transformer");
  c.dim = 32;
  c.layers = 2;
  c.heads = 2;
  c.ffn = 64;
  c.max_len = 48;
  c.dropout = 0.0;
  return c;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / name).string();
}

}  // namespace

TEST(Subword, LearnsSpecialIdsAndRoundTripsText) {
  const SubwordVocab& v = builtin_vocab();
  EXPECT_GT(v.size(), 820);  // every character of the corpus, and pieces
  EXPECT_LE(v.size(), 1000);
  EXPECT_EQ(v.piece(SubwordVocab::kPad), "<pad>");
  EXPECT_EQ(v.piece(SubwordVocab::kUnk), "<unk>");
  EXPECT_EQ(v.piece(SubwordVocab::kCls), "[CLS]");
  EXPECT_EQ(v.piece(SubwordVocab::kSep), "[SEP]");
  EXPECT_EQ(v.piece(SubwordVocab::kMask), "[MASK]");
  for (const std::string text : {"这家酒店的服务很好,房间也很干净。", "the staff were friendly and the breakfast was delicious."}) {
    const auto ids = v.encode(text);
    ASSERT_FALSE(ids.empty());
    for (auto id : ids) {
      EXPECT_GE(id, SubwordVocab::kUnk);  // learned pieces or <unk>, never a special id
      EXPECT_NE(id, SubwordVocab::kMask);
    }
    // Every character of these sentences occurs in the built-in corpus: no <unk>, and decoding
    // gives the text back.
    EXPECT_EQ(std::count(ids.begin(), ids.end(), SubwordVocab::kUnk), 0) << text;
    EXPECT_EQ(v.decode(ids), text);
  }
  // The same texts and options give the same model, byte for byte.
  SubwordOptions o;
  o.size = 1000;
  o.threads = 1;
  EXPECT_EQ(SubwordVocab::train(normalized_texts(corpus("train.tsv")), o).bytes(), v.bytes());
}

TEST(Subword, RefusesBytesThatAreNotAVocabulary) {
  EXPECT_THROW(
      {
        try {
          SubwordVocab::from_bytes("not a protobuf at all", "x.safetensors");
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("x.safetensors: not a SentencePiece model"), std::string::npos) << e.what();
          throw;
        }
      },
      std::runtime_error);
  SubwordOptions o;
  o.size = 3;
  EXPECT_THROW(SubwordVocab::train({"a b"}, o), std::runtime_error);
  o = {};
  o.type = "words";
  EXPECT_THROW(SubwordVocab::train({"a b"}, o), std::runtime_error);
}

TEST(Mlm, PackingJoinsTextsWithSepAndLeadsWithCls) {
  const SubwordVocab& v = builtin_vocab();
  PackedCorpus c = pack_corpus({"好", "", "很好"}, v, 3);
  // Ids: 好 [SEP] 很好… [SEP]; the empty text adds nothing; each sequence is [CLS] + 2 ids.
  const auto a = v.encode("好"), b = v.encode("很好");
  std::vector<std::int32_t> want(a.begin(), a.end());
  want.push_back(SubwordVocab::kSep);
  want.insert(want.end(), b.begin(), b.end());
  want.push_back(SubwordVocab::kSep);
  EXPECT_EQ(c.stream, want);
  EXPECT_EQ(c.sequences(), static_cast<std::int64_t>((want.size() + 1) / 2));
  const auto s0 = c.sequence(0);
  ASSERT_EQ(s0.size(), 3u);
  EXPECT_EQ(s0[0], SubwordVocab::kCls);
  EXPECT_EQ(s0[1], want[0]);
  EXPECT_EQ(c.sequence(c.sequences() - 1).back(), SubwordVocab::kSep);
}

TEST(Transformer, TinyModelOverfitsTheBuiltInCorpus) {
  auto train = corpus("train.tsv");
  const SubwordVocab& v = builtin_vocab();
  ModelConfig cfg = tiny_transformer();
  Vocab vocab = vocab_of(v);
  Featurizer f(cfg, vocab, nullptr, &v);
  Encoded enc = encode(train, f);
  for (const auto& ids : enc.ids) {
    ASSERT_EQ(ids.front(), SubwordVocab::kCls);
    ASSERT_LE(static_cast<std::int64_t>(ids.size()), cfg.max_len);
  }
  ember::Generator g(1);
  auto model = make_model(cfg, vocab.size(), g);
  TrainOptions o{.epochs = 25, .batch = 16, .lr = 3e-3, .warmup = 0.1, .clip = 1.0, .patience = 25, .keep_best = false, .seed = 1};
  TrainResult r = train_model(*model, enc, enc, 2, o);
  EXPECT_LT(r.history.back().train_loss, 0.1);
  EXPECT_GE(evaluate(*model, enc, 2).accuracy, 0.97);
}

TEST(Transformer, FileRoundTripKeepsTheVocabularyAndPredictions) {
  auto train = corpus("train.tsv");
  train.resize(64);
  const SubwordVocab& v = builtin_vocab();
  for (const std::string pooling : {"cls", "mean"}) {
    ModelConfig cfg = tiny_transformer();
    cfg.pooling = pooling;
    Vocab vocab = vocab_of(v);
    ember::Generator g(2);
    auto model = make_model(cfg, vocab.size(), g);
    Encoded enc = encode(train, Featurizer(cfg, vocab, nullptr, &v));
    train_model(*model, enc, enc, 2, {.epochs = 1, .batch = 16, .lr = 1e-3});
    const std::string path = temp_path("rt_transformer_" + pooling + ".safetensors");
    save_model(path, cfg, vocab, {"negative", "positive"}, *model, {}, {}, &v);
    SavedModel back = load_model(path);
    EXPECT_EQ(back.config.kind, "transformer");
    EXPECT_EQ(back.config.pooling, pooling);
    EXPECT_EQ(back.subword.bytes(), v.bytes());
    EXPECT_TRUE(ember::equal(predict_proba(*model, enc), predict_proba(*back.model, encode(train, back.featurizer()))));
    // Weight matrices stored as bf16: a smaller file that loads to the rounded weights.
    const std::string half = temp_path("rt_transformer_bf16_" + pooling + ".safetensors");
    save_model(half, cfg, vocab, {"negative", "positive"}, *model, {}, {}, &v, /*bf16_weights=*/true);
    EXPECT_LT(std::filesystem::file_size(half), std::filesystem::file_size(path) * 6 / 10);
    SavedModel rounded = load_model(half);
    const auto w = model->state_dict(), r = rounded.model->state_dict();
    for (std::size_t i = 0; i < w.size(); ++i) {
      const Tensor<float> want = w[i].second.dim() >= 2 ? w[i].second.to<ember::bfloat16>().to<float>() : w[i].second;
      EXPECT_TRUE(ember::equal(r[i].second, want)) << w[i].first;
    }
    EXPECT_TRUE(ember::allclose(predict_proba(*rounded.model, enc), predict_proba(*model, enc), 0, 0.02));
    std::filesystem::remove(path);
    std::filesystem::remove(half);
  }
}

TEST(Transformer, LongTextsAreReadAsWindowsWhoseProbabilitiesAreAveraged) {
  const SubwordVocab& v = builtin_vocab();
  ModelConfig cfg = tiny_transformer();
  cfg.max_len = 8;  // windows of 7 pieces after [CLS]
  cfg.long_text = "windows";
  const Vocab vocab = vocab_of(v);
  const Featurizer f(cfg, vocab, nullptr, &v);
  const std::string long_text = "这家酒店的服务很好,房间也很干净。前台态度很差,再也不会来了。the staff were friendly.";
  const std::string short_text = "很好";
  const auto pieces = [&](const std::string& t) { return v.encode(*normalize(t)); };
  const std::vector<std::int64_t> all = pieces(long_text);
  ASSERT_GT(all.size(), 14u);     // three windows or more
  ASSERT_NE(all.size() % 7, 0u);  // the last window overlaps the one before it
  // Hand-worked: windows at 0, 7, 14, … and the last one ending at the text's end.
  std::vector<std::vector<std::int64_t>> want;
  const std::size_t count = (all.size() + 6) / 7;
  for (std::size_t w = 0; w < count; ++w) {
    const std::size_t b = w + 1 == count ? all.size() - 7 : 7 * w;
    std::vector<std::int64_t> seq = {SubwordVocab::kCls};
    seq.insert(seq.end(), all.begin() + static_cast<std::ptrdiff_t>(b), all.begin() + static_cast<std::ptrdiff_t>(b + 7));
    want.push_back(seq);
  }
  EXPECT_EQ(f.sequences(long_text), want);
  EXPECT_EQ(f.ids(long_text), want.front());  // ids(): the head, as "head" reads it
  ASSERT_LE(pieces(short_text).size(), 7u);
  EXPECT_EQ(f.sequences(short_text), std::vector<std::vector<std::int64_t>>{f.ids(short_text)});
  ModelConfig head_cfg = cfg;
  head_cfg.long_text = "head";
  EXPECT_EQ(Featurizer(head_cfg, vocab, nullptr, &v).sequences(long_text), std::vector<std::vector<std::int64_t>>{want.front()});
  ModelConfig one = cfg;
  one.max_len = 1;  // no room for a piece: [CLS] alone, one window
  EXPECT_EQ(Featurizer(one, vocab, nullptr, &v).sequences(long_text), std::vector<std::vector<std::int64_t>>{{SubwordVocab::kCls}});

  // Encoded: every window a sequence with its text's label; predict_proba gives one row per
  // text, the mean of its windows' rows.
  const Encoded enc = encode({{1, long_text}, {0, short_text}, {0, long_text + long_text}}, f);
  ASSERT_EQ(enc.first.size(), 4u);
  EXPECT_EQ(enc.first[1], count);
  EXPECT_EQ(enc.first[2], count + 1);
  EXPECT_EQ(enc.texts(), 3u);
  EXPECT_EQ(enc.size(), enc.first[3]);
  EXPECT_EQ(enc.text_labels(), (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(std::count(enc.labels.begin(), enc.labels.end(), 1), static_cast<std::ptrdiff_t>(count));
  ember::Generator g(5);
  auto model = make_model(cfg, vocab.size(), g);
  const Tensor<float> p = predict_proba(*model, enc);
  Encoded windows = enc;
  windows.first.clear();  // the same sequences, each on its own
  const Tensor<float> q = predict_proba(*model, windows);
  ASSERT_EQ(p.shape(), ember::Shape({3, 2}));
  ASSERT_EQ(q.size(0), static_cast<std::int64_t>(enc.size()));
  for (std::size_t t = 0; t < 3; ++t) {
    for (std::int64_t c = 0; c < 2; ++c) {
      double mean = 0;
      for (std::size_t w = enc.first[t]; w < enc.first[t + 1]; ++w) mean += q.data()[static_cast<std::int64_t>(w) * 2 + c];
      mean /= static_cast<double>(enc.first[t + 1] - enc.first[t]);
      EXPECT_NEAR(p.data()[static_cast<std::int64_t>(t) * 2 + c], mean, 1e-6) << t << " " << c;
    }
  }
  EXPECT_NE(p.data()[0], q.data()[0]) << "the windows should disagree, or the mean shows nothing";
  EXPECT_NEAR(evaluate(*model, enc, 2).accuracy * 3, static_cast<double>((p.data()[1] > p.data()[0]) + (p.data()[2] > p.data()[3]) +
                                                                          (p.data()[4] > p.data()[5])),
              1e-9);

  // The setting travels in the file; a file without it reads heads; bad values are refused.
  const std::string path = temp_path("windows_transformer.safetensors");
  save_model(path, cfg, vocab, {"negative", "positive"}, *model, {}, {}, &v);
  SavedModel back = load_model(path);
  EXPECT_EQ(back.config.long_text, "windows");
  EXPECT_TRUE(ember::equal(predict_proba(*back.model, encode({{1, long_text}}, back.featurizer())), p.narrow(0, 0, 1)));
  EXPECT_EQ(cmd::load_model_as_asked(path, "head").config.long_text, "head");
  std::filesystem::remove(path);
  nlohmann::json j = cfg.to_json();
  j.erase("long_text");
  EXPECT_EQ(ModelConfig::from_json(j).long_text, "head");
  j["long_text"] = "tail";
  try {
    ModelConfig::from_json(j);
    ADD_FAILURE() << "long_text 'tail' was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("long_text 'tail' (head or windows)"), std::string::npos) << e.what();
  }
  ModelConfig bag = default_config("bow");
  bag.long_text = "windows";
  try {
    bag.validate("x");
    ADD_FAILURE() << "a bag that reads windows was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("x: long_text 'windows' is for models of SentencePiece ids (the transformer), not bow"),
              std::string::npos)
        << e.what();
  }
}

TEST(Average, TheFileHoldsTheMeanOfItsModelsWeights) {
  // Two fine-tunes of one initialisation (seeds 1 and 2 shuffle differently), averaged by the
  // `average` command as a user runs it.
  auto train = corpus("train.tsv");
  train.resize(48);
  const SubwordVocab& v = builtin_vocab();
  const ModelConfig cfg = tiny_transformer();
  const Vocab vocab = vocab_of(v);
  const Encoded enc = encode(train, Featurizer(cfg, vocab, nullptr, &v));
  std::vector<std::string> paths;
  std::vector<std::unique_ptr<Classifier>> models;
  for (std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{2}}) {
    ember::Generator g(7);
    models.push_back(make_model(cfg, vocab.size(), g));
    train_model(*models.back(), enc, enc, 2, {.epochs = 1, .batch = 8, .lr = 1e-3, .seed = seed});
    paths.push_back(temp_path("avg_in_" + std::to_string(seed) + ".safetensors"));
    save_model(paths.back(), cfg, vocab, {"negative", "positive"}, *models.back(), {}, {}, &v);
  }
  const std::string out = temp_path("avg_out.safetensors");
  auto run = [](std::vector<std::string> args) {
    Cli cli("data");
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
    cli.app.parse(args);
    cli.check();
    return cmd::run_average(cli);
  };
  ASSERT_EQ(run({"average", "--model", paths[0], "--model", paths[1], "--out", out, "--quiet"}), 0);
  SavedModel soup = load_model(out);
  const auto a = models[0]->state_dict(), b = models[1]->state_dict(), s = soup.model->state_dict();
  ASSERT_EQ(s.size(), a.size());
  bool differ = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    ASSERT_EQ(s[i].first, a[i].first);
    for (std::int64_t e = 0; e < s[i].second.numel(); ++e) {
      const float x = a[i].second.data()[e], y = b[i].second.data()[e];
      differ = differ || x != y;
      ASSERT_EQ(s[i].second.data()[e], static_cast<float>((double{x} + double{y}) / 2)) << s[i].first << " " << e;
    }
  }
  EXPECT_TRUE(differ) << "the two fine-tunes should differ, or the test shows nothing";
  EXPECT_EQ(soup.subword.bytes(), v.bytes());
  // Stored as bf16 with --dev: the matrices are the mean rounded to bf16, and the recorded dev
  // accuracy is the file's own.
  const std::string dev = std::string(SENTIMENT_DATA_DIR) + "/test.tsv";
  const std::string half = temp_path("avg_out_bf16.safetensors");
  ASSERT_EQ(run({"average", "--model", paths[0], "--model", paths[1], "--dev", dev, "--save-dtype", "bf16", "--out", half,
                 "--quiet"}),
            0);
  SavedModel rounded = load_model(half);
  const auto r = rounded.model->state_dict();
  for (std::size_t i = 0; i < r.size(); ++i) {
    const Tensor<float> want = s[i].second.dim() >= 2 ? s[i].second.to<ember::bfloat16>().to<float>() : s[i].second;
    EXPECT_TRUE(ember::equal(r[i].second, want)) << r[i].first;
  }
  const auto meta = ember::io::parse_safetensors(ember::io::read_file(half, kMaxModelFileBytes, "test"), half).metadata;
  ReadReport rep;
  const double acc = evaluate(*rounded.model, encode(read_dataset(dev, {.strict = true}, rep), rounded.featurizer()), 2).accuracy;
  EXPECT_EQ(meta.at("dev_accuracy"), fmt("%.6f", acc));
  EXPECT_EQ(meta.at("averaged_from"), "avg_in_1.safetensors, avg_in_2.safetensors");
  // --long-text changes how the soup reads long texts, not its weights.
  ASSERT_EQ(run({"average", "--model", paths[0], "--model", paths[1], "--long-text", "windows", "--out", out, "--quiet"}), 0);
  SavedModel windowed = load_model(out);
  EXPECT_EQ(windowed.config.long_text, "windows");
  EXPECT_EQ(soup.config.long_text, "head");
  const auto ws = windowed.model->state_dict();
  for (std::size_t i = 0; i < ws.size(); ++i) EXPECT_TRUE(ember::equal(ws[i].second, s[i].second)) << ws[i].first;
  // Refusals: another pooling (another model), the output onto an input.
  ModelConfig mean_cfg = cfg;
  mean_cfg.pooling = "mean";
  const std::string other = temp_path("avg_in_mean.safetensors");
  save_model(other, mean_cfg, vocab, {"negative", "positive"}, *models[0], {}, {}, &v);
  try {
    run({"average", "--model", paths[0], "--model", other, "--out", out});
    ADD_FAILURE() << "models of two poolings were averaged";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("differ in 'pooling' (\"cls\" and \"mean\")"), std::string::npos) << e.what();
  }
  try {
    run({"average", "--model", paths[0], "--model", paths[1], "--out", paths[1]});
    ADD_FAILURE() << "the output replaced an input";
  } catch (const ember::Error& e) {
    EXPECT_NE(std::string(e.what()).find("would overwrite the input --model"), std::string::npos) << e.what();
  }
  for (const auto& p : {paths[0], paths[1], out, half, other}) std::filesystem::remove(p);
}

TEST(Transformer, LayerDecayScalesEachDepthAndSparesBiasesAndNorms) {
  ember::Generator g(3);
  TransformerModel m(tiny_transformer(), 100, g);  // 2 layers
  const auto scales = m.param_scales(0.5);
  const auto named = m.named_parameters();
  ASSERT_EQ(scales.size(), named.size());
  std::map<std::string, ember::optim::ParamScale> by_name;
  for (std::size_t i = 0; i < named.size(); ++i) by_name[named[i].first] = scales[i];
  EXPECT_DOUBLE_EQ(by_name.at("embedding.weight").lr, 0.125);  // 0.5^(2 + 1)
  EXPECT_DOUBLE_EQ(by_name.at("position.weight").lr, 0.125);
  EXPECT_DOUBLE_EQ(by_name.at("encoder.layers.0.attn.wq.weight").lr, 0.25);
  EXPECT_DOUBLE_EQ(by_name.at("encoder.layers.1.linear2.weight").lr, 0.5);
  EXPECT_DOUBLE_EQ(by_name.at("encoder.norm.weight").lr, 1.0);
  EXPECT_DOUBLE_EQ(by_name.at("fc.weight").lr, 1.0);
  EXPECT_DOUBLE_EQ(by_name.at("fc.weight").weight_decay, 1.0);
  EXPECT_DOUBLE_EQ(by_name.at("encoder.layers.1.linear2.weight").weight_decay, 1.0);
  EXPECT_DOUBLE_EQ(by_name.at("fc.bias").weight_decay, 0.0);
  EXPECT_DOUBLE_EQ(by_name.at("encoder.layers.0.norm1.weight").weight_decay, 0.0);
  EXPECT_DOUBLE_EQ(by_name.at("encoder.layers.0.norm1.weight").lr, 0.25);
  // 1: every rate at 1.
  for (const auto& s : m.param_scales(1.0)) EXPECT_EQ(s.lr, 1.0);
}

TEST(Mlm, RunSettingsRoundTripAndRejectBadRecords) {
  MlmOptions o;
  o.batch = 12;
  o.held_back = 7;
  o.lr = 1.0 / 3.0;
  o.weight_decay = 0.02;
  o.warmup = 0.25;
  o.clip = 0.5;
  o.seed = 18446744073709551615ull;
  const MlmRunSettings r = MlmRunSettings::of(o);
  const MlmRunSettings back = MlmRunSettings::from_json(nlohmann::json::parse(r.to_json().dump()));
  EXPECT_EQ(back.batch, 12);
  EXPECT_EQ(back.held_back, 7);
  EXPECT_EQ(back.lr, 1.0 / 3.0);  // exactly: JSON keeps every bit of the double
  EXPECT_EQ(back.weight_decay, 0.02);
  EXPECT_EQ(back.warmup, 0.25);
  EXPECT_EQ(back.clip, 0.5);
  EXPECT_EQ(back.seed, 18446744073709551615ull);
  EXPECT_NO_THROW(back.check_resumed_by(r));
  EXPECT_EQ(r.to_json().size(), 7u);
  EXPECT_EQ(MlmRunSettings::options(), "--batch, --held-back, --seed, --lr, --weight-decay, --warmup and --clip");
  // A resume that differs in one setting is refused, naming the option and both values.
  auto resumed_by = [&](auto member, auto value) -> std::string {
    MlmRunSettings now = r;
    now.*member = value;
    try {
      r.check_resumed_by(now);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(resumed_by(&MlmRunSettings::batch, 13).find("the checkpoint's run has --batch 12, this one 13"), std::string::npos);
  EXPECT_NE(resumed_by(&MlmRunSettings::held_back, 0).find("--held-back 7, this one 0"), std::string::npos);
  EXPECT_NE(resumed_by(&MlmRunSettings::seed, 1ull).find("--seed 18446744073709551615, this one 1"), std::string::npos);
  EXPECT_NE(resumed_by(&MlmRunSettings::lr, 0.1 + 0.2).find("--lr 0.33333333333333331, this one 0.30000000000000004"),
            std::string::npos);
  EXPECT_NE(resumed_by(&MlmRunSettings::weight_decay, 0.0).find("--weight-decay 0.02, this one 0"), std::string::npos);
  EXPECT_NE(resumed_by(&MlmRunSettings::warmup, 0.5).find("--warmup 0.25, this one 0.5"), std::string::npos);
  EXPECT_NE(resumed_by(&MlmRunSettings::clip, 2.0).find("--clip 0.5, this one 2"), std::string::npos);
  // A resume takes the options it was not given from the record.
  MlmOptions resumed;
  resumed.lr = 0.125;
  r.fill_options_not_given(resumed, [](const char* option) { return std::string(option) == "--lr"; });
  EXPECT_EQ(resumed.batch, 12);
  EXPECT_EQ(resumed.held_back, 7);
  EXPECT_EQ(resumed.seed, 18446744073709551615ull);
  EXPECT_EQ(resumed.lr, 0.125);
  EXPECT_EQ(resumed.weight_decay, 0.02);
  EXPECT_EQ(resumed.warmup, 0.25);
  EXPECT_EQ(resumed.clip, 0.5);
  auto refused = [&](const char* key, const nlohmann::json& value, const char* message) {
    nlohmann::json j = r.to_json();
    if (value.is_discarded()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
    try {
      MlmRunSettings::from_json(j);
      ADD_FAILURE() << key << " = " << value.dump() << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  refused("batch", nlohmann::json::value_t::discarded, "run settings lack 'batch'");
  refused("batch", 0, "run setting 'batch' is 0");
  refused("batch", "16", "run setting 'batch' is \"16\"");
  refused("held_back", -1, "run setting 'held_back' is -1");
  refused("lr", -0.1, "run setting 'lr' is -0.1");
  refused("warmup", 1.5, "run setting 'warmup' is 1.5");
  refused("seed", -3, "run setting 'seed' is -3");
  refused("clip", nullptr, "run setting 'clip' is null");
  EXPECT_THROW(MlmRunSettings::from_json(nlohmann::json::array()), std::runtime_error);
}

namespace {
// A short fp32 run's options for the tiny transformer: no checkpoints by time, no output.
MlmOptions small_run(std::int64_t steps, std::int64_t held_back, std::int64_t eval_every) {
  MlmOptions o;
  o.batch = 16;
  o.lr = 3e-3;
  o.steps = steps;
  o.warmup = 0.1;
  o.held_back = held_back;
  o.eval_every = eval_every;
  o.log_every = 1000;
  o.checkpoint_minutes = 0;
  o.bf16 = false;
  o.quiet = true;
  o.seed = 4;
  return o;
}
}  // namespace

TEST(Mlm, LossFallsAndAResumedRunEqualsAnUnbrokenOne) {
  const SubwordVocab& v = builtin_vocab();
  PackedCorpus c = pack_corpus(normalized_texts(corpus("train.tsv")), v, 32);
  MlmOptions o = small_run(60, 32, 30);
  ModelConfig cfg = tiny_transformer();
  cfg.max_len = 32;
  auto fresh = [&](EncoderCheckpoint& ck) {
    ck.config = cfg;
    ck.subword = v;
    ember::Generator g(7);
    return TransformerModel(cfg, v.size(), g);
  };
  // One run of 60 steps.
  EncoderCheckpoint whole;
  TransformerModel m1 = fresh(whole);
  const std::string p1 = temp_path("mlm_whole.safetensors"), p2 = temp_path("mlm_resumed.safetensors");
  MlmRun r1 = pretrain_mlm(m1, whole, c, o, p1);
  EXPECT_TRUE(r1.finished);
  ASSERT_EQ(whole.history.size(), 2u);
  // The held-back loss falls from chance (ln 1000 = 6.9) by far in 60 steps.
  const double first = whole.history[0]["loss"].get<double>(), last = whole.history[1]["loss"].get<double>();
  EXPECT_LT(last, first);
  EXPECT_LT(last, 5.5);
  // 25 steps, a checkpoint, then a model built with other initial weights that loads it and
  // runs the remaining 35: the same weights as the unbroken run, bit for bit (no dropout here;
  // each step's batch and mask depend only on the seed and the step).
  EncoderCheckpoint part;
  TransformerModel m2 = fresh(part);
  MlmOptions a = o;
  a.stop_after = 25;
  MlmRun r2 = pretrain_mlm(m2, part, c, a, p2);
  EXPECT_FALSE(r2.finished);
  EXPECT_EQ(r2.step, 25);
  std::int64_t opt_steps = -1;
  EncoderCheckpoint ck = load_encoder(p2, &opt_steps);
  EXPECT_EQ(ck.step, 25);
  EXPECT_EQ(opt_steps, 25);
  EXPECT_EQ(ck.total_steps, 60);
  // The checkpoint records the run's settings; a resume with another seed (another batch
  // order) or learning rate is refused, naming the option, before any step.
  ASSERT_TRUE(ck.run.has_value());
  EXPECT_EQ(ck.run->batch, 16);
  EXPECT_EQ(ck.run->held_back, 32);
  EXPECT_EQ(ck.run->seed, 4u);
  EXPECT_EQ(ck.run->lr, 3e-3);
  EXPECT_EQ(ck.run->warmup, 0.1);
  for (auto [change, message] : {std::pair<std::function<void(MlmOptions&)>, const char*>{[](MlmOptions& x) { x.seed = 5; }, "--seed 4, this one 5"},
                                 {[](MlmOptions& x) { x.lr = 1e-3; }, "--lr 0.003, this one 0.001"},
                                 {[](MlmOptions& x) { x.batch = 8; }, "--batch 16, this one 8"}}) {
    EncoderCheckpoint again = load_encoder(p2);
    ember::Generator gx(5);
    TransformerModel mx(cfg, v.size(), gx);
    MlmOptions changed = o;
    change(changed);
    try {
      pretrain_mlm(mx, again, c, changed, p2, opt_steps);
      ADD_FAILURE() << "resumed with " << message;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
    EXPECT_EQ(load_encoder(p2).step, 25);  // the checkpoint is untouched
  }
  ember::Generator g(99);
  TransformerModel m3(cfg, v.size(), g);
  m3.load_state_dict(ck.weights);
  MlmRun r3 = pretrain_mlm(m3, ck, c, o, p2, opt_steps);
  EXPECT_TRUE(r3.finished);
  const auto w1 = m1.state_dict(), w3 = m3.state_dict();
  ASSERT_EQ(w1.size(), w3.size());
  for (std::size_t i = 0; i < w1.size(); ++i) EXPECT_TRUE(ember::equal(w1[i].second, w3[i].second)) << w1[i].first;
  // A time budget already spent ends the run before its first step, with a checkpoint.
  EncoderCheckpoint none;
  TransformerModel m4 = fresh(none);
  MlmOptions spent = o;
  spent.max_minutes = 1e-12;
  EXPECT_EQ(pretrain_mlm(m4, none, c, spent, p1).step, 0);
  EXPECT_EQ(load_encoder(p1).step, 0);
  // A resume against another corpus or schedule is refused.
  EncoderCheckpoint ck3 = load_encoder(p2, &opt_steps);
  MlmOptions other = o;
  other.steps = 70;
  EXPECT_THROW(pretrain_mlm(m3, ck3, c, other, p2, opt_steps), std::runtime_error);
  EncoderCheckpoint ck4 = load_encoder(p2, &opt_steps);
  EXPECT_THROW(pretrain_mlm(m3, ck4, pack_corpus({"很好"}, v, 32), o, p2, opt_steps), std::runtime_error);
  // --reschedule takes the new length: 10 more steps after the finished 60, and the held-back
  // evaluation at the new end; a length the checkpoint has already passed is refused.
  other.reschedule = true;
  EncoderCheckpoint ck5 = load_encoder(p2, &opt_steps);
  MlmRun r5 = pretrain_mlm(m3, ck5, c, other, p2, opt_steps);
  EXPECT_TRUE(r5.finished);
  EXPECT_EQ(r5.step, 70);
  EXPECT_EQ(load_encoder(p2).total_steps, 70);
  EXPECT_EQ(load_encoder(p2).step, 70);
  EncoderCheckpoint ck6 = load_encoder(p2, &opt_steps);
  MlmOptions shorter = other;
  shorter.steps = 50;
  EXPECT_THROW(pretrain_mlm(m3, ck6, c, shorter, p2, opt_steps), std::runtime_error);
  std::filesystem::remove(p1);
  std::filesystem::remove(p2);
}

// `pretrain --init`: a new run from an encoder's weights and vocabulary on another text (which a
// --resume refuses), with its own schedule and a fresh optimiser from step 0.
TEST(Mlm, ANewRunFromAnEncoderTakesAnotherTextAndItsOwnSchedule) {
  const SubwordVocab& v = builtin_vocab();
  PackedCorpus general = pack_corpus(normalized_texts(corpus("train.tsv")), v, 32);
  PackedCorpus task = pack_corpus(normalized_texts(corpus("test.tsv")), v, 32);
  ASSERT_NE(general.sequences(), task.sequences());
  MlmOptions o = small_run(40, 16, 1000);
  ModelConfig cfg = tiny_transformer();
  cfg.max_len = 32;
  const std::string p1 = temp_path("mlm_general.safetensors"), p2 = temp_path("mlm_task.safetensors");
  EncoderCheckpoint ck;
  ck.config = cfg;
  ck.subword = v;
  ember::Generator g(7);
  TransformerModel m(cfg, v.size(), g);
  ASSERT_TRUE(pretrain_mlm(m, ck, general, o, p1).finished);

  std::int64_t opt_steps = -1;
  EncoderCheckpoint from = load_encoder(p1, &opt_steps);
  EXPECT_EQ(opt_steps, 40);
  const std::int64_t tokens = from.tokens;
  EXPECT_EQ(tokens, 40 * 16 * 32);
  const std::size_t history = from.history.size();
  begin_run_from(from, p1);
  EXPECT_EQ(from.step, 0);
  EXPECT_EQ(from.total_steps, 0);
  EXPECT_EQ(from.sequences, 0);
  EXPECT_TRUE(from.moments.empty());
  EXPECT_FALSE(from.run.has_value());
  EXPECT_EQ(from.tokens, tokens);  // the encoder's pretraining stays counted
  ASSERT_EQ(from.history.size(), history + 1);
  EXPECT_EQ(from.history.back()["init"].get<std::string>(), p1);

  // The new model starts from the encoder's weights exactly.
  ember::Generator g2(99);
  TransformerModel m2(cfg, v.size(), g2);
  m2.load_state_dict(from.weights);
  const auto w = m.state_dict(), w2 = m2.state_dict();
  ASSERT_EQ(w.size(), w2.size());
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_TRUE(ember::equal(w[i].second, w2[i].second)) << w[i].first;
  // On the task's text, with its own length and rate: the masked-token loss there falls.
  const std::int64_t held = 16;
  const std::int64_t n_train = task.sequences() - held;
  const double before = evaluate_mlm(m2, task, n_train, held, v.size(), 4, 16).loss;
  MlmOptions t = o;
  t.steps = 30;
  t.lr = 1e-3;
  t.seed = 5;
  const MlmRun r = pretrain_mlm(m2, from, task, t, p2);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.step, 30);
  const double after = evaluate_mlm(m2, task, n_train, held, v.size(), 4, 16).loss;
  EXPECT_LT(after, before);
  EncoderCheckpoint out = load_encoder(p2, &opt_steps);
  EXPECT_EQ(out.step, 30);
  EXPECT_EQ(out.total_steps, 30);
  EXPECT_EQ(opt_steps, 30);  // a fresh optimiser: its step count restarted
  EXPECT_EQ(out.sequences, task.sequences());
  EXPECT_EQ(out.tokens, tokens + 30 * 16 * 32);
  ASSERT_TRUE(out.run.has_value());
  EXPECT_EQ(out.run->lr, 1e-3);
  EXPECT_EQ(out.run->seed, 5u);
  // The encoder it began from is untouched.
  EXPECT_EQ(load_encoder(p1).step, 40);
  std::filesystem::remove(p1);
  std::filesystem::remove(p2);
}

// ---------------------------------------------------------------------------------------------
// The shipped models (examples/sentiment/models/{zh,en}.safetensors): `predict` without --model
// sends each text to its script's model, and each shipped model classifies the README's example
// sentences correctly. A model that does not ship (yet) skips its test. (In this file rather than
// its own: every test TU of the example costs about a minute in each of CI's four builds.)
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
                           {"菜太咸了,服务员也爱答不理。", "negative"},
                           {"书的内容很充实,印刷也不错,值得一读。", "positive"}});
}

TEST(Shipped, EnglishModelClassifiesTheReadmeSentences) {
  if (!ships("en")) GTEST_SKIP() << "no shipped en model";
  expect_classifies("en", {{"The staff were friendly and the breakfast was delicious.", "positive"},
                           {"A boring, predictable movie. I want my money back.", "negative"},
                           {"One of the most moving films I have seen in years.", "positive"},
                           {"The room was dirty.", "negative"}});
}

TEST(Shipped, EnglishModelReadsALongReviewToItsEnd) {
  // The en model reads texts longer than its 127 pieces as windows (README: long texts); the zh
  // model reads their heads. A review whose head is a plot summary and whose verdict comes after
  // it: negative read whole (0.67), positive from its head alone (0.65).
  if (!ships("en") || !ships("zh")) GTEST_SKIP() << "no shipped models";
  const std::string dir = EMBER_SENTIMENT_MODELS_DIR;
  const std::string review =
      "The film follows a young teacher who moves from the city to a small village in the mountains, where "
      "she takes over the only school and meets the families of her twenty pupils. Over one winter she "
      "learns the names of the farms, the songs of the harvest festival and the history of the old mill by "
      "the river. Her brother arrives in the spring with a plan to sell the mill to a company from the "
      "capital, and the village council meets three times to decide what to do with it. The mayor, the "
      "priest and the baker each tell their side of the story, and the children put on a play about the "
      "founding of the village. I was looking forward to it. Sadly, it is a boring, predictable movie. The "
      "acting is wooden, the script is dull and the jokes fall flat. The second half drags on for an hour "
      "with nothing happening, and the ending makes no sense at all. The music is loud and cheap, the "
      "camera work is lazy, and every scene goes on far too long. None of the characters is likeable or "
      "even believable, and the dialogue is painful to listen to. I kept checking my watch. It is one of "
      "the worst films I have seen this year. A complete waste of time. Avoid it. I want my money back.";
  const SavedModel en = load_model(dir + "/en.safetensors");
  EXPECT_EQ(en.config.long_text, "windows");
  EXPECT_EQ(load_model(dir + "/zh.safetensors").config.long_text, "head");
  ASSERT_GT(en.featurizer().sequences(review).size(), 1u);
  expect_classifies("en", {{review, "negative"}});
  std::vector<SavedModel> as_head;
  as_head.push_back(cmd::load_model_as_asked(dir + "/en.safetensors", "head"));
  EXPECT_EQ(cmd::predict(as_head, {review}).front().label, 1);  // positive: the verdict is past the head
}
