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

#include "mlm.hpp"
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
  std::int64_t layers = 0, heads = 0, ffn = 0;  // transformer (0: the kind's default)
  std::string pooling, init, vocab;              // transformer: --pooling, --init, --vocab
  std::string long_text;                         // transformer: --long-text (empty: head)
  std::int64_t vocab_size = 8000;                // transformer without --vocab or --init
  std::string precision = "auto";                // matrix products: bf16, fp32, auto (bf16 for the transformer)
  std::string save_dtype = "fp32";               // weight matrices in the model file: fp32 or bf16
  bool quiet = false;
};

/// `pretrain --objective mlm`: the transformer's shape and the run's settings.
struct MlmArgs {
  std::string vocab;  // a vocabulary (or encoder) file; empty: learn one from the text
  std::string init;   // an encoder to begin a new run from (--init); empty: random weights
  std::int64_t vocab_size = 8000, max_len = 128, dim = 256, layers = 4, heads = 4, ffn = 1024;
  double dropout = 0.1;
  MlmOptions run;
  bool resume = false;
  std::string precision = "bf16";
};

/// `vocab`: learn a SentencePiece vocabulary.
struct VocabArgs {
  std::vector<std::string> texts;
  std::string out = "vocab.safetensors", format = "text";
  SubwordOptions opt;
};

/// `average`: one model from the mean of several models' weights (a model soup).
struct AverageArgs {
  std::vector<std::string> models;
  std::string out, dev;
  DataArgs data;
  std::string save_dtype = "fp32";
  std::string long_text;  // empty: the first model's
  bool greedy = false, quiet = false;
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
/// --format's help: the labelled formats, and with `text` the unlabelled one (pretrain, vocab).
inline std::string format_help(bool with_text) {
  return std::string("auto, tsv, glue, csv, fasttext") + (with_text ? ", text" : "") +
         "; sst2: tsv or glue of Penn Treebank tokens, joined back into written text";
}

/// --long-text's help.
inline std::string long_text_help() {
  return "transformer: a text longer than its positions is read by its head (truncated) or as windows "
         "(every piece; the windows' probabilities averaged)";
}

struct Cli {
  CLI::App app{
      "ember-sentiment: sentiment classifiers on ember: a BERT-style transformer (pretrain, fine-tune; shipped zh and en "
      "models for predict), a fastText-style bag of words and a TextCNN"};
  CLI::App *demo = nullptr, *train = nullptr, *pretrain = nullptr, *eval = nullptr,
           *predict = nullptr, *vocab = nullptr, *average = nullptr;

  std::uint64_t demo_seed = 1;
  std::string data_dir;
  bool demo_quiet = false;

  TrainArgs ta;

  std::vector<std::string> pretrain_texts;
  std::string vectors_out = "vectors.safetensors";
  PretrainOptions po;
  std::string objective = "skipgram";
  MlmArgs mlm;
  DataArgs pa;
  VocabArgs va;
  bool pretrain_quiet = false;

  AverageArgs aa;

  std::vector<std::string> model_paths;
  std::string data_path;
  std::string long_text;  // eval, predict: --long-text (empty: as each model file says)
  bool json = false;
  DataArgs ea;
  std::vector<std::string> texts;

  std::string models_dir;  // the shipped models (predict without --model)

  explicit Cli(std::string default_data_dir, std::string default_models_dir = "examples/sentiment/models")
      : data_dir(std::move(default_data_dir)), models_dir(std::move(default_models_dir)) {
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
    demo->add_option("--models-dir", models_dir, "where the shipped models are (zh.safetensors, en.safetensors)")
        ->capture_default_str();

    const std::int64_t big = std::int64_t{1} << 30;
    train = app.add_subcommand("train", "train a model and write it as one safetensors file");
    train->add_option("--train", ta.train, "training data (tsv, glue, csv, fasttext; gzip ok)")
        ->required();
    train->add_option("--dev", ta.dev,
                      "dev data for early stopping (default: every 10th training example)");
    std::vector<std::string> kinds;
    for (const auto& k : model_kinds()) kinds.push_back(k.name);
    train->add_option("--model", ta.model, model_kind_list())
        ->check(CLI::IsMember(kinds))
        ->capture_default_str();
    train
        ->add_option(
            "--out", ta.out,
            "model file to write, when training ends (also <out>.metrics.csv and <out>.svg)")
        ->capture_default_str();
    train->add_option("--epochs", ta.opt.epochs, "maximum epochs (bow 8, cnn 8)")
        ->check(integer_in(1, 10000));
    train->add_option("--lr", ta.opt.lr, "peak AdamW learning rate (bow 0.003, cnn 0.002, transformer 1e-4)")
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
    train->add_option("--dropout", ta.dropout, "cnn: dropout before the classifier (default 0.5); transformer: everywhere (0.1)")
        ->check(number_in(0, 0.99));
    train->add_option("--max-len", ta.max_len, "cnn: tokens read per text (default 400); transformer: positions (128)")
        ->check(integer_in(1, ModelConfig::kMaxLen));
    train
        ->add_option("--embedding-std", ta.embedding_std,
                     "cnn: standard deviation of the initial embeddings (default 0.1; 1 with "
                     "--init-embeddings)")
        ->check(number_in(1e-6, 100));
    train->add_option("--init-embeddings", ta.init_embeddings,
                      "cnn: start from vectors written by `pretrain` (their width unless --dim)");
    train->add_option("--layers", ta.layers, "transformer: encoder layers (default 4)")
        ->check(integer_in(1, ModelConfig::kMaxLayers));
    train->add_option("--heads", ta.heads, "transformer: attention heads (default 4)")
        ->check(integer_in(1, ModelConfig::kMaxDim));
    train->add_option("--ffn", ta.ffn, "transformer: feed-forward width (default 1024)")
        ->check(integer_in(1, ModelConfig::kMaxFfn));
    train->add_option("--pooling", ta.pooling, "transformer: cls or mean (default cls)")
        ->check(CLI::IsMember({"cls", "mean"}));
    train->add_option("--long-text", ta.long_text, long_text_help())->check(CLI::IsMember({"head", "windows"}));
    train->add_option("--layer-decay", ta.opt.layer_decay,
                      "transformer: layer-wise learning-rate decay, each layer below the top at this factor of the one above (1: off)")
        ->capture_default_str()
        ->check(number_in(0, 1, true));
    train->add_option("--init", ta.init,
                      "transformer: fine-tune the encoder written by `pretrain --objective mlm` (its shape and vocabulary)");
    train->add_option("--vocab", ta.vocab,
                      "transformer from scratch: the vocabulary file written by `vocab` (default: learn one from --train)");
    train->add_option("--vocab-size", ta.vocab_size, "transformer: pieces when learning a vocabulary from --train")
        ->capture_default_str()
        ->check(integer_in(6, SubwordVocab::kMaxSize));
    train->add_option("--precision", ta.precision,
                      "matrix products: bf16 (fp32 accumulation), fp32, or auto (bf16 for the transformer)")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "bf16", "fp32"}));
    train->add_option("--save-dtype", ta.save_dtype,
                      "weight matrices in the model file: fp32, or bf16 (half the size; biases stay fp32)")
        ->capture_default_str()
        ->check(CLI::IsMember({"fp32", "bf16"}));
    train->add_option("--subwords", ta.subwords,
                      "bow: character 3-5-grams of English words (default off)");
    train->add_option("--min-count", ta.min_count, "drop tokens seen fewer times (bow 1, cnn 2)")
        ->check(integer_in(1, big));
    train->add_option("--max-vocab", ta.max_vocab, "keep the most frequent tokens only (0: all)")
        ->check(integer_in(0, big));
    train->add_option("--format", ta.data.format, format_help(false))
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "tsv", "glue", "sst2", "csv", "fasttext"}));
    train->add_flag("--strict", ta.data.strict, "a malformed row is an error, not skipped");
    train->add_flag("--quiet", ta.quiet, "no progress output");

    pretrain = app.add_subcommand("pretrain",
                                  "from unlabelled text: a masked-language-model encoder for `train --model "
                                  "transformer --init` (--objective mlm), or token vectors (skip-gram, negative "
                                  "sampling) for `train --init-embeddings`");
    pretrain->add_option("--objective", objective, "skipgram or mlm")
        ->capture_default_str()
        ->check(CLI::IsMember({"skipgram", "mlm"}));
    pretrain
        ->add_option(
            "--text", pretrain_texts,
            "text files (any dataset format, labels ignored; --format text: one text per line)")
        ->required();
    pretrain->add_option("--out", vectors_out, "vectors (skipgram) or encoder checkpoint (mlm) to write")
        ->capture_default_str();
    pretrain->add_option("--dim", po.dim, "vector width (skipgram 128, mlm 256)")
        ->check(integer_in(1, ModelConfig::kMaxDim));
    pretrain->add_option("--vocab", mlm.vocab, "mlm: vocabulary file from `vocab` (default: learn one from --text)");
    pretrain->add_option("--init", mlm.init,
                         "mlm: begin a new run (its own text, schedule and optimiser) from this encoder's weights, shape "
                         "and vocabulary, e.g. to go on pretraining on a task's own texts");
    pretrain->add_option("--vocab-size", mlm.vocab_size, "mlm: pieces when learning the vocabulary")
        ->capture_default_str()
        ->check(integer_in(6, SubwordVocab::kMaxSize));
    pretrain->add_option("--max-len", mlm.max_len, "mlm: ids per packed sequence, [CLS] included")
        ->capture_default_str()
        ->check(integer_in(2, 4096));
    pretrain->add_option("--layers", mlm.layers, "mlm: encoder layers")
        ->capture_default_str()
        ->check(integer_in(1, ModelConfig::kMaxLayers));
    pretrain->add_option("--heads", mlm.heads, "mlm: attention heads")
        ->capture_default_str()
        ->check(integer_in(1, ModelConfig::kMaxDim));
    pretrain->add_option("--ffn", mlm.ffn, "mlm: feed-forward width")
        ->capture_default_str()
        ->check(integer_in(1, ModelConfig::kMaxFfn));
    pretrain->add_option("--dropout", mlm.dropout, "mlm: dropout")
        ->capture_default_str()
        ->check(number_in(0, 0.99));
    pretrain->add_option("--batch", mlm.run.batch, "mlm: sequences per step")
        ->capture_default_str()
        ->check(integer_in(1, 1 << 16));
    pretrain->add_option("--steps", mlm.run.steps, "mlm: the schedule's steps (default: --epochs over the text)")
        ->check(integer_in(1, big));
    pretrain->add_option("--warmup", mlm.run.warmup, "mlm: warmup, a fraction of the steps")
        ->capture_default_str()
        ->check(number_in(0, 1));
    pretrain->add_option("--weight-decay", mlm.run.weight_decay, "mlm: AdamW weight decay")
        ->capture_default_str()
        ->check(number_in(0, 10));
    pretrain->add_option("--clip", mlm.run.clip, "mlm: gradient-norm clip (0: off)")
        ->capture_default_str()
        ->check(number_in(0, 1e6));
    pretrain->add_option("--max-minutes", mlm.run.max_minutes, "mlm: end this run after so many minutes (a checkpoint; --resume continues)")
        ->check(number_in(0, 1e6, true));
    pretrain->add_option("--checkpoint-minutes", mlm.run.checkpoint_minutes, "mlm: minutes between checkpoints")
        ->capture_default_str()
        ->check(number_in(0, 1e6, true));
    pretrain->add_option("--eval-every", mlm.run.eval_every, "mlm: steps between held-back evaluations")
        ->capture_default_str()
        ->check(integer_in(1, big));
    pretrain->add_option("--log-every", mlm.run.log_every, "mlm: steps between progress lines")
        ->capture_default_str()
        ->check(integer_in(1, big));
    pretrain->add_option("--held-back", mlm.run.held_back, "mlm: sequences kept out of training to measure on")
        ->capture_default_str()
        ->check(integer_in(0, big));
    pretrain->add_option("--precision", mlm.precision, "mlm: bf16 (matrix products in bfloat16, fp32 accumulation) or fp32")
        ->capture_default_str()
        ->check(CLI::IsMember({"bf16", "fp32"}));
    pretrain->add_flag("--resume", mlm.resume, "mlm: continue the checkpoint at --out");
    pretrain->add_flag("--reschedule", mlm.run.reschedule,
                       "mlm: with --resume, take --steps as the schedule's new length (the learning rate decays to 0 there)");
    pretrain->add_option("--window", po.window, "context positions on each side (at most)")
        ->capture_default_str()
        ->check(integer_in(1, 100));
    pretrain->add_option("--negatives", po.negatives, "noise tokens per true pair")
        ->capture_default_str()
        ->check(integer_in(1, 100));
    pretrain->add_option("--epochs", po.epochs, "passes over the text (skipgram 5, mlm 1)")
        ->check(integer_in(1, 10000));
    pretrain->add_option("--lr", po.lr, "peak learning rate, decays linearly (skipgram 0.005, mlm 5e-4)")
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
    pretrain->add_option("--format", pa.format, format_help(true))
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "tsv", "glue", "sst2", "csv", "fasttext", "text"}));
    pretrain->add_flag("--quiet", pretrain_quiet, "no progress output");

    vocab = app.add_subcommand("vocab", "learn a SentencePiece subword vocabulary for the transformer");
    vocab->add_option("--text", va.texts, "text files (one text per line unless --format says otherwise)")->required();
    vocab->add_option("--out", va.out, "vocabulary file to write")->capture_default_str();
    vocab->add_option("--size", va.opt.size, "pieces, the 5 special ids included")
        ->capture_default_str()
        ->check(integer_in(6, SubwordVocab::kMaxSize));
    vocab->add_option("--type", va.opt.type, "unigram, bpe or char")
        ->capture_default_str()
        ->check(CLI::IsMember({"unigram", "bpe", "char"}));
    vocab->add_option("--coverage", va.opt.character_coverage,
                      "share of the characters seen that get a piece of their own (CJK: 0.9995)")
        ->capture_default_str()
        ->check(number_in(0.9, 1));
    vocab->add_option("--max-texts", va.opt.max_sentences, "read at most this many texts")
        ->capture_default_str()
        ->check(integer_in(1, big));
    vocab->add_option("--format", va.format, format_help(true))
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "tsv", "glue", "sst2", "csv", "fasttext", "text"}));

    average = app.add_subcommand(
        "average", "one model whose weights are the mean of several fine-tunes of one encoder (a model soup)");
    average->add_option("--model", aa.models, "a model file (at least two, or one with --long-text; same kind, shape and vocabulary)")
        ->required()
        ->take_all()
        ->expected(1)
        ->allow_extra_args(false);
    average->add_option("--out", aa.out, "the averaged model")->required();
    average->add_option("--dev", aa.dev, "labelled data: report each model's and the average's accuracy on it");
    average->add_option("--format", aa.data.format, format_help(false))
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "tsv", "glue", "sst2", "csv", "fasttext"}));
    average->add_flag("--strict", aa.data.strict, "a malformed --dev row is an error, not skipped");
    average->add_flag("--greedy", aa.greedy,
                      "a greedy soup: the models by --dev accuracy, best first, each kept only if the average's "
                      "--dev accuracy does not fall");
    average->add_option("--save-dtype", aa.save_dtype,
                        "weight matrices in the model file: fp32, or bf16 (half the size; biases stay fp32)")
        ->capture_default_str()
        ->check(CLI::IsMember({"fp32", "bf16"}));
    average->add_option("--long-text", aa.long_text, long_text_help() + "; default: the first model's")
        ->check(CLI::IsMember({"head", "windows"}));
    average->add_flag("--quiet", aa.quiet, "print only the average's dev accuracy");

    eval = app.add_subcommand("eval",
                              "accuracy, per-class precision/recall/F1 and the confusion matrix");
    eval->add_option("--model", model_paths,
                     "model file; given more than once, an ensemble (probabilities averaged)")
        ->required()
        ->take_all()
        ->expected(1)
        ->allow_extra_args(false);
    eval->add_option("--data", data_path, "labelled data")->required();
    eval->add_option("--format", ea.format, format_help(false))
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "tsv", "glue", "sst2", "csv", "fasttext"}));
    eval->add_flag("--strict", ea.strict, "a malformed row is an error, not skipped");
    eval->add_flag("--json", json, "print one JSON object");
    eval->add_option("--long-text", long_text, long_text_help() + "; default: as the model file says")
        ->check(CLI::IsMember({"head", "windows"}));

    predict = app.add_subcommand(
        "predict", "label and probability for each text (arguments, or lines on stdin)");
    predict
        ->add_option("--model", model_paths,
                     "model file; given more than once, an ensemble (probabilities averaged); default: the "
                     "shipped model of each text's script (CJK: zh, else en)")
        ->take_all()
        ->expected(1)
        ->allow_extra_args(false);
    predict->add_option("texts", texts, "texts to classify");
    predict->add_option("--models-dir", models_dir, "where the shipped models are (zh.safetensors, en.safetensors)")
        ->capture_default_str();
    predict->add_flag("--json", json, "one JSON object per line");
    predict->add_option("--long-text", long_text, long_text_help() + "; default: as the model file says")
        ->check(CLI::IsMember({"head", "windows"}));
  }

  /// Checks across options, after parsing and before anything runs or any file is touched:
  /// options of the other model kind, outputs that would replace an input or each other, and
  /// output folders that do not exist. Throws std::runtime_error naming the options.
  void check() const {
    if (*train) {
      // An option that only other kinds read is an error, not ignored.
      const ModelKind& mine = model_kind(ta.model);
      for (const auto& k : model_kinds()) {
        for (const auto& opt : k.options) {
          const bool ours = std::find(mine.options.begin(), mine.options.end(), opt) != mine.options.end();
          if (!ours && train->count(opt) > 0) {
            std::string owners;
            for (const auto& o : model_kinds()) {
              if (std::find(o.options.begin(), o.options.end(), opt) != o.options.end()) {
                owners += (owners.empty() ? "" : " or ") + o.name;
              }
            }
            throw std::runtime_error(opt + " applies to --model " + owners + " only (this run trains " + ta.model + ")");
          }
        }
      }
      if (!ta.init.empty() && !ta.vocab.empty()) {
        throw std::runtime_error("--init brings its encoder's vocabulary: --vocab cannot be given with it");
      }
      const TrainOutputs out = train_outputs(ta.out);
      check_output_dir("--out", ta.out);
      ember::io::check_outputs(
          {{"--train", ta.train}, {"--dev", ta.dev}, {"--init-embeddings", ta.init_embeddings}, {"--init", ta.init},
           {"--vocab", ta.vocab}},
          {{"--out", out.model}, {"the metrics table", out.metrics}, {"the plot", out.plot}},
          "train");
    }
    if (*pretrain) {
      const bool is_mlm = objective == "mlm";
      for (const char* opt : {"--vocab", "--init", "--vocab-size", "--max-len", "--layers", "--heads", "--ffn", "--dropout",
                              "--steps", "--warmup", "--weight-decay", "--clip", "--max-minutes", "--checkpoint-minutes",
                              "--eval-every", "--log-every", "--held-back", "--precision", "--resume", "--reschedule", "--batch"}) {
        if (!is_mlm && pretrain->count(opt) > 0) throw std::runtime_error(std::string(opt) + " applies to --objective mlm only");
      }
      for (const char* opt : {"--window", "--negatives", "--min-count", "--max-vocab"}) {
        if (is_mlm && pretrain->count(opt) > 0) throw std::runtime_error(std::string(opt) + " applies to --objective skipgram only");
      }
      if (mlm.run.reschedule && (!mlm.resume || pretrain->count("--steps") == 0)) {
        throw std::runtime_error("--reschedule changes a resumed run's length: give it with --resume and --steps");
      }
      // --resume and --init keep an existing vocabulary: the options that make one are refused.
      auto vocab_option_given = [&]() -> const char* {
        for (const char* opt : {"--vocab", "--vocab-size"})
          if (pretrain->count(opt) > 0) return opt;
        return nullptr;
      };
      if (const char* opt = vocab_option_given(); is_mlm && mlm.resume && opt != nullptr) {
        throw std::runtime_error(std::string("--resume continues the checkpoint's own vocabulary: ") + opt +
                                 " cannot be given with it");
      }
      if (!mlm.init.empty()) {
        if (mlm.resume) {
          throw std::runtime_error("--init begins a new run from an encoder, --resume continues the one at --out: give one of them");
        }
        if (const char* opt = vocab_option_given())
          throw std::runtime_error(std::string(opt) + " cannot be given with --init: the run keeps the encoder's vocabulary");
      }
      std::vector<std::pair<std::string, std::string>> inputs;
      for (const auto& t : pretrain_texts) inputs.emplace_back("--text", t);
      if (!mlm.vocab.empty()) inputs.emplace_back("--vocab", mlm.vocab);
      if (!mlm.init.empty()) inputs.emplace_back("--init", mlm.init);
      check_output_dir("--out", vectors_out);
      ember::io::check_outputs(inputs, {{"--out", vectors_out}}, "pretrain");
    }
    if (*average) {
      // One model is averaged with nothing: allowed only to change how it reads long texts.
      if (aa.models.size() < 2 && (aa.long_text.empty() || aa.greedy)) {
        throw std::runtime_error("average: give at least two --model files (got " + std::to_string(aa.models.size()) +
                                 "; one with --long-text re-saves that model reading long texts another way)");
      }
      if (aa.greedy && aa.dev.empty()) throw std::runtime_error("--greedy chooses models by their accuracy on --dev: give --dev");
      if (aa.dev.empty()) {
        for (const char* opt : {"--format", "--strict"}) {
          if (average->count(opt) > 0) throw std::runtime_error(std::string(opt) + " reads --dev: give --dev");
        }
      }
      std::vector<std::pair<std::string, std::string>> inputs;
      for (const auto& m : aa.models) inputs.emplace_back("--model", m);
      inputs.emplace_back("--dev", aa.dev);
      check_output_dir("--out", aa.out);
      ember::io::check_outputs(inputs, {{"--out", aa.out}}, "average");
    }
    if (*vocab) {
      std::vector<std::pair<std::string, std::string>> inputs;
      for (const auto& t : va.texts) inputs.emplace_back("--text", t);
      check_output_dir("--out", va.out);
      ember::io::check_outputs(inputs, {{"--out", va.out}}, "vocab");
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
