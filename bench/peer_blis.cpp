#include "peers.hpp"

#if defined(EMBER_BENCH_BLIS)
#include <blis.h>

#include <cstdlib>
#include <string>

namespace peers {
namespace {
void ensure_init() {
  static const bool init = [] {
    // Debian's BLIS 0.9 does not recognise the AVX-512 CPUs of this project (Zen 5, a
    // family-6 model-167 Xeon) and would run its generic kernel (~40 GFLOP/s), so on a CPU
    // with Skylake-X's AVX-512 subsets the skx sub-configuration is forced, unless the user
    // chose one. Elsewhere BLIS's own detection stands (a Zen 3 without AVX-512 is found as
    // zen3; forcing skx there dies of SIGILL). BLIS 0.9 reads BLIS_ARCH_TYPE as the number of
    // an arch_t (a name reads as 0), hence the enum's value, not "skx".
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
      setenv("BLIS_ARCH_TYPE", std::to_string(static_cast<int>(BLIS_ARCH_SKX)).c_str(), 0);
    }
    bli_init();
    return true;
  }();
  (void)init;
}
}  // namespace

bool have_blis() {
  return true;
}
void blis_sgemm(int m, int n, int k, const float* a, const float* b, float* c, int threads) {
  ensure_init();
  bli_thread_set_num_threads(threads);
  float alpha = 1.0f, beta = 0.0f;
  bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, const_cast<float*>(a), k, 1,
            const_cast<float*>(b), n, 1, &beta, c, n, 1);
}
std::string blis_arch() {
  ensure_init();
  return bli_arch_string(bli_arch_query_id());
}
}  // namespace peers
#else
namespace peers {
bool have_blis() {
  return false;
}
void blis_sgemm(int, int, int, const float*, const float*, float*, int) {}
std::string blis_arch() {
  return "not found";
}
}  // namespace peers
#endif
