// ember-sentiment: `average`: one model whose weights are the mean of several fine-tunes' (a
// "model soup", Wortsman et al. 2022). Fine-tunes of one pretrained encoder with different
// seeds or learning rates stay in one basin, and their mean is often about as accurate as
// their ensemble at the cost of one model (SST-2: see the README). Uniform: every --model;
// --greedy: the models in order of dev accuracy, each kept only if the soup's dev accuracy
// does not fall (the paper's greedy soup).
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands/common.hpp"

namespace sentiment::cmd {

/// Refuses (std::runtime_error) unless every model has the first one's kind, configuration
/// (dropout and long_text aside: neither is a weight), labels, vocabulary and feature weights,
/// naming both files and what differs.
inline void check_averageable(const std::vector<SavedModel>& models, const std::vector<std::string>& paths) {
  const SavedModel& a = models.front();
  const auto weights_config = [](const ModelConfig& c) {
    nlohmann::json j = c.to_json();
    j.erase("dropout");
    j.erase("long_text");
    return j;
  };
  nlohmann::json ca = weights_config(a.config);
  for (std::size_t k = 1; k < models.size(); ++k) {
    const SavedModel& b = models[k];
    const std::string pair = paths.front() + " and " + paths[k];
    nlohmann::json cb = weights_config(b.config);
    if (b.config.kind != a.config.kind) {
      throw std::runtime_error("average: " + pair + " are models of two kinds (" + a.config.kind + " and " + b.config.kind +
                               "): only models of one kind and shape can be averaged");
    }
    for (const auto& [key, value] : ca.items()) {
      if (!cb.contains(key) || cb[key] != value) {
        throw std::runtime_error("average: " + pair + " differ in '" + key + "' (" + value.dump() + " and " +
                                 (cb.contains(key) ? cb[key].dump() : std::string("none")) +
                                 "): only models of one kind and shape can be averaged");
      }
    }
    if (b.labels != a.labels) {
      throw std::runtime_error("average: " + pair + " name different labels (" + nlohmann::json(a.labels).dump() + " and " +
                               nlohmann::json(b.labels).dump() + ")");
    }
    const bool same_vocab = model_kind(a.config.kind).subword ? a.subword.bytes() == b.subword.bytes()
                                                              : a.vocab.serialize() == b.vocab.serialize();
    if (!same_vocab) {
      throw std::runtime_error("average: " + pair +
                               " have different vocabularies: a weight row means another token in each, so their "
                               "mean means nothing (fine-tune from one encoder, or train with one --vocab)");
    }
    if (b.feature_weights != a.feature_weights) {
      throw std::runtime_error("average: " + pair + " weight their features differently (tables learned from other data)");
    }
  }
}

/// `average`: loads and checks every --model, averages their weights (all of them, or greedily
/// by --dev accuracy), and writes one model file like `train`'s.
inline int run_average(const Cli& cli) {
  const AverageArgs& a = cli.aa;
  std::vector<SavedModel> models;
  for (const auto& p : a.models) models.push_back(load_model(p));
  check_averageable(models, a.models);
  SavedModel soup = load_model(a.models.front());  // the container the mean is loaded into
  set_long_text(soup.config, a.long_text, "average --long-text");

  std::vector<nn::StateDict<float>> dicts;
  dicts.reserve(models.size());
  for (const auto& m : models) dicts.push_back(m.model->state_dict());
  const auto name_of = [&](std::size_t k) { return fs::path(a.models[k]).filename().string(); };

  // Dev accuracy of each model and of the soup, if --dev was given.
  Encoded dev;
  const std::int64_t classes = soup.config.num_classes;
  if (!a.dev.empty()) dev = encode(load(a.dev, a.data, a.quiet), soup.featurizer());
  const auto accuracy = [&](Classifier& m) { return evaluate(m, dev, classes).accuracy; };
  std::vector<double> acc(models.size(), 0.0);
  if (!a.dev.empty()) {
    for (std::size_t k = 0; k < models.size(); ++k) {
      acc[k] = accuracy(*models[k].model);
      if (!a.quiet) std::printf("%-40s dev accuracy %.2f%%\n", name_of(k).c_str(), 100 * acc[k]);
    }
  }

  // The soup as the file will hold it: with --save-dtype bf16 its matrices rounded to bf16 as
  // save_model stores them, so a dev accuracy printed (and recorded) is the file's.
  const bool bf16 = a.save_dtype == "bf16";
  const auto load_soup = [&](const std::vector<nn::StateDict<float>>& parts) {
    nn::StateDict<float> mean = nn::average_state_dicts<float>(parts);
    if (bf16) round_as_stored_bf16(mean);  // mean is new storage: rounding it touches no input
    soup.model->load_state_dict(mean);
  };

  std::vector<std::size_t> kept;
  if (a.greedy) {
    std::vector<std::size_t> order(models.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return acc[x] > acc[y]; });
    kept = {order.front()};
    double best = acc[order.front()];
    for (std::size_t i = 1; i < order.size(); ++i) {
      std::vector<nn::StateDict<float>> trial;
      trial.reserve(kept.size() + 1);
      for (auto k : kept) trial.push_back(dicts[k]);
      trial.push_back(dicts[order[i]]);
      load_soup(trial);
      const double s = accuracy(*soup.model);
      const bool keep = s >= best;
      if (!a.quiet) {
        std::printf("+ %-38s soup of %zu: dev accuracy %.2f%% — %s\n", name_of(order[i]).c_str(), trial.size(), 100 * s,
                    keep ? "kept" : "left out");
      }
      if (keep) {
        kept.push_back(order[i]);
        best = s;
      }
    }
  } else {
    kept.resize(models.size());
    std::iota(kept.begin(), kept.end(), std::size_t{0});
  }
  std::vector<nn::StateDict<float>> chosen;
  chosen.reserve(kept.size());
  for (auto k : kept) chosen.push_back(dicts[k]);
  load_soup(chosen);

  std::map<std::string, std::string> meta;
  std::string from;
  for (auto k : kept) from += (from.empty() ? "" : ", ") + name_of(k);
  meta["averaged_from"] = from;
  if (!a.dev.empty()) {
    const double s = accuracy(*soup.model);
    meta["dev_accuracy"] = fmt("%.6f", s);
    std::printf("average of %zu model%s: dev accuracy %.2f%%\n", kept.size(), kept.size() == 1 ? "" : "s", 100 * s);
  }
  save_model(a.out, soup.config, soup.vocab, soup.labels, *soup.model, soup.feature_weights, meta, &soup.subword, bf16);
  if (!a.quiet) std::printf("wrote %s (the mean of %s)\n", a.out.c_str(), from.c_str());
  return 0;
}

}  // namespace sentiment::cmd
