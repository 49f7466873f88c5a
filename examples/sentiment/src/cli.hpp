// cli.hpp — ember-sentiment's command line: every subcommand's options, their ranges, and the
// checks across options, separate from running anything (so a fuzz target can parse hostile
// argument lists with the real definitions).
//
// Every numeric option is parsed exactly (a value that does not fit, such as 2^63 for an
// int64, is an error naming the option, never clamped) and must lie in a range that trains
// and loads back: whatever `train` accepts, `predict` can read.
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "model.hpp"
#include "pretrain.hpp"
#include "train.hpp"

namespace sentiment {

namespace cli {

inline std::string shown(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// An integer in [lo, hi], parsed whole (no sign tricks, no trailing text, no overflow).
inline CLI::Validator integer_in(std::int64_t lo, std::int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        std::int64_t v = 0;
        const char* end = s.data() + s.size();
        auto [ptr, ec] = std::from_chars(s.data(), end, v);
        if (ec == std::errc::result_out_of_range) {
          return "'" + s + "' is out of range (" + std::to_string(lo) + " to " +
                 std::to_string(hi) + ")";
        }
        if (ec != std::errc() || ptr != end || s.empty()) return "'" + s + "' is not an integer";
        if (v < lo || v > hi) {
          return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                 s;
        }
        return {};
      },
      "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

/// Any unsigned 64-bit integer (a seed), parsed whole.
inline CLI::Validator unsigned_integer() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        std::uint64_t v = 0;
        const char* end = s.data() + s.size();
        auto [ptr, ec] = std::from_chars(s.data(), end, v);
        if (ec == std::errc::result_out_of_range) return "'" + s + "' does not fit in 64 bits";
        if (ec != std::errc() || ptr != end || s.empty())
          return "'" + s + "' is not a non-negative integer";
        return {};
      },
      "UINT64");
}

/// A finite number in [lo, hi] (or (lo, hi] with `above`); inf and nan are refused.
inline CLI::Validator number_in(double lo, double hi, bool above = false) {
  const std::string range = (above ? "(" : "[") + shown(lo) + ", " + shown(hi) + "]";
  return CLI::Validator(
      [lo, hi, above, range](std::string& s) -> std::string {
        double v = 0;
        const char* end = s.data() + s.size();
        auto [ptr, ec] = std::from_chars(s.data(), end, v);
        if (ec != std::errc() || ptr != end || s.empty()) return "'" + s + "' is not a number";
        if (!std::isfinite(v)) return "must be a finite number, got " + s;
        if ((above ? !(v > lo) : !(v >= lo)) || !(v <= hi))
          return "must be in " + range + ", got " + s;
        return {};
      },
      "NUMBER in " + range);
}

}  // namespace cli

struct DataArgs {
  std::string format = "auto";
  bool strict = false;
};

struct TrainArgs {
  std::string train, dev, model = "bow", out = "model.safetensors";
  DataArgs data;
  TrainOptions opt;
  std::int64_t dim = 0, buckets = -1, min_count = 0, max_vocab = 0, filters = 0, max_len = 0;
  std::vector<std::int64_t> widths;
  std::optional<double> dropout, embedding_std;
  std::string init_embeddings;
  int ngrams = 0;
  std::optional<bool> subwords;
  std::string weighting;
  bool quiet = false;
};

/// The files `train` writes next to its model: the metrics table and the plot.
struct TrainOutputs {
  std::string model, metrics, plot;
};
inline TrainOutputs train_outputs(const std::string& out) {
  const std::string base = std::filesystem::path(out).replace_extension("").string();
  return {out, base + ".metrics.csv", base + ".svg"};
}

/// All of ember-sentiment's subcommands and options, and what they parsed into.
struct Cli {
  CLI::App app{
      "ember-sentiment: sentiment classifiers (fastText-style bag of words, TextCNN) on ember"};
  CLI::App *demo = nullptr, *train = nullptr, *pretrain = nullptr, *eval = nullptr,
           *predict = nullptr;

  std::uint64_t demo_seed = 1;
  std::string data_dir;
  bool demo_quiet = false;

  TrainArgs ta;

  std::vector<std::string> pretrain_texts;
  std::string vectors_out = "vectors.safetensors";
  PretrainOptions po;
  DataArgs pa;
  bool pretrain_quiet = false;

  std::vector<std::string> model_paths;
  std::string data_path;
  bool json = false;
  DataArgs ea;
  std::vector<std::string> texts;

  explicit Cli(std::string default_data_dir) : data_dir(std::move(default_data_dir)) {
    using cli::integer_in;
    using cli::number_in;
    app.require_subcommand(1);
    demo = app.add_subcommand(
        "demo", "train on the built-in corpus, report held-out accuracy, classify examples");
    demo->add_option("--seed", demo_seed, "random seed")
        ->capture_default_str()
        ->check(cli::unsigned_integer());
    demo->add_option("--data-dir", data_dir, "folder with train.tsv and test.tsv")
        ->capture_default_str();
    demo->add_flag("--quiet", demo_quiet, "no progress output");

    const std::int64_t big = std::int64_t{1} << 30;
    train = app.add_subcommand("train", "train a model and write it as one safetensors file");
    train->add_option("--train", ta.train, "training data (tsv, glue, csv, fasttext; gzip ok)")
        ->required();
    train->add_option("--dev", ta.dev,
                      "dev data for early stopping (default: every 10th training example)");
    train->add_option("--model", ta.model, "bow or cnn")
        ->check(CLI::IsMember({"bow", "cnn"}))
        ->capture_default_str();
    train
        ->add_option(
            "--out", ta.out,
            "model file to write, when training ends (also <out>.metrics.csv and <out>.svg)")
        ->capture_default_str();
    train->add_option("--epochs", ta.opt.epochs, "maximum epochs (bow 8, cnn 8)")
        ->check(integer_in(1, 10000));
    train->add_option("--lr", ta.opt.lr, "peak AdamW learning rate (bow 0.003, cnn 0.002)")
        ->check(number_in(0, 10, true));
    train->add_option("--batch", ta.opt.batch, "batch size")
        ->capture_default_str()
        ->check(integer_in(1, 1 << 20));
    train->add_option("--seed", ta.opt.seed, "random seed")
        ->capture_default_str()
        ->check(cli::unsigned_integer());
    train->add_option("--weight-decay", ta.opt.weight_decay, "AdamW weight decay")
        ->capture_default_str()
        ->check(number_in(0, 10));
    train->add_option("--label-smoothing", ta.opt.label_smoothing, "cross-entropy label smoothing")
        ->capture_default_str()
        ->check(number_in(0, 1));
    train
        ->add_option("--patience", ta.opt.patience,
                     "epochs without dev improvement before stopping")
        ->capture_default_str()
        ->check(integer_in(1, 10000));
    train->add_flag("!--keep-last", ta.opt.keep_best,
                    "keep the last epoch's weights, not the best dev epoch's");
    train->add_option("--dim", ta.dim, "embedding width (bow 64, cnn 128)")
        ->check(integer_in(1, ModelConfig::kMaxDim));
    train
        ->add_option("--buckets", ta.buckets,
                     "bow: hashed n-gram buckets (default 262144; 0: none)")
        ->check(integer_in(0, ModelConfig::kMaxBuckets));
    train->add_option("--ngrams", ta.ngrams, "bow: token n-grams up to this length (default 2)")
        ->check(integer_in(1, ModelConfig::kMaxNgrams));
    train
        ->add_option(
            "--weighting", ta.weighting,
            "bow: nb (mean of naive-Bayes-scaled features, default), mean (fastText) or tfidf")
        ->check(CLI::IsMember({"nb", "mean", "tfidf"}));
    train->add_option("--filters", ta.filters, "cnn: filters per width (default 100)")
        ->check(integer_in(1, ModelConfig::kMaxFilters));
    train->add_option("--widths", ta.widths, "cnn: filter widths (default 2 3 4)")
        ->check(integer_in(1, ModelConfig::kMaxWidth));
    train->add_option("--dropout", ta.dropout, "cnn: dropout before the classifier (default 0.5)")
        ->check(number_in(0, 0.99));
    train->add_option("--max-len", ta.max_len, "cnn: tokens read per text (default 400)")
        ->check(integer_in(1, ModelConfig::kMaxLen));
    train
        ->add_option("--embedding-std", ta.embedding_std,
                     "cnn: standard deviation of the initial embeddings (default 0.1; 1 with "
                     "--init-embeddings)")
        ->check(number_in(1e-6, 100));
    train->add_option("--init-embeddings", ta.init_embeddings,
                      "cnn: start from vectors written by `pretrain` (their width unless --dim)");
    train->add_option("--subwords", ta.subwords,
                      "bow: character 3-5-grams of English words (default off)");
    train->add_option("--min-count", ta.min_count, "drop tokens seen fewer times (bow 1, cnn 2)")
        ->check(integer_in(1, big));
    train->add_option("--max-vocab", ta.max_vocab, "keep the most frequent tokens only (0: all)")
        ->check(integer_in(0, big));
    train->add_option("--format", ta.data.format, "auto, tsv, glue, csv, fasttext")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "tsv", "glue", "sst2", "csv", "fasttext"}));
    train->add_flag("--strict", ta.data.strict, "a malformed row is an error, not skipped");
    train->add_flag("--quiet", ta.quiet, "no progress output");

    pretrain = app.add_subcommand("pretrain",
                                  "token vectors from unlabelled text (skip-gram, negative "
                                  "sampling) for `train --init-embeddings`");
    pretrain
        ->add_option(
            "--text", pretrain_texts,
            "text files (any dataset format, labels ignored; --format text: one text per line)")
        ->required();
    pretrain->add_option("--out", vectors_out, "vectors file to write")->capture_default_str();
    pretrain->add_option("--dim", po.dim, "vector width")
        ->capture_default_str()
        ->check(integer_in(1, ModelConfig::kMaxDim));
    pretrain->add_option("--window", po.window, "context positions on each side (at most)")
        ->capture_default_str()
        ->check(integer_in(1, 100));
    pretrain->add_option("--negatives", po.negatives, "noise tokens per true pair")
        ->capture_default_str()
        ->check(integer_in(1, 100));
    pretrain->add_option("--epochs", po.epochs, "passes over the text")
        ->capture_default_str()
        ->check(integer_in(1, 10000));
    pretrain->add_option("--lr", po.lr, "starting Adam learning rate (decays linearly)")
        ->capture_default_str()
        ->check(number_in(0, 10, true));
    pretrain->add_option("--min-count", po.min_count, "drop tokens seen fewer times")
        ->capture_default_str()
        ->check(integer_in(1, big));
    pretrain->add_option("--max-vocab", po.max_vocab, "keep the most frequent tokens only (0: all)")
        ->capture_default_str()
        ->check(integer_in(0, big));
    pretrain->add_option("--seed", po.seed, "random seed")
        ->capture_default_str()
        ->check(cli::unsigned_integer());
    pretrain->add_option("--format", pa.format, "auto, tsv, glue, csv, fasttext, text")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "tsv", "glue", "sst2", "csv", "fasttext", "text"}));
    pretrain->add_flag("--quiet", pretrain_quiet, "no progress output");

    eval = app.add_subcommand("eval",
                              "accuracy, per-class precision/recall/F1 and the confusion matrix");
    eval->add_option("--model", model_paths,
                     "model file; given more than once, an ensemble (probabilities averaged)")
        ->required()
        ->take_all()
        ->expected(1)
        ->allow_extra_args(false);
    eval->add_option("--data", data_path, "labelled data")->required();
    eval->add_option("--format", ea.format, "auto, tsv, glue, csv, fasttext")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "tsv", "glue", "sst2", "csv", "fasttext"}));
    eval->add_flag("--strict", ea.strict, "a malformed row is an error, not skipped");
    eval->add_flag("--json", json, "print one JSON object");

    predict = app.add_subcommand(
        "predict", "label and probability for each text (arguments, or lines on stdin)");
    predict
        ->add_option("--model", model_paths,
                     "model file; given more than once, an ensemble (probabilities averaged)")
        ->required()
        ->take_all()
        ->expected(1)
        ->allow_extra_args(false);
    predict->add_option("texts", texts, "texts to classify");
    predict->add_flag("--json", json, "one JSON object per line");
  }

  /// Checks across options, after parsing and before anything runs or any file is touched:
  /// options of the other model kind, outputs that would replace an input or each other, and
  /// output folders that do not exist. Throws std::runtime_error naming the options.
  void check() const {
    if (*train) {
      const bool bow = ta.model == "bow";
      const char* other = bow ? "cnn" : "bow";
      for (const char* opt :
           bow ? std::vector<const char*>{"--filters", "--widths", "--dropout", "--max-len",
                                          "--embedding-std", "--init-embeddings"}
               : std::vector<const char*>{"--buckets", "--ngrams", "--weighting", "--subwords"}) {
        if (train->count(opt) > 0) {
          throw std::runtime_error(std::string(opt) + " applies to --model " + other +
                                   " only (this run trains " + ta.model + ")");
        }
      }
      const TrainOutputs out = train_outputs(ta.out);
      check_output_dir("--out", ta.out);
      ember::io::check_outputs(
          {{"--train", ta.train}, {"--dev", ta.dev}, {"--init-embeddings", ta.init_embeddings}},
          {{"--out", out.model}, {"the metrics table", out.metrics}, {"the plot", out.plot}},
          "train");
    }
    if (*pretrain) {
      std::vector<std::pair<std::string, std::string>> inputs;
      for (const auto& t : pretrain_texts) inputs.emplace_back("--text", t);
      check_output_dir("--out", vectors_out);
      ember::io::check_outputs(inputs, {{"--out", vectors_out}}, "pretrain");
    }
  }

 private:
  static void check_output_dir(const std::string& opt, const std::string& path) {
    namespace fs = std::filesystem;
    if (path.empty()) throw std::runtime_error(opt + ": empty path");
    std::error_code ec;
    if (fs::is_directory(path, ec))
      throw std::runtime_error(opt + " " + path + " is a directory; give a file name");
    const fs::path dir =
        fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
    if (!fs::is_directory(dir, ec))
      throw std::runtime_error(opt + " " + path + ": the folder " + dir.string() +
                               " does not exist");
  }
};

}  // namespace sentiment
