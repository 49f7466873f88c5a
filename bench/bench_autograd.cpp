// bench_autograd — what training costs beyond the arithmetic.
//
//   * autograd/op_overhead: forward + backward of one element-wise op on 4-element tensors, the
//     fixed cost autograd adds per op (graph node, saved tensors, engine walk); reported as
//     time_per_op (one op = one forward plus its backward).
//   * mlp/step: forward + backward + AdamW step of a 2-layer MLP, batch 64, 784 → 256 → 10
//     (MNIST-sized), in GFLOP/s of the three GEMMs per layer (forward, dX, dW).
//   * encoder/step: forward + backward + AdamW step of one pre-norm TransformerEncoderLayer with
//     batch 32, sequence 64, d_model 128, 4 heads, ffn 512 (the shape), in GFLOP/s of
//     its matrix products and % of the machine's fp32 peak.
//
//   * encoder/step_contended: the same step beside a busy process (contention.hpp).
//   * encoder/step_bf16: the same step under MatmulPrecisionGuard(Precision::bf16).
//   * encoder/step_p0, step_bf16_p0: the same steps without dropout (the pretraining setting),
//     where both residual adds are fused into the GEMMs before them.
//   * ffn/{fused,composed}: the feed-forward block x + linear2(gelu(linear1(x))) alone,
//     forward + backward, at the encoder/step shape: linear_gelu and linear_residual (the GEMM
//     epilogues) against the three ops they replace.
//   * attention/{fused,composed}: attention alone (forward + backward, padding mask, dropout 0.1),
//     the fused op against the composed graph it replaced, at the encoder/step shape and at the
//     pretraining shape (batch 64, length 128, width 256).
//   * linear_stack/{fp32,int8_dynamic}: inference of 768 → 3072 → 768 at batch 64, fp32 and
//     dynamically quantised.
//
//   cmake --build build/release --target bench_autograd && build/release/bench/bench_autograd
#include <benchmark/benchmark.h>

#include <optional>

#include <ember/ember.hpp>

#include "contention.hpp"
#include "peak.hpp"

namespace {

namespace nn = ember::nn;

void BM_op_overhead(benchmark::State& state) {
  ember::set_num_threads(1);
  ember::Var<float> a(ember::ones<float>({4}), true), b(ember::ones<float>({4}), true);
  const int ops = 8;
  for (auto _ : state) {
    ember::Var<float> x = a;
    for (int i = 0; i < ops - 1; ++i) x = x * b;  // 7 muls + 1 sum per iteration
    ember::sum(x).backward();
    benchmark::DoNotOptimize(a.grad().data());
  }
  // Seconds per op (shown with an SI prefix: 250n = 250 ns).
  state.counters["time_per_op"] = benchmark::Counter(
      ops, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void report_flops(benchmark::State& state, double flops_per_step, int threads) {
  const double flops = flops_per_step * static_cast<double>(state.iterations());
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
  state.counters["peak_pct"] = benchmark::Counter(
      flops * 1e-9 * 100.0 / bench::peak_gflops(threads), benchmark::Counter::kIsRate);
}

void BM_mlp_step(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ember::set_num_threads(threads);
  ember::Generator g(1);
  const std::int64_t B = 64, I = 784, H = 256, O = 10;
  nn::Sequential<float> mlp{std::make_shared<nn::Linear<float>>(I, H, true, g),
                            std::make_shared<nn::ReLU<float>>(),
                            std::make_shared<nn::Linear<float>>(H, O, true, g)};
  ember::optim::AdamW<float> opt(mlp.parameters(), {.lr = 1e-3});
  ember::Var<float> x(ember::randn<float>({B, I}, g));
  const auto y = ember::randint<std::int64_t>(0, O, {B}, g);
  for (auto _ : state) {
    auto loss = ember::cross_entropy(mlp(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.data().data());
  }
  // Forward, dX (not for the first layer: x needs no gradient) and dW GEMMs, 2 flops per MAC.
  report_flops(state, 2.0 * B * (I * H * 2 + H * O * 3), threads);
}

void BM_encoder_step(benchmark::State& state, ember::Precision precision, bool contended = false,
                     double dropout = 0.1) {
  const int threads = static_cast<int>(state.range(0));
  std::optional<bench::BusyProcess> competitor;
  if (contended) competitor.emplace();
  ember::set_num_threads(threads);
  ember::MatmulPrecisionGuard guard(precision);
  ember::Generator g(2);
  const std::int64_t B = 32, T = 64, D = 128, F = 512, H = 4;
  nn::TransformerEncoderLayer<float> layer(
      {.d_model = D, .heads = H, .ffn = F, .dropout = dropout}, g);
  ember::optim::AdamW<float> opt(layer.parameters(), {.lr = 1e-3});
  ember::Var<float> x(ember::randn<float>({B, T, D}, g), true);
  ember::Tensor<bool> pad = ember::zeros<bool>({B, T});
  for (std::int64_t b = 0; b < B; b += 2) pad.narrow(0, b, 1).narrow(1, T / 2, T / 2).fill_(true);
  for (auto _ : state) {
    auto loss = ember::mean(ember::square(layer(x, pad)));
    opt.zero_grad();
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.data().data());
  }
  // Matrix products, forward: q/k/v/o projections 4·N·D², scores and context 2·B·T²·D,
  // feed-forward 2·N·D·F (N = B·T); backward does twice the forward. 2 flops per MAC.
  const double N = static_cast<double>(B * T);
  const double fwd_macs = 4 * N * D * D + 2.0 * B * T * T * D + 2 * N * D * F;
  report_flops(state, 2.0 * 3 * fwd_macs, threads);
}

// The feed-forward block alone (N = 2048 rows, D 128, F 512), forward + backward into x and the
// four parameters: fused (GELU and the residual add in the GEMMs' epilogues) or composed.
void BM_ffn(benchmark::State& state, bool fused) {
  const int threads = static_cast<int>(state.range(0));
  ember::set_num_threads(threads);
  ember::Generator g(4);
  const std::int64_t N = 2048, D = 128, F = 512;
  using V = ember::Var<float>;
  V x(ember::randn<float>({N, D}, g), true);
  V w1(ember::randn<float>({F, D}, g) * 0.1f, true), b1(ember::randn<float>({F}, g), true);
  V w2(ember::randn<float>({D, F}, g) * 0.05f, true), b2(ember::randn<float>({D}, g), true);
  for (auto _ : state) {
    for (V* v : {&x, &w1, &b1, &w2, &b2}) v->zero_grad();
    V y = fused ? ember::linear_residual(ember::linear_gelu(x, w1, b1), w2, b2, x)
                : x + ember::linear(ember::gelu(ember::linear(x, w1, b1)), w2, b2);
    y.backward(ember::ones<float>({N, D}));
    benchmark::DoNotOptimize(x.grad().data());
  }
  report_flops(state, 2.0 * 3 * (2.0 * N * D * F), threads);
}

// Attention alone, forward + backward with respect to q, k and v, with a padding mask and
// dropout 0.1 on the weights: the fused op (scaled_dot_product_attention) against the graph it
// replaced (split heads by permute, matmul, masked_fill, softmax, dropout, matmul, merge).
// Args: threads, batch, sequence length, model width (4 heads). GFLOP/s of the two T×T-sized
// products of the forward and the four of the backward (2 flops per MAC).
void BM_attention(benchmark::State& state, bool fused) {
  const int threads = static_cast<int>(state.range(0));
  const std::int64_t B = state.range(1), T = state.range(2), D = state.range(3), H = 4;
  ember::set_num_threads(threads);
  ember::Generator g(4), drop(5);
  ember::Var<float> q(ember::randn<float>({B, T, D}, g), true), k(ember::randn<float>({B, T, D}, g), true),
      v(ember::randn<float>({B, T, D}, g), true);
  ember::Tensor<bool> pad = ember::zeros<bool>({B, T});
  for (std::int64_t b = 0; b < B; b += 2) pad.narrow(0, b, 1).narrow(1, T / 2, T / 2).fill_(true);
  ember::Tensor<bool> pad4 = pad.view({B, 1, 1, T});
  const ember::Var<float> dy(ember::randn<float>({B, T, D}, g));
  for (auto _ : state) {
    ember::Var<float> out;
    if (fused) {
      ember::AttentionOptions<float> o;
      o.heads = H;
      o.key_padding_mask = pad;
      o.dropout = 0.1;
      out = ember::scaled_dot_product_attention(q, k, v, o, drop);
    } else {
      const std::int64_t dh = D / H;
      auto split = [&](const ember::Var<float>& y) {
        return ember::permute(ember::reshape(y, {B, T, H, dh}), {0, 2, 1, 3});
      };
      auto s = ember::matmul(split(q * (1.0f / std::sqrt(static_cast<float>(dh)))),
                             ember::transpose(split(k), -1, -2));
      s = ember::masked_fill(s, pad4, std::numeric_limits<float>::lowest());
      auto p = ember::dropout(ember::softmax(s, -1), 0.1, true, drop);
      out = ember::reshape(ember::permute(ember::matmul(p, split(v)), {0, 2, 1, 3}), {B, T, D});
    }
    ember::sum(out * dy).backward();
    benchmark::DoNotOptimize(q.grad().data());
  }
  report_flops(state, 2.0 * 3 * (2.0 * B * T * T * D), threads);
}

// Inference of a linear stack (batch 64: 768 → 3072 → ReLU → 768, a transformer block's
// feed-forward) in fp32 and dynamically quantised to int8 (nn::quantize_dynamic), in GFLOP/s
// of its two GEMMs.
void BM_qlinear_stack(benchmark::State& state, bool int8) {
  const int threads = static_cast<int>(state.range(0));
  ember::set_num_threads(threads);
  ember::Generator g(3);
  const std::int64_t B = 64, D = 768, F = 3072;
  nn::Sequential<float> stack{std::make_shared<nn::Linear<float>>(D, F, true, g),
                              std::make_shared<nn::ReLU<float>>(),
                              std::make_shared<nn::Linear<float>>(F, D, true, g)};
  stack.eval();
  if (int8) nn::quantize_dynamic(stack);
  ember::Var<float> x(ember::randn<float>({B, D}, g));
  ember::NoGradGuard no_grad;
  for (auto _ : state) {
    auto y = stack(x);
    benchmark::DoNotOptimize(y.data().data());
  }
  report_flops(state, 2.0 * 2 * B * D * F, threads);
}

}  // namespace

BENCHMARK(BM_op_overhead)->Name("autograd/op_overhead");
BENCHMARK(BM_mlp_step)->Name("mlp/step")->ArgName("t")->Arg(1)->Arg(2)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encoder_step, fp32, ember::Precision::fp32)->Name("encoder/step")->ArgName("t")
    ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encoder_step, contended, ember::Precision::fp32, true)
    ->Name("encoder/step_contended")->ArgName("t")->Arg(1)->Arg(2)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encoder_step, bf16, ember::Precision::bf16)->Name("encoder/step_bf16")
    ->ArgName("t")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encoder_step, fp32_p0, ember::Precision::fp32, false, 0.0)
    ->Name("encoder/step_p0")->ArgName("t")->Arg(1)->Arg(2)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encoder_step, bf16_p0, ember::Precision::bf16, false, 0.0)
    ->Name("encoder/step_bf16_p0")->ArgName("t")->Arg(1)->Arg(2)->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ffn, fused, true)->Name("ffn/fused")->ArgName("t")->Arg(1)->Arg(2)
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ffn, composed, false)->Name("ffn/composed")->ArgName("t")->Arg(1)->Arg(2)
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_attention, fused, true)->Name("attention/fused")
    ->ArgNames({"t", "B", "T", "D"})->Args({1, 32, 64, 128})->Args({2, 32, 64, 128})
    ->Args({1, 64, 128, 256})->Args({2, 64, 128, 256})->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_attention, composed, false)->Name("attention/composed")
    ->ArgNames({"t", "B", "T", "D"})->Args({1, 32, 64, 128})->Args({2, 32, 64, 128})
    ->Args({1, 64, 128, 256})->Args({2, 64, 128, 256})->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_qlinear_stack, fp32, false)->Name("linear_stack/fp32")->ArgName("t")->Arg(1)->Arg(2)->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_qlinear_stack, int8, true)->Name("linear_stack/int8_dynamic")->ArgName("t")->Arg(1)->Arg(2)
    ->UseRealTime()->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("fp32_peak_gflops_t1", std::to_string(bench::peak_gflops(1)));
  benchmark::AddCustomContext("fp32_peak_gflops_t2", std::to_string(bench::peak_gflops(2)));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
