// ember-sentiment: `train`: a classifier from labelled examples.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "commands/common.hpp"
#include "commands/training.hpp"

namespace sentiment::cmd {

/// `train`: reads the data (a dev split when --dev is not given) and runs one training.
inline int run_train(Cli& cli) {
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

}  // namespace sentiment::cmd
