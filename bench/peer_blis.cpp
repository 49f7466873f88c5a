#include "peers.hpp"

#if defined(EMBER_BENCH_BLIS)
#include <blis.h>

#include <cstdlib>

namespace peers {
namespace {
void ensure_init() {
  static const bool init = [] {
    // Debian's BLIS 0.9 does not recognise this CPU and would run its generic kernel
    // (~40 GFLOP/s); force the Skylake-X sub-configuration unless the user chose one.
    setenv("BLIS_ARCH_TYPE", "skx", 0);
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
