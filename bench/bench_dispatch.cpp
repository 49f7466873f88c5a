// bench_dispatch — ember's element-wise and row kernels as a user's default build runs them.
//
// Built without -march (unlike the other benchmarks), so every loop ember does not dispatch
// itself runs with SSE2, as it does in a program that uses find_package(ember) with default
// flags. Each case runs at every level the CPU has — generic (SSE2), avx2, avx512 — chosen with
// set_gemm_isa, the same switch as EMBER_ISA: the generic row is what the dispatch replaces.
// One thread, bytes_per_second counts compulsory traffic (inputs read once, outputs written
// once).
//
//   cmake --build build/release --target bench_dispatch && build/release/bench/bench_dispatch
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <ember/ember.hpp>

namespace {

constexpr std::int64_t kL2 = 1 << 14;    // 64 KiB of floats per operand: stays in L2
constexpr std::int64_t kRows = 8192, kWidth = 256;  // rows of the MLM step's width

const ember::Isa kLevels[] = {ember::Isa::Generic, ember::Isa::Avx2, ember::Isa::Avx512};

// Sets the level of arg 0 for the benchmark's lifetime; false (and a skip) when the CPU lacks it.
bool use_level(benchmark::State& state) {
  const ember::Isa isa = kLevels[state.range(0)];
  if (isa > ember::cpu_isa()) {
    state.SkipWithError("the CPU lacks this level");
    return false;
  }
  ember::set_gemm_isa(isa);
  ember::set_num_threads(1);
  state.SetLabel(std::string(ember::isa_name(isa)));
  return true;
}

void bytes(benchmark::State& state, double per_iteration) {
  state.SetBytesProcessed(static_cast<std::int64_t>(per_iteration * static_cast<double>(state.iterations())));
}

void BM_mul(benchmark::State& state) {
  if (!use_level(state)) return;
  ember::Generator g(1);
  const auto a = ember::randn<float>({kL2}, g), b = ember::randn<float>({kL2}, g);
  for (auto _ : state) {
    auto c = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  bytes(state, 12.0 * kL2);
}

// A float → float map (exp, tanh) over an L2-resident operand.
template <class F>
void BM_map(benchmark::State& state, F f) {
  if (!use_level(state)) return;
  ember::Generator g(1);
  const auto a = ember::randn<float>({kL2}, g);
  for (auto _ : state) {
    auto c = f(a);
    benchmark::DoNotOptimize(c.data());
  }
  bytes(state, 8.0 * kL2);
}

void BM_gelu_forward(benchmark::State& state) {
  if (!use_level(state)) return;
  ember::Generator g(1);
  const auto x = ember::randn<float>({kRows * kWidth}, g);
  std::vector<float> y(static_cast<std::size_t>(kRows * kWidth));
  for (auto _ : state) {
    ember::kernels::gelu_forward(x.data(), y.data(), kRows * kWidth);
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state, 8.0 * kRows * kWidth);
}

void BM_gelu_backward(benchmark::State& state) {
  if (!use_level(state)) return;
  ember::Generator g(1);
  const auto x = ember::randn<float>({kRows * kWidth}, g), dy = ember::randn<float>({kRows * kWidth}, g);
  std::vector<float> dx(static_cast<std::size_t>(kRows * kWidth));
  for (auto _ : state) {
    ember::kernels::gelu_backward(x.data(), dy.data(), dx.data(), kRows * kWidth);
    benchmark::DoNotOptimize(dx.data());
  }
  bytes(state, 12.0 * kRows * kWidth);
}

void BM_dropout_forward(benchmark::State& state) {
  if (!use_level(state)) return;
  ember::Generator g(1);
  const auto x = ember::randn<float>({kRows * kWidth}, g);
  std::vector<float> y(static_cast<std::size_t>(kRows * kWidth));
  std::vector<std::uint8_t> keep(y.size());
  std::uint64_t seed = 1;
  for (auto _ : state) {
    ember::kernels::dropout_forward(x.data(), y.data(), keep.data(), kRows * kWidth, 0.1, seed++);
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state, 9.0 * kRows * kWidth);  // x read, y and a one-byte mask written
}

void BM_softmax_rows(benchmark::State& state) {
  if (!use_level(state)) return;
  ember::Generator g(1);
  const auto x = ember::randn<float>({kRows, kWidth}, g);
  std::vector<float> y(static_cast<std::size_t>(kRows * kWidth));
  for (auto _ : state) {
    ember::detail::softmax_rows(x.data(), y.data(), kRows, kWidth, false);
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state, 8.0 * kRows * kWidth);
}

void BM_layer_norm_forward(benchmark::State& state) {
  if (!use_level(state)) return;
  ember::Generator g(1);
  const auto x = ember::randn<float>({kRows, kWidth}, g);
  std::vector<float> y(static_cast<std::size_t>(kRows * kWidth)), h(y.size()), rstd(kRows);
  std::vector<float> w(kWidth, 1.0f), b(kWidth, 0.0f);
  for (auto _ : state) {
    ember::kernels::layer_norm_forward(x.data(), w.data(), b.data(), y.data(), h.data(), rstd.data(),
                                      kRows, kWidth, 1e-5);
    benchmark::DoNotOptimize(y.data());
  }
  bytes(state, 12.0 * kRows * kWidth);  // x read, y and x̂ written
}

void BM_layer_norm_backward(benchmark::State& state) {
  if (!use_level(state)) return;
  ember::Generator g(1);
  const auto dy = ember::randn<float>({kRows, kWidth}, g), h = ember::randn<float>({kRows, kWidth}, g);
  std::vector<float> dx(static_cast<std::size_t>(kRows * kWidth)), rstd(kRows, 1.0f), w(kWidth, 1.0f);
  for (auto _ : state) {
    ember::kernels::layer_norm_backward_input(dy.data(), w.data(), h.data(), rstd.data(), dx.data(),
                                             kRows, kWidth);
    benchmark::DoNotOptimize(dx.data());
  }
  bytes(state, 12.0 * kRows * kWidth);
}

// Fused attention forward + backward (the kernel of scaled_dot_product_attention) at the MLM
// step's shape per sequence (4 heads of 64, 128 positions), 8 sequences, dropout 0.1: its row
// softmax, dropout and dS loops run in the widest copy; the GEMMs dispatch on their own.
// items/s counts attention weights (B·H·T·T) per second.
void BM_attention(benchmark::State& state) {
  if (!use_level(state)) return;
  constexpr std::int64_t B = 8, H = 4, T = 128, d = 64;
  ember::Generator g(1);
  const auto q = ember::randn<float>({B, T, H * d}, g), k = ember::randn<float>({B, T, H * d}, g),
             v = ember::randn<float>({B, T, H * d}, g), dout = ember::randn<float>({B, T, H * d}, g);
  ember::kernels::AttentionArgs<float> a;
  a.B = B;
  a.H = H;
  a.Tq = a.Tk = T;
  a.dk = a.dv = d;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.q_sb = a.k_sb = a.v_sb = T * H * d;
  a.q_st = a.k_st = a.v_st = H * d;
  a.scale = 0.125f;
  a.dropout = 0.1;
  std::vector<float> out(static_cast<std::size_t>(B * T * H * d)), probs(static_cast<std::size_t>(B * H * T * T));
  std::vector<float> dq(out.size()), dk(out.size()), dv(out.size());
  std::vector<std::uint8_t> keep(probs.size());
  for (auto _ : state) {
    ++a.seed;
    ember::kernels::attention_forward(a, out.data(), probs.data(), keep.data());
    ember::kernels::attention_backward(a, dout.data(), probs.data(), keep.data(), dq.data(), dk.data(), dv.data());
    benchmark::DoNotOptimize(dq.data());
  }
  state.SetItemsProcessed(state.iterations() * B * H * T * T);
}

}  // namespace

#define EMBER_LEVELS ->ArgName("isa")->DenseRange(0, 2)
BENCHMARK(BM_mul) EMBER_LEVELS;
BENCHMARK_CAPTURE(BM_map, exp, [](const ember::Tensor<float>& a) { return ember::exp(a); }) EMBER_LEVELS;
BENCHMARK_CAPTURE(BM_map, tanh, [](const ember::Tensor<float>& a) { return ember::tanh(a); }) EMBER_LEVELS;
BENCHMARK(BM_gelu_forward) EMBER_LEVELS;
BENCHMARK(BM_gelu_backward) EMBER_LEVELS;
BENCHMARK(BM_dropout_forward) EMBER_LEVELS;
BENCHMARK(BM_softmax_rows) EMBER_LEVELS;
BENCHMARK(BM_layer_norm_forward) EMBER_LEVELS;
BENCHMARK(BM_layer_norm_backward) EMBER_LEVELS;
BENCHMARK(BM_attention) EMBER_LEVELS;

BENCHMARK_MAIN();
