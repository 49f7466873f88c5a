// bench_elementwise — memory-bound element-wise ops and reductions, in GB/s, beside Eigen.
//
// Bytes counted are the compulsory traffic: inputs read once plus output written once
// (e.g. c = a + b on n floats moves 12n bytes). The ceiling is the machine's STREAM triad
// (../shared/MACHINE.md: ≈ 41 GB/s on one core, ≈ 50 on two); tensors of 16 MiB+ per operand
// are out of cache, so those rows are bandwidth-bound; the 256 KiB rows show in-cache speed.
//
//   cmake --build build --target bench_elementwise && ./build/bench/bench_elementwise
#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include <cmath>

#include <ember/eigen.hpp>
#include <ember/ember.hpp>

namespace {

void set_bytes(benchmark::State& state, std::int64_t bytes_per_iter) {
  state.SetBytesProcessed(state.iterations() * bytes_per_iter);
}

void BM_ember_add(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  ember::set_num_threads(static_cast<int>(state.range(1)));
  ember::Generator g(1);
  auto a = ember::rand({n}, g), b = ember::rand({n}, g);
  auto c = ember::empty({n});
  for (auto _ : state) {
    c.copy_(a);
    ember::add_(c, b);  // in place: no allocation inside the timed loop
    benchmark::DoNotOptimize(c.data());
  }
  set_bytes(state, n * 4 * 5);  // copy (r+w) + add_ (2r+w)
}

void BM_ember_add_alloc(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  ember::set_num_threads(static_cast<int>(state.range(1)));
  ember::Generator g(1);
  auto a = ember::rand({n}, g), b = ember::rand({n}, g);
  for (auto _ : state) {
    auto c = a + b;  // includes allocating the result, as user code does
    benchmark::DoNotOptimize(c.data());
  }
  set_bytes(state, n * 4 * 3);
}

// The same with the caching allocator off: every result comes from (and goes back to) the
// system allocator, and a large one is faulted in page by page (core/allocator.hpp).
void BM_ember_add_alloc_system(benchmark::State& state) {
  const bool was = ember::allocator_caching();
  ember::set_allocator_caching(false);
  BM_ember_add_alloc(state);
  ember::set_allocator_caching(was);
}

void BM_eigen_add(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Eigen::ArrayXf a = Eigen::ArrayXf::Random(n), b = Eigen::ArrayXf::Random(n), c(n);
  for (auto _ : state) {
    c = a + b;
    benchmark::DoNotOptimize(c.data());
  }
  set_bytes(state, n * 4 * 3);
}

void BM_ember_sum(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  ember::set_num_threads(static_cast<int>(state.range(1)));
  ember::Generator g(1);
  auto a = ember::rand({n}, g);
  for (auto _ : state) benchmark::DoNotOptimize(ember::sum(a).item());
  set_bytes(state, n * 4);
}

void BM_eigen_sum(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Eigen::ArrayXf a = Eigen::ArrayXf::Random(n);
  for (auto _ : state) benchmark::DoNotOptimize(a.sum());
  set_bytes(state, n * 4);
}

void BM_ember_exp(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  ember::set_num_threads(static_cast<int>(state.range(1)));
  ember::Generator g(1);
  auto a = ember::rand({n}, g);
  for (auto _ : state) {
    auto c = ember::exp(a);
    benchmark::DoNotOptimize(c.data());
  }
  set_bytes(state, n * 4 * 2);
}

void BM_eigen_exp(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Eigen::ArrayXf a = Eigen::ArrayXf::Random(n), c(n);
  for (auto _ : state) {
    c = a.exp();
    benchmark::DoNotOptimize(c.data());
  }
  set_bytes(state, n * 4 * 2);
}

void BM_ember_softmax_rows(benchmark::State& state) {
  const std::int64_t rows = state.range(0), cols = 512;
  ember::set_num_threads(static_cast<int>(state.range(1)));
  ember::Generator g(1);
  auto a = ember::randn({rows, cols}, g);
  for (auto _ : state) {
    auto p = ember::softmax(a, -1);
    benchmark::DoNotOptimize(p.data());
  }
  set_bytes(state, rows * cols * 4 * 2);
}

// GELU forward (fresh result, as the op produces it) and backward (dx = dy·gelu'(x) into a
// preallocated buffer: two reads, one write), against the same loop over libm's erf.
void BM_ember_gelu(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  ember::set_num_threads(static_cast<int>(state.range(1)));
  ember::Generator g(1);
  auto a = ember::randn({n}, g);
  for (auto _ : state) {
    auto c = ember::gelu(a);
    benchmark::DoNotOptimize(c.data());
  }
  set_bytes(state, n * 4 * 2);
}

void BM_ember_gelu_backward(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  ember::set_num_threads(static_cast<int>(state.range(1)));
  ember::Generator g(1);
  auto x = ember::randn({n}, g), dy = ember::randn({n}, g), dx = ember::empty({n});
  for (auto _ : state) {
    ember::kernels::gelu_backward(x.data(), dy.data(), dx.data(), n);
    benchmark::DoNotOptimize(dx.data());
  }
  set_bytes(state, n * 4 * 3);
}

void BM_libm_gelu(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  ember::Generator g(1);
  auto a = ember::randn({n}, g), c = ember::empty({n});
  const float* x = a.data();
  float* y = c.data();
  for (auto _ : state) {
    for (std::int64_t i = 0; i < n; ++i)
      y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678f));
    benchmark::DoNotOptimize(y);
  }
  set_bytes(state, n * 4 * 2);
}

void BM_ember_tanh(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  ember::set_num_threads(static_cast<int>(state.range(1)));
  ember::Generator g(1);
  auto a = ember::randn({n}, g);
  for (auto _ : state) {
    auto c = ember::tanh(a);
    benchmark::DoNotOptimize(c.data());
  }
  set_bytes(state, n * 4 * 2);
}

constexpr std::int64_t kSmall = 1 << 16;  // 256 KiB per operand: in L2
constexpr std::int64_t kLarge = 1 << 22;  // 16 MiB per operand: out of L2, STREAM-like

}  // namespace

BENCHMARK(BM_ember_add)->Args({kSmall, 1})->Args({kLarge, 1})->Args({kLarge, 2})->UseRealTime();
BENCHMARK(BM_ember_add_alloc)
    ->Args({kSmall, 1})
    ->Args({kLarge, 1})
    ->Args({kLarge, 2})
    ->UseRealTime();
BENCHMARK(BM_ember_add_alloc_system)->Args({kLarge, 1})->Args({kLarge, 2})->UseRealTime();
BENCHMARK(BM_eigen_add)->Arg(kSmall)->Arg(kLarge)->UseRealTime();
BENCHMARK(BM_ember_sum)->Args({kSmall, 1})->Args({kLarge, 1})->Args({kLarge, 2})->UseRealTime();
BENCHMARK(BM_eigen_sum)->Arg(kSmall)->Arg(kLarge)->UseRealTime();
BENCHMARK(BM_ember_exp)->Args({kSmall, 1})->Args({kLarge, 1})->Args({kLarge, 2})->UseRealTime();
BENCHMARK(BM_eigen_exp)->Arg(kSmall)->Arg(kLarge)->UseRealTime();
BENCHMARK(BM_ember_softmax_rows)->Args({64, 1})->Args({8192, 1})->Args({8192, 2})->UseRealTime();

BENCHMARK(BM_ember_gelu)->Args({kSmall, 1})->Args({kLarge, 1})->Args({kLarge, 2})->UseRealTime();
BENCHMARK(BM_ember_gelu_backward)
    ->Args({kSmall, 1})
    ->Args({kLarge, 1})
    ->Args({kLarge, 2})
    ->UseRealTime();
BENCHMARK(BM_libm_gelu)->Arg(kSmall)->Arg(kLarge)->UseRealTime();
BENCHMARK(BM_ember_tanh)->Args({kSmall, 1})->Args({kLarge, 1})->Args({kLarge, 2})->UseRealTime();

BENCHMARK_MAIN();
