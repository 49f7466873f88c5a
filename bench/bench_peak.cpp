// bench_peak — the machine's ceilings: fp32 FMA throughput per ISA (1 and 2 threads) and a
// STREAM-like triad for memory bandwidth. GEMM and element-wise results are read against these.
//
//   build/release/bench/bench_peak
#include <benchmark/benchmark.h>

#include <vector>

#include "peak.hpp"

namespace {

void BM_fma(benchmark::State& state, ember::Isa isa) {
  const int threads = static_cast<int>(state.range(0));
  if (ember::cpu_isa() < isa) {
    state.SkipWithError("this CPU lacks the ISA");
    return;
  }
  double g = 0;
  for (auto _ : state) g = bench::measure_fma_gflops(isa, threads);
  state.counters["GFLOPS"] = g;
}

// The bf16 and int8 ceilings: AMX tile products where the OS grants them, else the AVX-512
// dot-product instructions. Counter GFLOPS (GOP/s for int8); the label names the instruction.
void BM_lowp(benchmark::State& state, bool int8) {
  const int threads = static_cast<int>(state.range(0));
  std::string what;
  double g = 0;
  for (auto _ : state) g = bench::measure_lowp_peak(int8, threads, &what);
  if (what == "none") {
    state.SkipWithError("this CPU has no bf16/int8 dot-product instruction");
    return;
  }
  state.SetLabel(what);
  state.counters["GFLOPS"] = g;
}

// a[i] = b[i] + s·c[i] over 3 arrays of 32 MiB each: out of every cache.
void BM_triad(benchmark::State& state) {
  const std::int64_t n = 8 << 20;
  const int threads = static_cast<int>(state.range(0));
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  for (auto _ : state) {
#if EMBER_HAS_OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (std::int64_t i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      a[u] = b[u] + 3.0f * c[u];
    }
    benchmark::DoNotOptimize(a.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 12);
}

}  // namespace

BENCHMARK_CAPTURE(BM_fma, avx512, ember::Isa::Avx512)->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_fma, avx2, ember::Isa::Avx2)->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_lowp, bf16, false)->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_lowp, int8, true)->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
BENCHMARK(BM_triad)->Arg(1)->Arg(2)->UseRealTime();

BENCHMARK_MAIN();
