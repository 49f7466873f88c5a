#include "peers.hpp"

#if defined(EMBER_BENCH_OPENBLAS)
#include <cblas.h>

extern "C" char* openblas_get_corename(void);

namespace peers {
bool have_openblas() {
  return true;
}
void openblas_sgemm(int m, int n, int k, const float* a, const float* b, float* c, int threads) {
  openblas_set_num_threads(threads);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}
std::string openblas_core() {
  return openblas_get_corename();
}
}  // namespace peers
#else
namespace peers {
bool have_openblas() {
  return false;
}
void openblas_sgemm(int, int, int, const float*, const float*, float*, int) {}
std::string openblas_core() {
  return "not found";
}
}  // namespace peers
#endif
