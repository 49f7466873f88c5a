// libFuzzer target: the dataset readers — gzip detection and inflation, the tsv, glue, csv
// (RFC 4180 quoting), fasttext, text and sst2 (Penn Treebank tokens joined back) formats, labels, UTF-8 checks and the per-text limit.
// The first byte picks the format and strictness; the rest is the file. Any bytes must parse or
// raise DataError, and whatever parses must be valid UTF-8 texts with labels 0 or 1.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using sentiment::Format;
  static constexpr Format kFormats[] = {Format::Auto,     Format::Tsv,  Format::Glue, Format::Csv,
                                        Format::FastText, Format::Text, Format::Sst2};
  const sentiment::ReadOptions opt{kFormats[data[0] % 7], (data[0] & 0x80) != 0};
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  sentiment::ReadReport rep;
  try {
    // A small decompression limit: the bomb check runs on inputs the fuzzer can make.
    auto out = sentiment::parse_dataset(sentiment::gunzip_if_compressed(std::move(bytes), "fuzz", 1 << 20),
                                        "fuzz", opt, rep);
    for (const auto& e : out) {
      if ((e.label != 0 && e.label != 1) || sentiment::find_invalid_utf8(e.text) || e.text.empty() ||
          static_cast<std::int64_t>(e.text.size()) > sentiment::kMaxTextBytes) {
        std::abort();
      }
    }
    if (rep.rows != static_cast<std::int64_t>(out.size())) std::abort();
  } catch (const sentiment::DataError&) {
  }
  return 0;
}
