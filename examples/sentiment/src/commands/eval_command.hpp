// ember-sentiment: `eval`: a model (or an ensemble) on a labelled file.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "commands/common.hpp"

namespace sentiment::cmd {

/// `path`'s model, read as --long-text says if given (a model that cannot read windows is
/// refused with its file's name).
inline SavedModel load_model_as_asked(const std::string& path, const std::string& long_text) {
  SavedModel m = load_model(path);
  set_long_text(m.config, long_text, "--long-text " + long_text + " (" + path + ")");
  return m;
}

/// The models of every --model, in order (several: their probabilities are averaged).
inline std::vector<SavedModel> load_models(const Cli& cli) {
  std::vector<SavedModel> models;
  for (const auto& path : cli.model_paths) models.push_back(load_model_as_asked(path, cli.long_text));
  return models;
}

/// `eval`: accuracy, macro-F1, per-class figures and the confusion table on a labelled file.
inline int run_eval(const Cli& cli) {
  const std::vector<SavedModel> models = load_models(cli);
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

}  // namespace sentiment::cmd
