// ember-sentiment: `pretrain`: an encoder by masked-language modelling (mlm), or word vectors (skipgram).
#pragma once

#include <chrono>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "commands/common.hpp"
#include "mlm.hpp"
#include "pretrain.hpp"

namespace sentiment::cmd {

/// `pretrain --objective mlm`: a new run (from random weights, or from an encoder with --init), or
/// --resume of the checkpoint at --out.
inline int run_pretrain_mlm(const Cli& cli) {
  const MlmArgs& ma = cli.mlm;
  MlmOptions o = ma.run;
  o.epochs = cli.pretrain->count("--epochs") ? cli.po.epochs : 1;
  o.lr = cli.pretrain->count("--lr") ? cli.po.lr : 5e-4;
  o.seed = cli.po.seed;
  o.bf16 = ma.precision == "bf16";
  o.quiet = cli.pretrain_quiet;
  const auto t_load = std::chrono::steady_clock::now();
  EncoderCheckpoint ck;
  std::int64_t optimizer_steps = 0;
  auto given = [&](const char* opt) { return cli.pretrain->count(opt) > 0; };
  // An encoder read from a file (--resume, --init) keeps its shape: a shape option given anew
  // must agree with it.
  auto check_shape = [&](const std::string& path, const char* whose, const char* how) {
    for (auto [opt, mine, theirs] : {std::tuple{"--dim", std::int64_t{cli.po.dim}, ck.config.dim},
                                     {"--layers", ma.layers, ck.config.layers}, {"--heads", ma.heads, ck.config.heads},
                                     {"--ffn", ma.ffn, ck.config.ffn}, {"--max-len", ma.max_len, ck.config.max_len}}) {
      if (given(opt) && mine != theirs) {
        throw std::runtime_error(std::string(opt) + " " + std::to_string(mine) + " differs from " + whose + " " +
                                 std::to_string(theirs) + " (" + path + "); " + how);
      }
    }
  };
  if (ma.resume) {
    ck = load_encoder(cli.vectors_out, &optimizer_steps);
    check_shape(cli.vectors_out, "the checkpoint's", "--resume continues its encoder");
    if (given("--dropout") && ma.dropout != ck.config.dropout) {
      throw std::runtime_error("--dropout " + fmt("%g", ma.dropout) + " differs from the checkpoint's " + fmt("%g", ck.config.dropout) +
                               " (" + cli.vectors_out + "); --resume continues its encoder");
    }
    // Options left out continue the checkpoint's run; one given anew must agree (pretrain_mlm
    // checks, naming it).
    if (ck.run) ck.run->fill_options_not_given(o, given);
    if (!ck.run && !cli.pretrain_quiet) {
      std::fprintf(stderr, "note: %s records no run settings (written before they were kept): this run uses the %s given or their defaults\n",
                   cli.vectors_out.c_str(), MlmRunSettings::options().c_str());
    }
    if (!given("--steps") && !given("--epochs")) o.steps = ck.total_steps;  // the checkpoint's plan
    if (ck.run && ck.step > 0) ck.run->check_resumed_by(MlmRunSettings::of(o));  // before the text is read
    if (!cli.pretrain_quiet) {
      std::fprintf(stderr, "resuming %s at step %lld of %lld (%s trained so far)\n", cli.vectors_out.c_str(),
                   static_cast<long long>(ck.step), static_cast<long long>(ck.total_steps), clock_time(ck.seconds).c_str());
    }
  }
  if (!ma.init.empty()) {  // the CLI refused it with --resume
    ck = load_encoder(ma.init);
    check_shape(ma.init, "the encoder's", "--init begins from it");
    if (given("--dropout")) ck.config.dropout = ma.dropout;  // not part of the shape: the new run's own
    begin_run_from(ck, ma.init);
    if (!cli.pretrain_quiet) {
      std::fprintf(stderr, "a new run from %s (pretrained for %s, %lld tokens)\n", ma.init.c_str(), clock_time(ck.seconds).c_str(),
                   static_cast<long long>(ck.tokens));
    }
  }
  std::vector<std::string> texts;
  for (const auto& path : cli.pretrain_texts) {
    for (auto& e : load(path, cli.pa, cli.pretrain_quiet)) texts.push_back(std::move(e.text));
  }
  if (!ma.resume && ma.init.empty()) {
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

/// `pretrain --objective skipgram`: word vectors for the cnn (--init-embeddings).
inline int run_pretrain_skipgram(const Cli& cli) {
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

inline int run_pretrain(const Cli& cli) { return cli.objective == "mlm" ? run_pretrain_mlm(cli) : run_pretrain_skipgram(cli); }

}  // namespace sentiment::cmd
