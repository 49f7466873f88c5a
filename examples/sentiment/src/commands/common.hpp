// ember-sentiment: what the subcommands share: reading datasets, vocabularies, predictions and their printing.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.hpp"
#include "dataset.hpp"
#include "model.hpp"
#include "report.hpp"
#include "subword.hpp"

namespace sentiment::cmd {

namespace fs = std::filesystem;

// Reads a dataset. Skipped rows are reported on stderr also under --quiet and --json (a
// warning, not progress): a file whose labels are 2/3 must not shrink in silence.
inline std::vector<Example> load(const std::string& path, const DataArgs& a, bool quiet, ReadReport* report = nullptr) {
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
inline void split_dev(std::vector<Example>& train, std::vector<Example>& dev, int every) {
  std::vector<Example> keep;
  for (std::size_t i = 0; i < train.size(); ++i) {
    (i % static_cast<std::size_t>(every) == static_cast<std::size_t>(every - 1) ? dev : keep)
        .push_back(std::move(train[i]));
  }
  train = std::move(keep);
}

/// The SentencePiece vocabulary in a vocabulary file (from `vocab`), an encoder checkpoint or a
/// transformer model file.
inline SubwordVocab load_subword_file(const std::string& path) {
  return subword_of(ember::io::parse_safetensors(ember::io::read_file(path, kMaxModelFileBytes, "load vocabulary"), path),
                    path);
}

/// Learns a vocabulary from the normalised texts of `data`.
inline SubwordVocab learn_subword(const std::vector<Example>& data, const SubwordOptions& o, bool quiet) {
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

/// Makes `c` read long texts as `long_text` says ("head" or "windows"; empty: unchanged), and
/// refuses a model that cannot (`what` prefixes the message).
inline void set_long_text(ModelConfig& c, const std::string& long_text, const std::string& what) {
  if (long_text.empty()) return;
  c.long_text = long_text;
  c.validate(what);
}

struct Prediction {
  int label = 0;
  std::vector<float> probs;
};

// One model, or several whose probabilities are averaged (ensemble_proba).
inline std::vector<Prediction> predict(const std::vector<SavedModel>& models, const std::vector<std::string>& texts) {
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

inline void print_prediction(const std::string& text, const Prediction& p, const std::vector<std::string>& labels, bool json) {
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

inline void print_predictions(const std::vector<SavedModel>& models, const std::vector<std::string>& texts, bool json) {
  auto preds = predict(models, texts);
  for (std::size_t i = 0; i < texts.size(); ++i) print_prediction(texts[i], preds[i], models.front().labels, json);
}

inline nlohmann::json metrics_json(const Metrics& m, const std::vector<std::string>& labels) {
  nlohmann::json per;
  for (std::size_t c = 0; c < labels.size(); ++c) {
    per[labels[c]] = {{"precision", m.precision[c]}, {"recall", m.recall[c]}, {"f1", m.f1[c]}};
  }
  return {{"accuracy", m.accuracy}, {"macro_f1", m.macro_f1}, {"n", m.n},
          {"loss", m.loss},         {"labels", labels},     {"confusion", m.confusion},
          {"per_class", per}};
}

}  // namespace sentiment::cmd
