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
#include <cstdint>
#include <vector>

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

// ---- The nn kernel layer (kernels/*.hpp), at the MLM pretraining step's shapes --------------
// Batch 64 × 128 positions = 8192 rows of d 256 (layer norm, embedding), the MLM head's 15%
// of them (1229 rows) over a vocabulary of 8000 (cross-entropy), the ffn's 8192 × 1024
// activations (dropout), the encoder's 5.3M parameters (AdamW). Bytes counted are what each
// kernel reads and writes once, as the roofline counts them (README, "Roofline").

// Layer norm forward: reads x, writes y and x̂ (kept for the backward): 12 bytes per element.
void BM_kernel_layer_norm_forward(benchmark::State& state) {
  const std::int64_t R = 8192, D = 256;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto x = ember::randn({R, D}, g), w = ember::randn({D}, g), b = ember::randn({D}, g);
  auto y = ember::empty({R, D}), xhat = ember::empty({R, D}), rstd = ember::empty({R});
  for (auto _ : state) {
    ember::kernels::layer_norm_forward(x.data(), w.data(), b.data(), y.data(), xhat.data(), rstd.data(), R, D, 1e-5);
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, R * D * 4 * 3);
}

// Layer norm backward for dx: reads dy and x̂, writes dx: 12 bytes per element.
void BM_kernel_layer_norm_backward(benchmark::State& state) {
  const std::int64_t R = 8192, D = 256;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto dy = ember::randn({R, D}, g), xhat = ember::randn({R, D}, g), w = ember::randn({D}, g);
  auto rstd = ember::rand({R}, g), dx = ember::empty({R, D});
  for (auto _ : state) {
    ember::kernels::layer_norm_backward_input(dy.data(), w.data(), xhat.data(), rstd.data(), dx.data(), R, D);
    benchmark::DoNotOptimize(dx.data());
  }
  set_bytes(state, R * D * 4 * 3);
}

// Softmax cross-entropy forward: reads the logits, writes the probabilities: 8 bytes per logit.
void BM_kernel_cross_entropy_forward(benchmark::State& state) {
  const std::int64_t N = 1229, C = 8000;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto x = ember::randn({N, C}, g), probs = ember::empty({N, C});
  auto t = ember::randint(0, C, {N}, g);
  std::vector<double> loss(static_cast<std::size_t>(N));
  for (auto _ : state) {
    ember::kernels::cross_entropy_forward(x.data(), t.data(), N, C, -100, 0.0, probs.data(), loss.data());
    benchmark::DoNotOptimize(probs.data());
  }
  set_bytes(state, N * C * 4 * 2);
}

// Its backward: reads the probabilities, writes dx: 8 bytes per logit.
void BM_kernel_cross_entropy_backward(benchmark::State& state) {
  const std::int64_t N = 1229, C = 8000;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto probs = ember::rand({N, C}, g), dx = ember::empty({N, C});
  auto t = ember::randint(0, C, {N}, g);
  for (auto _ : state) {
    ember::kernels::cross_entropy_backward(probs.data(), t.data(), N, C, -100, 0.0, 1.0f / static_cast<float>(N), dx.data());
    benchmark::DoNotOptimize(dx.data());
  }
  set_bytes(state, N * C * 4 * 2);
}

// Dropout forward with its mask drawn (Philox) and kept: reads x, writes y and one byte of mask
// per element: 9 bytes per element.
void BM_kernel_dropout_forward(benchmark::State& state) {
  const std::int64_t n = 8192 * 1024;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto x = ember::randn({n}, g), y = ember::empty({n});
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(n));
  std::uint64_t seed = 1;
  for (auto _ : state) {
    ember::kernels::dropout_forward(x.data(), y.data(), keep.data(), n, 0.1, seed++);
    benchmark::DoNotOptimize(y.data());
  }
  set_bytes(state, n * 9);
}

// Its backward: reads dy and the mask, writes dx: 9 bytes per element.
void BM_kernel_dropout_backward(benchmark::State& state) {
  const std::int64_t n = 8192 * 1024;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto dy = ember::randn({n}, g), dx = ember::empty({n}), x = ember::empty({n});
  std::vector<std::uint8_t> keep(static_cast<std::size_t>(n));
  ember::kernels::dropout_forward(dy.data(), x.data(), keep.data(), n, 0.1, 7);
  for (auto _ : state) {
    ember::kernels::dropout_backward(dy.data(), keep.data(), dx.data(), n, 0.1);
    benchmark::DoNotOptimize(dx.data());
  }
  set_bytes(state, n * 9);
}

// Embedding gather: reads a row of the table per id, writes the output: 8 bytes per element out.
void BM_kernel_embedding_forward(benchmark::State& state) {
  const std::int64_t V = 8000, D = 256, n = 8192;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto w = ember::randn({V, D}, g), out = ember::empty({n, D});
  auto ids = ember::randint(0, V, {n}, g);
  for (auto _ : state) {
    ember::kernels::embedding_forward(w.data(), D, ids.data(), n, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state, n * D * 4 * 2);
}

// Its scatter-add into the dense table gradient: reads dout, reads and writes a table row per
// id: 12 bytes per element of dout.
void BM_kernel_embedding_backward(benchmark::State& state) {
  const std::int64_t V = 8000, D = 256, n = 8192;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto dout = ember::randn({n, D}, g), dw = ember::zeros({V, D});
  auto ids = ember::randint(0, V, {n}, g);
  for (auto _ : state) {
    ember::kernels::embedding_backward(dout.data(), D, ids.data(), n, dw.data());
    benchmark::DoNotOptimize(dw.data());
  }
  set_bytes(state, n * D * 4 * 3);
}

// One AdamW step over the encoder's parameters: reads w, g, m, v, writes w, m, v: 28 bytes each.
void BM_kernel_adamw(benchmark::State& state) {
  const std::int64_t n = 5315138;
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Generator g(1);
  auto w = ember::randn({n}, g), grad = ember::randn({n}, g), m = ember::zeros({n}), v = ember::zeros({n});
  const ember::kernels::AdamStep s{.decay = 1 - 5e-4f * 0.01f, .l2 = 0, .b1 = 0.9f, .b2 = 0.999f,
                                  .step_size = 5e-4f, .inv_sqrt_bc2 = 1.0f, .eps = 1e-8f};
  for (auto _ : state) {
    ember::kernels::adam_update_parallel(w.data(), grad.data(), m.data(), v.data(), n, s);
    benchmark::DoNotOptimize(w.data());
  }
  set_bytes(state, n * 28);
}

// Conv1d's unfold (im2col) at the example cnn's shape (batch 32, 128 channels, length 64,
// width 3): reads x once per tap, writes the columns: 8 bytes per column element.
void BM_kernel_conv1d_unfold(benchmark::State& state) {
  ember::set_num_threads(static_cast<int>(state.range(0)));
  ember::Conv1dGeometry geo{.B = 32, .C = 128, .L = 64, .K = 3, .stride = 1, .padding = 0, .dilation = 1, .l_out = 62};
  ember::Generator g(1);
  auto x = ember::randn({geo.B, geo.C, geo.L}, g), cols = ember::empty({geo.B * geo.l_out, geo.C * geo.K});
  for (auto _ : state) {
    ember::kernels::conv1d_unfold(x.data(), geo, cols.data());
    benchmark::DoNotOptimize(cols.data());
  }
  set_bytes(state, geo.B * geo.l_out * geo.C * geo.K * 4 * 2);
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


BENCHMARK(BM_kernel_layer_norm_forward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_layer_norm_backward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_cross_entropy_forward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_cross_entropy_backward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_dropout_forward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_dropout_backward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_embedding_forward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_embedding_backward)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_adamw)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_kernel_conv1d_unfold)->Arg(1)->Arg(2)->UseRealTime();

BENCHMARK_MAIN();
