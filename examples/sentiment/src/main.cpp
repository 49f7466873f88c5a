// ember-sentiment — train, evaluate and run sentiment classifiers built on ember.
//
//   ember-sentiment demo
//   ember-sentiment vocab --text corpus.txt.gz --out vocab.safetensors
//   ember-sentiment pretrain --objective mlm --text corpus.txt.gz --vocab vocab.safetensors --out encoder.safetensors
//   ember-sentiment train --train train.tsv --dev dev.tsv --model bow --out model.safetensors
//   ember-sentiment train --train train.tsv --model transformer --init encoder.safetensors --out model.safetensors
//   ember-sentiment eval --model model.safetensors [--model other.safetensors …] --data test.tsv [--json]
//   ember-sentiment average --model a.safetensors --model b.safetensors [--dev dev.tsv --greedy] --out soup.safetensors
//   ember-sentiment predict --model model.safetensors [--model …] "这家酒店的服务很好,房间也很干净。" [--json]
//
// One header per subcommand under commands/; this file parses the command line and dispatches.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <new>

#include "cli.hpp"
#include "commands/average_command.hpp"
#include "commands/demo_command.hpp"
#include "commands/eval_command.hpp"
#include "commands/predict_command.hpp"
#include "commands/pretrain_command.hpp"
#include "commands/train_command.hpp"
#include "commands/vocab_command.hpp"

#ifndef EMBER_SENTIMENT_DATA_DIR
#define EMBER_SENTIMENT_DATA_DIR "examples/sentiment/data"
#endif
#ifndef EMBER_SENTIMENT_MODELS_DIR
#define EMBER_SENTIMENT_MODELS_DIR "examples/sentiment/models"
#endif

int main(int argc, char** argv) {
  using namespace sentiment::cmd;
  ember::io::remove_temporaries_on_signal();  // an interrupted write leaves no temporary file
  sentiment::Cli cli(EMBER_SENTIMENT_DATA_DIR, EMBER_SENTIMENT_MODELS_DIR);
  CLI11_PARSE(cli.app, argc, argv);
  try {
    cli.check();
    if (*cli.demo) return run_demo(cli.demo_seed, cli.data_dir, cli.models_dir, cli.demo_quiet);
    if (*cli.train) return run_train(cli);
    if (*cli.vocab) return run_vocab(cli);
    if (*cli.pretrain) return run_pretrain(cli);
    if (*cli.eval) return run_eval(cli);
    if (*cli.predict) return run_predict(cli);
    if (*cli.average) return run_average(cli);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "ember-sentiment: out of memory (the input or the model is larger than this machine can hold)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember-sentiment: %s\n", e.what());
    return 1;
  }
  return 0;
}
