// oneDNN (Debian libdnnl-dev) as the bf16 and int8 peer: a matmul primitive built once per
// benchmark, with B either plain (row-major; oneDNN reorders it inside every call) or
// pre-packed once into the layout the primitive prefers (format tag any), as inference with
// constant weights runs it.
#include "peers.hpp"

#if defined(EMBER_BENCH_ONEDNN)
#include <dnnl.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace peers {

struct OnednnGemm {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{eng};
  dnnl::matmul prim;
  dnnl::memory a, b, c;
  int threads = 1;
};

bool have_onednn() {
  return true;
}

OnednnGemm* onednn_create(int m, int n, int k, bool int8, bool prepacked, const void* a,
                          const void* b, void* c, int threads, std::string* error) try {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  auto* g = new OnednnGemm;
  g->threads = threads;
  const dt ta = int8 ? dt::u8 : dt::bf16, tb = int8 ? dt::s8 : dt::bf16, tc = int8 ? dt::s32 : dt::f32;
  dnnl::memory::desc a_md({m, k}, ta, tag::ab), b_user_md({k, n}, tb, tag::ab),
      c_md({m, n}, tc, tag::ab);
  dnnl::memory::desc b_md = prepacked ? dnnl::memory::desc({k, n}, tb, tag::any) : b_user_md;
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), g->eng);
  g->prim = dnnl::matmul(pd);
  g->a = dnnl::memory(a_md, g->eng, const_cast<void*>(a));
  g->c = dnnl::memory(c_md, g->eng, c);
  dnnl::memory b_user(b_user_md, g->eng, const_cast<void*>(b));
  if (prepacked && pd.weights_desc() != b_user_md) {
    g->b = dnnl::memory(pd.weights_desc(), g->eng);
    dnnl::reorder(b_user, g->b).execute(g->stream, b_user, g->b);
    g->stream.wait();
  } else {
    g->b = b_user;
  }
  return g;
} catch (const dnnl::error& e) {
  *error = std::string("oneDNN ") + onednn_version() + " has no " + (int8 ? "u8·s8" : "bf16") +
           " matmul for this CPU (" + e.what() + ")";
  return nullptr;
}

void onednn_run(OnednnGemm* g) {
#if defined(_OPENMP)
  omp_set_num_threads(g->threads);
#endif
  g->prim.execute(g->stream, {{DNNL_ARG_SRC, g->a}, {DNNL_ARG_WEIGHTS, g->b}, {DNNL_ARG_DST, g->c}});
  g->stream.wait();
}

void onednn_destroy(OnednnGemm* g) {
  delete g;
}

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace peers
#else
namespace peers {
struct OnednnGemm {};
bool have_onednn() {
  return false;
}
OnednnGemm* onednn_create(int, int, int, bool, bool, const void*, const void*, void*, int,
                          std::string* error) {
  *error = "oneDNN was not found at configure time";
  return nullptr;
}
void onednn_run(OnednnGemm*) {}
void onednn_destroy(OnednnGemm*) {}
std::string onednn_version() {
  return "not found";
}
}  // namespace peers
#endif
