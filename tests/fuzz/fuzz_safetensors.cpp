// libFuzzer target for the safetensors loader: any bytes must either parse or raise
// ember::Error — never crash, hang, or read out of bounds (built with AddressSanitizer).
//   cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DEMBER_BUILD_FUZZERS=ON
//   scripts/fuzz.sh safetensors     (or: build/fuzz/tests/fuzz_safetensors -max_total_time=60)
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <ember/io/safetensors.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    ember::io::parse_safetensors(std::string_view(reinterpret_cast<const char*>(data), size),
                                 "fuzz");
  } catch (const ember::Error&) {
  }
  return 0;
}
