// ember-sentiment: `vocab`: learns a SentencePiece vocabulary.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "commands/common.hpp"

namespace sentiment::cmd {

/// `vocab`: learns a SentencePiece vocabulary and writes it as a one-tensor safetensors file.
inline int run_vocab(const Cli& cli) {
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

}  // namespace sentiment::cmd
