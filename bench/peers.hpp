// bench/peers.hpp — the GEMM libraries ember is measured against, behind plain functions so
// each lives in its own translation unit (OpenBLAS's and BLIS's headers both declare cblas_*).
#pragma once

#include <string>

namespace peers {

bool have_openblas();
/// Row-major C = A·B (m×k · k×n) on `threads` threads.
void openblas_sgemm(int m, int n, int k, const float* a, const float* b, float* c, int threads);
std::string openblas_core();

bool have_blis();
void blis_sgemm(int m, int n, int k, const float* a, const float* b, float* c, int threads);
std::string blis_arch();

/// oneDNN's matmul: bf16·bf16 → f32 or u8·s8 → s32, row-major, B plain or pre-packed once.
struct OnednnGemm;
bool have_onednn();
/// nullptr, with the reason in *error, where oneDNN has no such matmul for this CPU (its bf16
/// matmul needs AVX-512: on an AVX2-only CPU the primitive descriptor is refused).
OnednnGemm* onednn_create(int m, int n, int k, bool int8, bool prepacked, const void* a,
                          const void* b, void* c, int threads, std::string* error);
void onednn_run(OnednnGemm* g);
void onednn_destroy(OnednnGemm* g);
std::string onednn_version();

}  // namespace peers
