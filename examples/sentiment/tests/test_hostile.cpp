// Hostile and careless inputs to the sentiment pipeline: model files whose configuration is
// consistent but hostile, claims sizes its tensors do not have, comes from another vocabulary,
// or holds NaN; dataset files that are empty, of one class, binary, a directory, a gzip bomb, a
// truncated gzip, or one huge line; training that diverges. Each case asserts its message.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <atomic>
#include <fstream>
#include <thread>

#include "cli.hpp"
#include "pretrain.hpp"
#include "train.hpp"

using namespace sentiment;
namespace fs = std::filesystem;

namespace {

// Asserts that `stmt` throws an exception derived from std::exception whose message contains
// `fragment`.
#define EXPECT_ERROR_WITH(stmt, fragment)                                       \
  do {                                                                          \
    try {                                                                       \
      stmt;                                                                     \
      ADD_FAILURE() << "expected an error containing \"" << (fragment) << "\""; \
    } catch (const std::exception& e) {                                         \
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)        \
          << "message: " << e.what();                                           \
    }                                                                           \
  } while (0)

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ember_hostile_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string put(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  fs::path dir_;
};

std::string gzip(const std::string& text) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A small valid bow model's pieces.
struct Small {
  ModelConfig cfg;
  Vocab vocab;
  std::vector<float> table;
  std::unique_ptr<Classifier> model;
};
Small small_bow(std::int64_t buckets = 64) {
  Small s;
  s.cfg = default_config("bow");
  s.cfg.dim = 4;
  s.cfg.buckets = buckets;
  std::vector<Example> data = {{1, "good fine"}, {0, "bad awful"}};
  s.vocab = build_vocab(data, s.cfg, 1, 0);
  s.table = compute_feature_weights(data, s.cfg, s.vocab);
  ember::Generator g(1);
  s.model = make_model(s.cfg, s.vocab.size(), g);
  return s;
}

}  // namespace

TEST_F(Hostile, ParameterShapesMatchTheModelsBuilt) {
  for (const char* kind : {"bow", "cnn", "transformer"}) {
    ModelConfig c = default_config(kind);
    c.dim = 4;
    c.heads = 2;
    c.ffn = 6;
    c.layers = 2;
    c.max_len = 9;
    c.filters = 5;
    c.buckets = 7;
    c.widths = {1, 4};
    ember::Generator g(1);
    auto m = make_model(c, 11, g);
    auto want = parameter_shapes(c, 11);
    auto got = m->named_parameters();
    ASSERT_EQ(got.size(), want.size()) << kind;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].first, want[i].first);
      EXPECT_EQ(got[i].second.data().shape(), want[i].second) << got[i].first;
    }
  }
}

TEST_F(Hostile, ConfigurationsOutsideTheirRangesAreRefused) {
  const nlohmann::json good = default_config("bow").to_json();
  EXPECT_NO_THROW(ModelConfig::from_json(good));
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"buckets", -5, "buckets -5 is outside [0, 67108864]"},
      {"buckets", 9223372036854775807LL, "buckets 9223372036854775807 is outside"},
      {"num_classes", 1, "num_classes 1 is outside [2, 1000]"},
      {"dim", 0, "dim 0 is outside [1, 4096]"},
      {"dim", 1e300, "dim must be an integer, got 1e+300"},
      {"dim", 18446744073709551615ULL, "dim 18446744073709551615 is too large"},
      {"ngrams", 2147483648LL, "ngrams 2147483648 is outside [1, 8]"},
      {"widths", nlohmann::json::array(), "widths needs 1 to 8 filter widths, got 0"},
      {"widths", {3, 3}, "filter width 3 is listed twice"},
      {"widths", {-2}, "widths -2 is outside [1, 64]"},
      {"dropout", 1.0, "dropout 1.0 is outside [0.0, 0.99]"},
      {"max_len", 0, "max_len 0 is outside"},
      {"weighting", "idf", "unknown bag weighting 'idf'"},
      {"kind", "lstm", "unknown model kind 'lstm'"},
  };
  for (const Case& c : cases) {
    nlohmann::json j = good;
    j[c.key] = c.value;
    EXPECT_ERROR_WITH(ModelConfig::from_json(j), c.error);
  }
}

TEST_F(Hostile, ModelFileWithHostileButConsistentConfigIsRefused) {
  // A negative bucket count used to index the featurizer's table out of bounds.
  Small s = small_bow();
  s.cfg.buckets = -3;
  const std::string p = path("neg.safetensors");
  EXPECT_ERROR_WITH(save_model(p, s.cfg, s.vocab, {"negative", "positive"}, *s.model, s.table),
                    "buckets -3");
  // Write the hostile config by hand, around valid tensors.
  Small ok = small_bow();
  std::map<std::string, std::string> meta = {{"format", "ember-sentiment/1"},
                                             {"vocab", ok.vocab.serialize()},
                                             {"labels", R"(["negative","positive"])"}};
  nlohmann::json cfg = ok.cfg.to_json();
  cfg["buckets"] = -3;
  meta["config"] = cfg.dump();
  std::vector<std::pair<std::string, ember::io::AnyTensor>> tensors;
  for (auto& [name, t] : ok.model->state_dict()) tensors.emplace_back(name, t);
  tensors.emplace_back("featurizer.weights", ember::from_vector(ok.table));
  ember::io::save_safetensors(p, tensors, meta);
  EXPECT_ERROR_WITH(load_model(p), "neg.safetensors: model configuration: buckets -3 is outside");
}

TEST_F(Hostile, TinyFileClaimingHugeSizesAllocatesNothing) {
  Small ok = small_bow();
  nlohmann::json cfg = ok.cfg.to_json();
  cfg["dim"] = 4096;
  cfg["buckets"] = 1 << 26;  // 2^26 · 4096 floats = 1 TiB if allocated before the check
  std::map<std::string, std::string> meta = {{"format", "ember-sentiment/1"},
                                             {"vocab", ok.vocab.serialize()},
                                             {"labels", R"(["negative","positive"])"},
                                             {"config", cfg.dump()}};
  std::vector<std::pair<std::string, ember::io::AnyTensor>> tensors;
  for (auto& [name, t] : ok.model->state_dict()) tensors.emplace_back(name, t);
  const std::string p = path("huge.safetensors");
  ember::io::save_safetensors(p, tensors, meta);
  EXPECT_ERROR_WITH(load_model(p),
                    "tensor 'embedding.weight' has shape [70,4] but the configuration (bow, "
                    "vocabulary 6, dim 4096, buckets 67108864) needs [67108870,4096]");
}

TEST_F(Hostile, ModelFromAnotherVocabularyOrConfigurationSaysWhatDiffers) {
  Small s = small_bow();
  const std::string p = path("m.safetensors");
  save_model(p, s.cfg, s.vocab, {"negative", "positive"}, *s.model, s.table);
  EXPECT_NO_THROW(load_model(p));
  // The same weights under a vocabulary with one more token.
  Vocab bigger = build_vocab({{1, "good fine extra"}, {0, "bad awful"}}, s.cfg, 1, 0);
  const std::string q = path("other_vocab.safetensors");
  save_model(q, s.cfg, bigger, {"negative", "positive"}, *s.model, s.table);
  EXPECT_ERROR_WITH(
      load_model(q),
      "has shape [70,4] but the configuration (bow, vocabulary 7, dim 4, buckets 64) needs [71,4]");
  // A cnn's configuration over a bag's weights.
  ModelConfig cnn = default_config("cnn");
  cnn.dim = 4;
  const std::string r = path("other_kind.safetensors");
  save_model(r, cnn, s.vocab, {"negative", "positive"}, *s.model, {});
  EXPECT_ERROR_WITH(load_model(r),
                    "tensor 'embedding.weight' has shape [70,4] but the configuration (cnn, "
                    "vocabulary 6, dim 4) needs [6,4]");
  // Three label names for two classes.
  const std::string t = path("labels.safetensors");
  save_model(t, s.cfg, s.vocab, {"a", "b", "c"}, *s.model, s.table);
  EXPECT_ERROR_WITH(load_model(t), "3 label names for 2 classes");
  save_model(t, s.cfg, s.vocab, {"a", "a"}, *s.model, s.table);
  EXPECT_ERROR_WITH(load_model(t), "label names must be distinct");
}

TEST_F(Hostile, NonFiniteWeightsAreRefusedAtLoad) {
  Small s = small_bow();
  for (auto& [name, p] : s.model->named_parameters()) {
    if (name == "fc.bias") p.data().data()[1] = std::nanf("");
  }
  const std::string p = path("nan.safetensors");
  save_model(p, s.cfg, s.vocab, {"negative", "positive"}, *s.model, s.table);
  EXPECT_ERROR_WITH(load_model(p), "tensor 'fc.bias' holds a non-finite weight (element 1 is NaN)");
}

TEST_F(Hostile, LoadRefusesDirectoriesDevicesAndJunk) {
  EXPECT_ERROR_WITH(load_model(dir_.string()), "is a directory, not a file");
  EXPECT_ERROR_WITH(load_model("/dev/zero"), "/dev/zero: is not a regular file");
  EXPECT_ERROR_WITH(load_model(put("junk.safetensors", "not a model at all")), "header length");
}

TEST_F(Hostile, MetricsRefuseLabelsOutsideTheModelsClasses) {
  // A single-class view of two-class probabilities used to read past the row.
  Tensor<float> p = ember::full<float>({2, 1}, 1.0f);
  EXPECT_ERROR_WITH(metrics_of(p, {0, 1}, 1),
                    "label 1 of example 1 is outside the model's 1 classes");
  Tensor<float> q = ember::full<float>({2, 2}, 0.5f);
  EXPECT_ERROR_WITH(metrics_of(q, {0, 1, 1}, 2), "probabilities of shape [2,2] for 3 labels");
}

TEST_F(Hostile, DatasetEdgeCases) {
  ReadReport rep;
  EXPECT_ERROR_WITH(read_dataset(put("empty.tsv", ""), {}, rep), "empty.tsv: no examples");
  EXPECT_ERROR_WITH(read_dataset(put("header.tsv", "label\ttext\n"), {}, rep), "no examples");
  EXPECT_ERROR_WITH(read_dataset(dir_.string(), {}, rep), "is a directory, not a file");
  EXPECT_ERROR_WITH(read_dataset("/dev/zero", {}, rep), "is not a regular file");
  EXPECT_ERROR_WITH(
      read_dataset(put("bin.tsv", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)), {}, rep),
      "bin.tsv: not a text file (a NUL byte at offset 8)");
  // Labels other than 0/1: reported with file and line, counted, and the error under --strict.
  auto data =
      read_dataset(put("labels.tsv", "label\ttext\n1\tgood\n2\tmeh\n3\twhat\n0\tbad\n"), {}, rep);
  EXPECT_EQ(data.size(), 2u);
  EXPECT_EQ(rep.skipped, 2);
  ASSERT_EQ(rep.problems.size(), 2u);
  EXPECT_NE(rep.problems[0].find("labels.tsv:3: unknown label '2'"), std::string::npos)
      << rep.problems[0];
  // All rows bad: the error quotes the first problem.
  EXPECT_ERROR_WITH(
      read_dataset(put("allbad.tsv", "label\ttext\n7\tx\n"), {}, rep),
      "no examples (format tsv); first problem: " + path("allbad.tsv") + ":2: unknown label '7'");
}

TEST_F(Hostile, OneMegabyteLineIsReadAndLongerIsReported) {
  ReadReport rep;
  std::string line;
  while (line.size() < 1'000'000) line += "good ";
  auto data = read_dataset(put("long.tsv", "label\ttext\n1\t" + line + "\n0\tbad\n"), {}, rep);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0].text.size(), line.size());
  // It also featurizes and predicts (a bag model builds no padded batch for it).
  Small s = small_bow();
  Featurizer f(s.cfg, s.vocab, &s.table);
  Tensor<float> p = predict_proba(*s.model, encode(data, f));
  EXPECT_EQ(p.shape(), (ember::Shape{2, 2}));
  const std::string longer(kMaxTextBytes + 1, 'a');
  auto kept = read_dataset(put("longer.tsv", "label\ttext\n1\t" + longer + "\n0\tbad\n"), {}, rep);
  EXPECT_EQ(kept.size(), 1u);
  ASSERT_EQ(rep.problems.size(), 1u);
  EXPECT_NE(rep.problems[0].find(
                "longer.tsv:2: text of 1048577 bytes is longer than the limit of 1048576"),
            std::string::npos)
      << rep.problems[0];
}

TEST_F(Hostile, GzipTruncatedCorruptAndBombs) {
  std::string text = "label\ttext\n";
  for (int i = 0; i < 2000; ++i)
    text += (i % 2 ? "1\tgood movie number " : "0\tbad movie number ") + std::to_string(i) + "\n";
  const std::string gz = gzip(text);
  ReadReport rep;
  EXPECT_EQ(read_dataset(put("ok.tsv.gz", gz), {}, rep).size(), 2000u);
  // Two concatenated members read as one file (as gzip -d does).
  EXPECT_EQ(read_dataset(put("two.gz", gz + gzip("1\tone more\n")), {}, rep).size(), 2001u);
  // Truncated: an error, never a shorter dataset.
  EXPECT_ERROR_WITH(read_dataset(put("cut.tsv.gz", gz.substr(0, gz.size() / 2)), {}, rep),
                    "cut.tsv.gz: truncated gzip file");
  EXPECT_ERROR_WITH(read_dataset(put("cut8.tsv.gz", gz.substr(0, gz.size() - 4)), {}, rep),
                    "truncated gzip file");
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x55);
  EXPECT_ERROR_WITH(read_dataset(put("bad.tsv.gz", corrupt), {}, rep),
                    "bad.tsv.gz: corrupt gzip data");
  // A bomb: 16 MiB of one line from about 16 KB; refused at the decompression limit given.
  const std::string bomb = gzip("1\t" + std::string(16 << 20, 'a') + "\n");
  EXPECT_LT(bomb.size(), 40'000u);
  EXPECT_ERROR_WITH(gunzip_if_compressed(bomb, "bomb.gz", 4 << 20),
                    "bomb.gz: decompresses to more than 4 MiB");
  // Within the limit, the single 16 MiB line is reported as too long, not allocated into tokens.
  auto data =
      parse_dataset(gunzip_if_compressed(bomb + gzip("0\tbad\n"), "bomb.gz"), "bomb.gz", {}, rep);
  EXPECT_EQ(data.size(), 1u);
  EXPECT_EQ(rep.skipped, 1);
}

TEST_F(Hostile, TrainingStopsOnDivergence) {
  Small s = small_bow();
  std::vector<Example> data = {
      {1, "good fine"}, {0, "bad awful"}, {1, "fine good"}, {0, "awful bad"}};
  Featurizer f(s.cfg, s.vocab, &s.table);
  Encoded e = encode(data, f);
  // An enormous learning rate drives the logits to infinity within a few steps.
  TrainOptions o{.epochs = 50, .batch = 2, .lr = 1e30, .warmup = 0, .clip = 0};
  int epochs_seen = 0;
  TrainCallbacks cb;
  cb.on_epoch = [&](const EpochRecord&, bool) { ++epochs_seen; };
  EXPECT_ERROR_WITH(train_model(*s.model, e, e, 2, o, cb), "training diverged");
  EXPECT_LT(epochs_seen, 50);
}

TEST_F(Hostile, CommandLineRejectsWhatCannotTrainOrLoadBack) {
  auto parse = [](std::vector<std::string> args) {
    Cli cli("data");
    std::vector<std::string> argv = {"ember-sentiment"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::reverse(argv.begin() + 1, argv.end());  // CLI11 takes the arguments reversed
    std::vector<std::string> rest(argv.begin() + 1, argv.end());
    cli.app.parse(rest);
    cli.check();
  };
  const std::string in = put("t.tsv", "label\ttext\n1\tgood\n0\tbad\n");
  EXPECT_NO_THROW(parse({"train", "--train", in, "--out", path("m.safetensors")}));
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--batch", "9223372036854775808"}),
                    "out of range");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--lr", "inf"}),
                    "--lr: must be a finite number, got inf");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--lr", "nan"}), "must be a finite number");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--dim", "1e3"}), "'1e3' is not an integer");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--buckets", "-1"}),
                    "must be between 0 and 67108864");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--seed", "-1"}), "not a non-negative integer");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--filters", "10"}),
                    "--filters applies to --model cnn only");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--model", "cnn", "--buckets", "10"}),
                    "--buckets applies to --model bow only");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--out", in}),
                    "--out " + in + " would overwrite the input --train");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--out", path("x.svg")}),
                    "the plot " + path("x.svg") + " is also the output --out");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--out", dir_.string()}), "is a directory");
  EXPECT_ERROR_WITH(parse({"train", "--train", in, "--out", path("nope/m.st")}), "does not exist");
  EXPECT_ERROR_WITH(parse({"pretrain", "--text", in, "--out", in}),
                    "would overwrite the input --text");
}

TEST_F(Hostile, PredictFromEightThreadsOnOneLoadedModel) {
  // One model loaded once, shared by 8 threads classifying at once (a server): every thread
  // gets the single-threaded probabilities. Also run under ThreadSanitizer (scripts/test.sh
  // --tsan), which checks that nothing in the path writes shared state.
  for (const char* kind : {"bow", "cnn"}) {
    ModelConfig cfg = default_config(kind);
    cfg.dim = 8;
    cfg.filters = 4;
    if (cfg.kind == "bow") cfg.buckets = 256;
    std::vector<Example> data = {{1, "这家酒店的服务很好"}, {0, "房间又小又脏"}, {1, "great film"}, {0, "not good at all"}};
    Vocab vocab = build_vocab(data, cfg, 1, 0);
    std::vector<float> table = compute_feature_weights(data, cfg, vocab);
    ember::Generator g(2);
    auto model = make_model(cfg, vocab.size(), g);
    const std::string p = path(std::string(kind) + ".safetensors");
    save_model(p, cfg, vocab, {"negative", "positive"}, *model, table);
    std::vector<SavedModel> shared;
    shared.push_back(load_model(p));
    const std::vector<float> want = ensemble_proba(shared, data).to_vector();
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    threads.reserve(8);
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 10; ++i) {
          if (ensemble_proba(shared, data).to_vector() != want) ++bad;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0) << kind;
  }
}
