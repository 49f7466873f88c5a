// ember-sentiment: `predict`: labels for texts, with given models or the shipped ones.
#pragma once

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "commands/common.hpp"
#include "commands/eval_command.hpp"

namespace sentiment::cmd {

/// The shipped models, one per script, loaded when first needed: `predict` without --model.
class ShippedModels {
 public:
  /// `long_text`: --long-text (empty: as each file says).
  explicit ShippedModels(std::string dir, std::string long_text = {})
      : dir_(std::move(dir)), long_text_(std::move(long_text)) {}
  /// "zh" for a text with any CJK character, else "en".
  static const char* language(const std::string& text) {
    for (char32_t c : decode_utf8(text)) {
      if (is_cjk(c)) return "zh";
    }
    return "en";
  }
  /// Whether a model for `lang` ships (is in the folder).
  bool has(const std::string& lang) const {
    std::error_code ec;
    return fs::exists(path(lang), ec);
  }
  std::string path(const std::string& lang) const { return dir_ + "/" + lang + ".safetensors"; }
  const std::vector<SavedModel>& get(const std::string& lang) {
    auto& slot = models_[lang];
    if (slot.empty()) {
      if (!has(lang)) {
        throw std::runtime_error("predict: no --model given, and no shipped " + lang + " model at " + path(lang) +
                                 " for this text's script; give --model (README: the sentiment classifier)");
      }
      slot.push_back(load_model_as_asked(path(lang), long_text_));
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
  std::string dir_, long_text_;
  std::map<std::string, std::vector<SavedModel>> models_;
};

/// Lines of `in`, `batch` at a time, each at most kMaxTextBytes (a stream without newlines,
/// such as /dev/zero, is an error at the limit instead of an unbounded read). Calls
/// f(lines, their 1-based line numbers) per batch; blank lines are skipped.
template <class F>
inline void for_each_line_batch(std::istream& in, std::size_t batch, F&& f) {
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

/// `predict`: texts from the arguments, or lines from stdin a batch at a time, with the --model
/// models or, without one, the shipped model of each text's script.
inline int run_predict(const Cli& cli) {
  ShippedModels shipped(cli.models_dir, cli.long_text);
  const std::vector<SavedModel> m = cli.model_paths.empty() ? std::vector<SavedModel>() : load_models(cli);
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
        throw DataError("stdin line " + std::to_string(numbers[i]) + ": invalid UTF-8 at byte " + std::to_string(*bad) +
                        " of the line");
      }
    }
    classify(lines);
    std::fflush(stdout);
  });
  return 0;
}

}  // namespace sentiment::cmd
