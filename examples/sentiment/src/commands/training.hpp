// ember-sentiment: one training run, shared by `train` and `demo`: the kind defaults, the vocabulary, the
// initial weights (a pretrained encoder or vectors), training and the written outputs.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "commands/common.hpp"
#include "mlm.hpp"
#include "pretrain.hpp"
#include "train.hpp"

namespace sentiment::cmd {

// Defaults that depend on the model kind (0 / -1 in TrainArgs means "not given").
inline void apply_defaults(TrainArgs& a, ModelConfig& cfg, const CLI::App& sub) {
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
    if (!a.long_text.empty()) cfg.long_text = a.long_text;
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

struct Trained {
  ModelConfig cfg;
  Vocab vocab;
  SubwordVocab subword;
  std::vector<float> feature_weights;
  std::unique_ptr<Classifier> model;
  TrainResult result;
};

inline Trained run_training(const TrainArgs& a, ModelConfig cfg, const std::vector<Example>& train,
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
      // The encoder's shape and vocabulary; the run's dropout, pooling and long-text reading.
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
    // With --save-dtype bf16 the model becomes what the file will hold (its matrices rounded to
    // bf16, as save_model stores them) and is evaluated on dev as `eval` runs it, so the
    // recorded dev accuracy is the file's (it differed by ~0.1 point from the training
    // epoch's: 84.17% against 84.06% from the file on SST-2), as `average` records it.
    double recorded = kept_accuracy;
    const bool bf16_file = a.save_dtype == "bf16";
    if (bf16_file) {
      round_as_stored_bf16(t.model->state_dict());
      if (dv.size() > 0) {
        recorded = evaluate(*t.model, dv, cfg.num_classes).accuracy;
        std::printf("dev accuracy %.2f%% as the file stores the weights (bf16 matrices)\n", 100 * recorded);
      }
    }
    save_model(out.model, t.cfg, t.vocab, labels, *t.model, t.feature_weights,
               {{"epoch", std::to_string(kept_epoch)}, {"dev_accuracy", fmt("%.6f", recorded)}}, &t.subword, bf16_file);
    ember::io::write_file_atomic(out.metrics, history_csv(t.result.history));
    ember::io::write_file_atomic(out.plot, history_svg(t.result.history, cfg.kind + " model, " +
                                                                           fs::path(a.train).filename().string()));
    if (!a.quiet) std::printf("wrote %s, %s, %s\n", out.model.c_str(), out.metrics.c_str(), out.plot.c_str());
  }
  return t;
}

}  // namespace sentiment::cmd
