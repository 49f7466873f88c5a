// bench_models — whole models: one training step and inference, for the side-by-side table with
// PyTorch (bench/pytorch/compare.py builds the same models in PyTorch at the same shapes).
//
//   models/<case>/<mode>/<precision>/t<threads>, real time per step (ms)
//     case:      bag          EmbeddingBag(8000 + 2^18 buckets, 64, mean, sparse) → Linear(64, 2)
//                             (the example's bag model), 64 ids per text
//                cnn          Embedding(8000, 64, sparse) → Conv1d(64, 100, k) for k = 2, 3, 4 →
//                             ReLU → max over time → concat → Dropout(0.5) → Linear(300, 2)
//                             (the example's cnn)
//                transformer  Embedding(8000, 128) → 2 pre-norm encoder layers (4 heads, ffn 512,
//                             GELU, dropout 0.1) → LayerNorm → mean over time → Linear(128, 2)
//     mode:      train        batch 32, length 64: forward, cross-entropy, backward, optimiser
//                             step (AdamW, weight decay 0: lazy on the sparse embeddings, as
//                             torch.optim.SparseAdam)
//                infer_b1     eval mode, no graph, batch 1 (latency)
//                infer_b64    eval mode, no graph, batch 64 (throughput)
//                mlm_pretrain  one BERT-style masked-LM pretraining step at issue 14's reference
//                             shape (see BM_mlm_step), in tokens/s beside PyTorch's 12.1k
//     precision: fp32, or bf16 (matrix products in bf16 with fp32 accumulation,
//                MatmulPrecisionGuard; PyTorch's CPU autocast is the peer)
//
//   cmake --build build/release --target bench_models && build/release/bench/bench_models
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include <ember/ember.hpp>

namespace {

namespace nn = ember::nn;
using ember::Tensor;
using ember::Var;

constexpr std::int64_t kVocab = 8000, kLen = 64, kTrainBatch = 32;

/// A model that maps (B, L) ids to (B, 2) logits.
class Model : public nn::Module<float> {
 public:
  virtual Var<float> logits(const Tensor<std::int64_t>& ids) = 0;
};

class Bag : public Model {
 public:
  explicit Bag(ember::Generator& g) {
    bag_ = register_module("bag", std::make_shared<nn::EmbeddingBag<float>>(
                                      kVocab + (1 << 18), 64, ember::BagMode::Mean, g, true));
    fc_ = register_module("fc", std::make_shared<nn::Linear<float>>(64, 2, true, g));
  }
  Var<float> logits(const Tensor<std::int64_t>& ids) override {
    const std::int64_t B = ids.size(0), L = ids.size(1);
    Tensor<std::int64_t> offsets = ember::arange<std::int64_t>(0, B * L, L);
    return (*fc_)((*bag_)(ids.reshape({B * L}), offsets));
  }

 private:
  std::shared_ptr<nn::EmbeddingBag<float>> bag_;
  std::shared_ptr<nn::Linear<float>> fc_;
};

class Cnn : public Model {
 public:
  explicit Cnn(ember::Generator& g) {
    emb_ = register_module("emb", std::make_shared<nn::Embedding<float>>(kVocab, 64, g, true));
    for (std::int64_t k : {2, 3, 4})
      convs_.push_back(register_module("conv" + std::to_string(k),
                                       std::make_shared<nn::Conv1d<float>>(64, 100, k, g)));
    drop_ = register_module("drop", std::make_shared<nn::Dropout<float>>(0.5, g.next_u64()));
    fc_ = register_module("fc", std::make_shared<nn::Linear<float>>(300, 2, true, g));
  }
  Var<float> logits(const Tensor<std::int64_t>& ids) override {
    Var<float> x = ember::transpose((*emb_)(ids), 1, 2);  // (B, 64, L)
    std::vector<Var<float>> pooled;
    for (auto& conv : convs_) pooled.push_back(ember::max(ember::relu((*conv)(x)), {2}));
    return (*fc_)((*drop_)(ember::cat(pooled, 1)));
  }

 private:
  std::shared_ptr<nn::Embedding<float>> emb_;
  std::vector<std::shared_ptr<nn::Conv1d<float>>> convs_;
  std::shared_ptr<nn::Dropout<float>> drop_;
  std::shared_ptr<nn::Linear<float>> fc_;
};

class Transformer : public Model {
 public:
  explicit Transformer(ember::Generator& g) {
    emb_ = register_module("emb", std::make_shared<nn::Embedding<float>>(kVocab, 128, g));
    enc_ = register_module("enc", std::make_shared<nn::TransformerEncoder<float>>(
                                      2, nn::TransformerOptions{.d_model = 128, .heads = 4,
                                                                .ffn = 512, .dropout = 0.1},
                                      g));
    fc_ = register_module("fc", std::make_shared<nn::Linear<float>>(128, 2, true, g));
  }
  Var<float> logits(const Tensor<std::int64_t>& ids) override {
    return (*fc_)(ember::mean((*enc_)((*emb_)(ids)), {1}));
  }

 private:
  std::shared_ptr<nn::Embedding<float>> emb_;
  std::shared_ptr<nn::TransformerEncoder<float>> enc_;
  std::shared_ptr<nn::Linear<float>> fc_;
};

std::unique_ptr<Model> make(const std::string& kind, ember::Generator& g) {
  if (kind == "bag") return std::make_unique<Bag>(g);
  if (kind == "cnn") return std::make_unique<Cnn>(g);
  return std::make_unique<Transformer>(g);
}

void BM_train(benchmark::State& state, const std::string& kind, ember::Precision precision, int threads) {
  ember::set_num_threads(threads);
  ember::MatmulPrecisionGuard guard(precision);
  ember::Generator g(5);
  auto model = make(kind, g);
  ember::optim::AdamW<float> opt(model->parameters(), {.lr = 1e-3, .weight_decay = 0.0});
  const auto ids = ember::randint<std::int64_t>(0, kVocab, {kTrainBatch, kLen}, g);
  const auto labels = ember::randint<std::int64_t>(0, 2, {kTrainBatch}, g);
  auto step = [&] {
    auto loss = ember::cross_entropy(model->logits(ids), labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.data().data());
  };
  // Warm-up steps, untimed (as compare.py does for PyTorch): the first step allocates the
  // optimiser's state (138 MB for the bag model) and fills the allocator's cache.
  for (int i = 0; i < 3; ++i) step();
  for (auto _ : state) step();
}

void BM_infer(benchmark::State& state, const std::string& kind, ember::Precision precision, int threads,
              std::int64_t batch) {
  ember::set_num_threads(threads);
  ember::MatmulPrecisionGuard guard(precision);
  ember::Generator g(5);
  auto model = make(kind, g);
  model->eval();
  const auto ids = ember::randint<std::int64_t>(0, kVocab, {batch, kLen}, g);
  ember::NoGradGuard no_grad;
  for (int i = 0; i < 3; ++i) benchmark::DoNotOptimize(model->logits(ids).data().data());
  for (auto _ : state) {
    auto y = model->logits(ids);
    benchmark::DoNotOptimize(y.data().data());
  }
}

// One masked-language-model pretraining step at the shape of issue 14's PyTorch reference run
// (a character-level BERT: vocabulary 7 450, d 256, 4 pre-norm layers, 4 heads, ffn 1024,
// GELU, dropout 0.1, 128-token sequences, batch 64; 5.1M parameters): token + position
// embeddings, the encoder, then the 15% masked positions (fixed here) gathered and scored by a
// head tied to the token embedding; cross-entropy, backward, AdamW. Reported in tokens/s (all
// 8 192 tokens of the batch, as the reference counts them) and GFLOP/s of the matrix products
// (6 flops per parameter per token for the encoder's projections, attention's four T×T-sized
// products, the head on the masked rows). The reference: 12.1k tokens/s, PyTorch 1.13, bf16
// autocast, 2 threads.
void BM_mlm_step(benchmark::State& state, ember::Precision precision, int threads) {
  ember::set_num_threads(threads);
  ember::MatmulPrecisionGuard guard(precision);
  constexpr std::int64_t V = 7450, D = 256, L = 4, F = 1024, T = 128, B = 64;
  ember::Generator g(6);
  nn::Embedding<float> tok(V, D, g), pos(T, D, g);
  nn::TransformerEncoder<float> enc(L, {.d_model = D, .heads = 4, .ffn = F, .dropout = 0.1}, g);
  nn::Dropout<float> drop(0.1, g.next_u64());
  Var<float> head_bias(ember::zeros<float>({V}), true);
  std::vector<Var<float>> params = enc.parameters();
  params.push_back(tok.weight());
  params.push_back(pos.weight());
  params.push_back(head_bias);
  ember::optim::AdamW<float> opt(params, {.lr = 1e-4, .weight_decay = 0.01});
  const auto ids = ember::randint<std::int64_t>(0, V, {B, T}, g);
  const auto positions = ember::arange<std::int64_t>(0, T, 1);
  // 15% of the positions, spread evenly, and their target ids.
  const std::int64_t M = B * T * 15 / 100;
  Tensor<std::int64_t> masked = ember::zeros<std::int64_t>({M});
  for (std::int64_t i = 0; i < M; ++i) masked.at(i) = i * 100 / 15;
  Tensor<std::int64_t> targets = ember::randint<std::int64_t>(0, V, {M}, g);
  auto step = [&] {
    Var<float> x = drop(tok(ids) + pos(positions));
    Var<float> h = ember::reshape(enc(x), {B * T, D});
    Var<float> logits = ember::linear(ember::index_select(h, 0, masked), tok.weight(), head_bias);
    auto loss = ember::cross_entropy(logits, targets);
    opt.zero_grad();
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.data().data());
  };
  for (int i = 0; i < 2; ++i) step();
  ember::reset_allocator_stats();
  for (auto _ : state) step();
  // Steady state: a step should take every block from the allocator's cache.
  state.counters["sys_allocs_per_step"] =
      static_cast<double>(ember::allocator_stats().system_allocations) /
      static_cast<double>(state.iterations());
  const double tokens = static_cast<double>(B * T), layer_params = 4.0 * D * D + 2.0 * D * F;
  const double flops = 6 * L * layer_params * tokens + L * 6 * 2.0 * B * T * T * D +
                       6 * static_cast<double>(M) * D * V;
  const double steps = static_cast<double>(state.iterations());
  state.counters["tokens_per_s"] = benchmark::Counter(tokens * steps, benchmark::Counter::kIsRate);
  state.counters["GFLOPS"] = benchmark::Counter(flops * steps * 1e-9, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  for (const char* kind : {"bag", "cnn", "transformer"}) {
    for (auto [pname, prec] : {std::pair{"fp32", ember::Precision::fp32},
                               std::pair{"bf16", ember::Precision::bf16}}) {
      for (int t : {1, 2}) {
        const std::string tail = std::string("/") + pname + "/t" + std::to_string(t);
        const std::string base = std::string("models/") + kind;
        const std::string k = kind;
        const ember::Precision p = prec;
        benchmark::RegisterBenchmark((base + "/train" + tail).c_str(),
                                     [=](benchmark::State& s) { BM_train(s, k, p, t); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        for (std::int64_t b : {1, 64}) {
          benchmark::RegisterBenchmark((base + "/infer_b" + std::to_string(b) + tail).c_str(),
                                       [=](benchmark::State& s) { BM_infer(s, k, p, t, b); })
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        }
      }
    }
  }
  for (auto [pname, prec] : {std::pair{"fp32", ember::Precision::fp32},
                             std::pair{"bf16", ember::Precision::bf16}}) {
    for (int t : {1, 2}) {
      const ember::Precision p = prec;
      benchmark::RegisterBenchmark(
          (std::string("models/mlm_pretrain/train/") + pname + "/t" + std::to_string(t)).c_str(),
          [=](benchmark::State& s) { BM_mlm_step(s, p, t); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
