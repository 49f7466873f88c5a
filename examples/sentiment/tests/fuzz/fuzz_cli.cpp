// libFuzzer target: ember-sentiment's command line. The input is split at NUL bytes into
// arguments and parsed with the real option definitions (cli.hpp), then the checks across
// options run. Parsing must accept or raise CLI::ParseError / std::runtime_error, never crash,
// and an accepted numeric option must lie in its range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  std::string cur;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(cur);
  if (args.size() > 64) return 0;
  sentiment::Cli cli("data");
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11's order
  try {
    cli.app.parse(reversed);
    cli.check();
  } catch (const CLI::Error&) {
    return 0;
  } catch (const std::runtime_error&) {
    return 0;
  }
  const auto& o = cli.ta.opt;
  if (*cli.train && (o.batch < 1 || o.epochs < 1 || !(o.lr > 0) || !(o.lr <= 10) || cli.ta.dim < 0 ||
                     cli.ta.buckets > sentiment::ModelConfig::kMaxBuckets)) {
    std::abort();
  }
  return 0;
}
