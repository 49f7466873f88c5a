// bench_gemm — fp32 GEMM, ember beside Eigen, OpenBLAS and BLIS; bf16 and int8 GEMM beside
// oneDNN; in one run.
//
// Benchmarks are named gemm/<impl>/t<threads>/<M>x<K>x<N> (C[M,N] = A[M,K]·B[K,N], row-major)
// with counters GFLOPS (2·M·N·K / real time) and peak_pct (against the fp32 FMA ceiling this
// program measures first on the same number of threads, see peak.hpp). Where a GEMM's time
// goes: ukernel/<kernel>/k256 (the micro-kernel in L1), ukernel/<kernel>/stream1024 (fed as the
// driver feeds it) and pack/{a,b}/1024x1024 (packing one 1024×1024 operand).
// gemm_contended/<impl>/t<threads>/<shape>: the same GEMM beside a busy process (one core's
// worth of competing work, contention.hpp).
//
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE build/release/bench/bench_gemm
//
// OpenBLAS: the environment of the development machine may set OPENBLAS_CORETYPE=Haswell
// (forcing its AVX2 kernel); run it unset, as above, for OpenBLAS at its best. The kernel it
// picked is printed in the context. BLIS: Debian's 0.9 runs a generic kernel on this CPU unless
// BLIS_ARCH_TYPE forces a sub-configuration; peer_blis.cpp sets skx on a CPU with AVX-512
// and leaves BLIS's own choice elsewhere (printed in the context as blis_arch).
#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ember/eigen.hpp>
#include <ember/ember.hpp>

#include "contention.hpp"
#include "peak.hpp"
#include "peers.hpp"

namespace {

struct Shape3 {
  int m, k, n;
};

struct Operands {
  ember::Tensor<float> a, b, c;
  explicit Operands(const Shape3& s) {
    ember::Generator g(7);
    a = ember::uniform<float>({s.m, s.k}, -1, 1, g);
    b = ember::uniform<float>({s.k, s.n}, -1, 1, g);
    c = ember::zeros({s.m, s.n});
  }
};

void report(benchmark::State& state, const Shape3& s, int threads) {
  const double flops = 2.0 * s.m * s.n * s.k * static_cast<double>(state.iterations());
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
  state.counters["peak_pct"] = benchmark::Counter(
      flops * 1e-9 * 100.0 / bench::peak_gflops(threads), benchmark::Counter::kIsRate);
}

void run_ember(benchmark::State& state, Shape3 s, int threads) {
  Operands op(s);
  ember::set_num_threads(threads);
  for (auto _ : state) {
    ember::gemm(1.0f, op.a, op.b, 0.0f, op.c);
    benchmark::DoNotOptimize(op.c.data());
  }
  report(state, s, threads);
}

// B packed once outside the timing (ember::PackedB), as MKL's cblas_sgemm_pack: a weight
// multiplied many times.
void run_ember_prepacked_f32(benchmark::State& state, Shape3 s, int threads) {
  Operands op(s);
  ember::set_num_threads(threads);
  const ember::PackedB<float> b(s.k, s.n, op.b.data(), s.n, 1);
  for (auto _ : state) {
    ember::gemm(s.m, 1.0f, op.a.data(), s.k, 1, b, 0.0f, op.c.data(), s.n, 1);
    benchmark::DoNotOptimize(op.c.data());
  }
  report(state, s, threads);
}

void run_eigen(benchmark::State& state, Shape3 s, int threads) {
  Operands op(s);
  Eigen::setNbThreads(threads);
  auto a = ember::as_eigen(op.a), b = ember::as_eigen(op.b);
  auto c = ember::as_eigen(op.c);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(op.c.data());
  }
  report(state, s, threads);
}

using PeerSgemm = void (*)(int, int, int, const float*, const float*, float*, int);

void run_peer(benchmark::State& state, Shape3 s, int threads, PeerSgemm sgemm) {
  Operands op(s);
  for (auto _ : state) {
    sgemm(s.m, s.n, s.k, op.a.data(), op.b.data(), op.c.data(), threads);
    benchmark::DoNotOptimize(op.c.data());
  }
  report(state, s, threads);
}
void run_openblas(benchmark::State& state, Shape3 s, int threads) {
  run_peer(state, s, threads, &peers::openblas_sgemm);
}
void run_blis(benchmark::State& state, Shape3 s, int threads) {
  run_peer(state, s, threads, &peers::blis_sgemm);
}

// Textbook triple loop (i, p, j order so the inner loop is contiguous), for scale.
void run_naive(benchmark::State& state, Shape3 s, int) {
  Operands op(s);
  const float *a = op.a.data(), *b = op.b.data();
  float* c = op.c.data();
  for (auto _ : state) {
    for (int i = 0; i < s.m; ++i) {
      for (int j = 0; j < s.n; ++j) c[i * s.n + j] = 0.0f;
      for (int p = 0; p < s.k; ++p) {
        const float aip = a[i * s.k + p];
        for (int j = 0; j < s.n; ++j) c[i * s.n + j] += aip * b[p * s.n + j];
      }
    }
    benchmark::DoNotOptimize(c);
  }
  report(state, s, 1);
}

// The dispatched micro-kernel alone, on packed slivers that stay in L1 (k = 256): the ceiling
// the full GEMM is measured against (C tiles and panels moving through the caches cost the rest).
void run_ukernel(benchmark::State& state) {
  const auto& kern = ember::detail::kernel_table(ember::gemm_isa());
  const std::int64_t mr = kern.blocking.mr, nr = kern.blocking.nr, k = 256;
  ember::Generator g(3);
  auto a = ember::uniform<float>({mr * k}, -1, 1, g), b = ember::uniform<float>({nr * k}, -1, 1, g);
  auto c = ember::zeros({mr, nr});
  const auto fn = kern.kernels.full.fn[1][1];
  for (auto _ : state) {
    fn(k, a.data(), 0, b.data(), 0, c.data(), nr, 1, mr, nr, 1.0f, 1.0f);
    benchmark::DoNotOptimize(c.data());
  }
  report(state, {static_cast<int>(mr), static_cast<int>(k), static_cast<int>(nr)}, 1);
}

// The same kernel as the driver runs it on 1024³: one A sliver stays in L1 while the k×NR
// slivers of a 1 MiB packed B panel stream past it from L2, C tiles walking along one row
// block (beta = 1, as on every depth block after the first). The gap to ukernel/…/k256 is what
// streaming B from L2 and C tiles from memory costs.
void run_ukernel_stream(benchmark::State& state) {
  const auto& kern = ember::detail::kernel_table(ember::gemm_isa());
  const std::int64_t mr = kern.blocking.mr, nr = kern.blocking.nr, k = kern.blocking.kc;
  const std::int64_t n = 1024, slivers = n / nr;
  ember::Generator g(3);
  auto a = ember::uniform<float>({mr * k}, -1, 1, g), b = ember::uniform<float>({n * k}, -1, 1, g);
  auto c = ember::zeros({mr, n});
  const auto fn = kern.kernels.full.fn[1][1];
  for (auto _ : state) {
    for (std::int64_t s = 0; s < slivers; ++s)
      fn(k, a.data(), 0, b.data() + s * nr * k, 0, c.data() + s * nr, n, 1, mr, nr, 1.0f, 1.0f);
    benchmark::DoNotOptimize(c.data());
  }
  report(state, {static_cast<int>(mr), static_cast<int>(k), static_cast<int>(n)}, 1);
}

// Packing all of a row-major 1024×1024 operand into the driver's slivers, as one 1024³ GEMM
// on one thread does (A: MC×KC blocks of MR-row slivers; B: KC×NC panels of NR-column
// slivers). Counter: GB/s moved (read + written); the time beside gemm/ember/t1/1024x1024x1024's
// is the share of the GEMM that packing takes.
void run_pack(benchmark::State& state, bool is_a) {
  const auto& kern = ember::detail::kernel_table(ember::gemm_isa());
  const ember::GemmBlocking& bs = kern.blocking;
  const std::int64_t n = 1024;
  ember::Generator g(5);
  auto src = ember::uniform<float>({n, n}, -1, 1, g);
  auto dst = ember::zeros({std::max(bs.mc, bs.nc) * bs.kc + 64});
  for (auto _ : state) {
    for (std::int64_t pc = 0; pc < n; pc += bs.kc) {
      const std::int64_t kc = std::min(bs.kc, n - pc);
      if (is_a) {
        for (std::int64_t ic = 0; ic < n; ic += bs.mc)
          ember::detail::pack_a(std::min(bs.mc, n - ic), kc, src.data() + ic * n + pc, n,
                                std::int64_t{1}, bs.mr, dst.data());
      } else {
        for (std::int64_t jc = 0; jc < n; jc += bs.nc)
          ember::detail::pack_b(kc, std::min(bs.nc, n - jc), src.data() + pc * n + jc, n,
                                std::int64_t{1}, bs.nr, dst.data());
      }
    }
    benchmark::DoNotOptimize(dst.data());
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GBps"] =
      benchmark::Counter(2.0 * 4.0 * n * n * iters * 1e-9, benchmark::Counter::kIsRate);
}

// ---- bf16 and int8 ---------------------------------------------------------------------------
// gemm_bf16/<impl>/t<threads>/<M>x<K>x<N>: bf16 A and B, fp32 C. Impls: ember (bf16 inputs),
// ember_f32in (fp32 inputs under Precision::bf16, rounded while packing), onednn (B plain) and
// onednn_prepacked (B reordered once into oneDNN's preferred layout, outside the timing).
// gemm_int8/…: u8 A, s8 B, s32 C; counter GFLOPS counts GOP/s. peak_pct is against the bf16 /
// int8 ceiling bench_peak's probe measures (AMX tiles where granted, else vdpbf16ps / vpdpbusd;
// int8 without VNNI: vpmaddwd + vpaddd, the AVX2 kernel's pair of instructions).
struct LowpOperands {
  std::vector<ember::bfloat16> a, b;
  std::vector<float> af, bf, c;
  std::vector<std::uint8_t> a8;
  std::vector<std::int8_t> b8;
  std::vector<std::int32_t> c8;
  explicit LowpOperands(const Shape3& s) {
    ember::Generator g(9);
    const auto mk = static_cast<std::size_t>(s.m) * static_cast<std::size_t>(s.k);
    const auto kn = static_cast<std::size_t>(s.k) * static_cast<std::size_t>(s.n);
    const auto mn = static_cast<std::size_t>(s.m) * static_cast<std::size_t>(s.n);
    af.resize(mk);
    bf.resize(kn);
    for (auto& x : af) x = g.next_float() * 2 - 1;
    for (auto& x : bf) x = g.next_float() * 2 - 1;
    for (float x : af) a.push_back(ember::bfloat16(x));
    for (float x : bf) b.push_back(ember::bfloat16(x));
    c.assign(mn, 0.0f);
    for (std::size_t i = 0; i < mk; ++i) a8.push_back(static_cast<std::uint8_t>(g.next_u32()));
    for (std::size_t i = 0; i < kn; ++i) b8.push_back(static_cast<std::int8_t>(g.next_u32() & 0x7f));
    c8.assign(mn, 0);
  }
};

void report_lowp(benchmark::State& state, const Shape3& s, int threads, bool int8) {
  const double ops = 2.0 * s.m * s.n * s.k * static_cast<double>(state.iterations());
  state.counters["GFLOPS"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsRate);
  const double peak = bench::lowp_peak(int8, threads);
  if (peak > 0)
    state.counters["peak_pct"] =
        benchmark::Counter(ops * 1e-9 * 100.0 / peak, benchmark::Counter::kIsRate);
}

void run_ember_bf16(benchmark::State& state, Shape3 s, int threads, bool f32_inputs) {
  LowpOperands op(s);
  ember::set_num_threads(threads);
  ember::MatmulPrecisionGuard guard(ember::Precision::bf16);
  for (auto _ : state) {
    if (f32_inputs)
      ember::gemm<float>(s.m, s.n, s.k, 1.0f, op.af.data(), s.k, 1, op.bf.data(), s.n, 1, 0.0f,
                         op.c.data(), s.n, 1);
    else
      ember::gemm(s.m, s.n, s.k, 1.0f, op.a.data(), s.k, 1, op.b.data(), s.n, 1, 0.0f,
                  op.c.data(), s.n, 1);
    benchmark::DoNotOptimize(op.c.data());
  }
  report_lowp(state, s, threads, false);
}

// int8 rows also report exact_pct: the share of 256 entries of C, spread over it, that equal the
// exact sum (the test operands' sums fit int32). Where the CPU has no VNNI, a kernel that sums
// u8·s8 pairs with vpmaddubsw saturates them at 32 767 (this B holds 0…127, A 0…255): oneDNN
// 2.6 does on a Zen 3; ember widens to int16 pairs and is exact everywhere.
void report_exact(benchmark::State& state, const Shape3& s, const LowpOperands& op) {
  int exact = 0;
  constexpr int kSamples = 256;
  for (int t = 0; t < kSamples; ++t) {
    const std::int64_t i = (static_cast<std::int64_t>(t) * 7919) % s.m, j = (static_cast<std::int64_t>(t) * 104729) % s.n;
    std::int64_t sum = 0;
    for (std::int64_t p = 0; p < s.k; ++p)
      sum += std::int64_t{op.a8[static_cast<std::size_t>(i * s.k + p)]} * op.b8[static_cast<std::size_t>(p * s.n + j)];
    exact += op.c8[static_cast<std::size_t>(i * s.n + j)] == sum ? 1 : 0;
  }
  state.counters["exact_pct"] = 100.0 * exact / kSamples;
}

void run_ember_int8(benchmark::State& state, Shape3 s, int threads) {
  LowpOperands op(s);
  ember::set_num_threads(threads);
  for (auto _ : state) {
    ember::gemm(s.m, s.n, s.k, 1, op.a8.data(), s.k, 1, op.b8.data(), s.n, 1, 0, op.c8.data(),
                s.n, 1);
    benchmark::DoNotOptimize(op.c8.data());
  }
  report_lowp(state, s, threads, true);
  report_exact(state, s, op);
}

// ember_prepacked: B packed once (ember::PackedB, outside the timing), as oneDNN's prepacked
// column; what a weight multiplied many times costs.
void run_ember_prepacked(benchmark::State& state, Shape3 s, int threads, bool int8) {
  LowpOperands op(s);
  ember::set_num_threads(threads);
  if (int8) {
    const ember::PackedB<std::int8_t> b(s.k, s.n, op.b8.data(), s.n, 1);
    for (auto _ : state) {
      ember::gemm(s.m, 1, op.a8.data(), s.k, 1, b, 0, op.c8.data(), s.n, 1);
      benchmark::DoNotOptimize(op.c8.data());
    }
  } else {
    const ember::PackedB<ember::bfloat16> b(s.k, s.n, op.b.data(), s.n, 1);
    for (auto _ : state) {
      ember::gemm(s.m, 1.0f, op.a.data(), s.k, 1, b, 0.0f, op.c.data(), s.n, 1);
      benchmark::DoNotOptimize(op.c.data());
    }
  }
  report_lowp(state, s, threads, int8);
  if (int8) report_exact(state, s, op);
}

void run_onednn(benchmark::State& state, Shape3 s, int threads, bool int8, bool prepacked) {
  LowpOperands op(s);
  std::string error;
  peers::OnednnGemm* g =
      int8 ? peers::onednn_create(s.m, s.n, s.k, true, prepacked, op.a8.data(), op.b8.data(),
                                  op.c8.data(), threads, &error)
           : peers::onednn_create(s.m, s.n, s.k, false, prepacked, op.a.data(), op.b.data(),
                                  op.c.data(), threads, &error);
  if (g == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  for (auto _ : state) peers::onednn_run(g);
  peers::onednn_destroy(g);
  report_lowp(state, s, threads, int8);
  if (int8) report_exact(state, s, op);
}

// The bf16 / int8 micro-kernel alone on packed slivers in L1 (k = 256 depths), and packing
// all of a 1024×1024 fp32 operand into the bf16 kernel's slivers (GB/s read + written).
template <class Row>
void run_mixed_ukernel(benchmark::State& state, const Row* row, bool int8) {
  const std::int64_t mr = row->mr, nr = row->nr, k = 256;
  std::vector<unsigned char> a(static_cast<std::size_t>(mr * k * row->a_elem_bytes) + 64, 1),
      b(static_cast<std::size_t>(nr * k * row->b_elem_bytes) + 64, 1);
  std::vector<std::int32_t> c(static_cast<std::size_t>(mr * nr));
  auto* ap = a.data() + (64 - reinterpret_cast<std::uintptr_t>(a.data()) % 64) % 64;
  auto* bp = b.data() + (64 - reinterpret_cast<std::uintptr_t>(b.data()) % 64) % 64;
  if (row->thread_begin) row->thread_begin();
  for (auto _ : state) {
    if constexpr (std::is_same_v<Row, ember::detail::U8S8Kernel>)
      row->kernel(k, ap, bp, c.data(), nr, 1, mr, nr, 1, 1);
    else
      row->kernel(k, ap, bp, reinterpret_cast<float*>(c.data()), nr, 1, mr, nr, 1.0f, 1.0f);
    benchmark::DoNotOptimize(c.data());
  }
  if (row->thread_end) row->thread_end();
  report_lowp(state, {static_cast<int>(mr), static_cast<int>(k), static_cast<int>(nr)}, 1, int8);
}

void run_pack_bf16(benchmark::State& state, bool is_a) {
  const auto& row = ember::detail::bf16_kernel<float>();
  const std::int64_t n = 1024, kc = row.blocking.kc;
  ember::Generator g(5);
  auto src = ember::uniform<float>({n, n}, -1, 1, g);
  const std::int64_t r = is_a ? row.mr : row.nr;
  std::vector<unsigned char> dst(static_cast<std::size_t>(r * (kc + 64) * 4) + 64);
  for (auto _ : state) {
    for (std::int64_t pc = 0; pc < n; pc += kc)
      for (std::int64_t i = 0; i < n; i += r) {
        const std::int64_t rows = std::min(r, n - i), depth = std::min(kc, n - pc);
        if (is_a)
          row.pack_a(rows, depth, src.data() + i * n + pc, n, 1, dst.data());
        else
          row.pack_b(rows, depth, src.data() + pc * n + i, n, 1, dst.data());
      }
    benchmark::DoNotOptimize(dst.data());
  }
  state.counters["GBps"] = benchmark::Counter(
      6.0 * n * n * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

// A transposed A (rows contiguous: the dYᵀ of a weight gradient) packed as the driver packs
// it: per sliver of mr rows (pack_a), or per block of a_block slivers (pack_a_block) where the
// kernel row has one. GB/s: fp32 read + bf16 written.
void run_pack_bf16_transposed_a(benchmark::State& state, bool block) {
  const auto& row = ember::detail::bf16_kernel<float>();
  const std::int64_t n = 1024, kc = row.blocking.kc, mr = row.mr;
  const std::int64_t step = block && row.pack_a_block != nullptr ? row.a_block * mr : mr;
  ember::Generator g(5);
  auto src = ember::uniform<float>({n, n}, -1, 1, g);  // A(i, p) at src[p·n + i]
  std::vector<unsigned char> dst(static_cast<std::size_t>(step * (kc + 64) * 2) + 64);
  for (auto _ : state) {
    for (std::int64_t pc = 0; pc < n; pc += kc)
      for (std::int64_t i = 0; i < n; i += step) {
        const std::int64_t rows = std::min(step, n - i), depth = std::min(kc, n - pc);
        if (step > mr)
          row.pack_a_block(rows, depth, src.data() + pc * n + i, 1, n, dst.data());
        else
          row.pack_a(rows, depth, src.data() + pc * n + i, 1, n, dst.data());
      }
    benchmark::DoNotOptimize(dst.data());
  }
  state.counters["GBps"] = benchmark::Counter(
      6.0 * n * n * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

// The same GEMM while another process keeps one core busy (contention.hpp): a team whose
// threads wait for a descheduled member by spinning collapses here (issue 13).
void run_contended(benchmark::State& state, Shape3 s, int threads, bool openblas) {
  Operands op(s);
  ember::set_num_threads(threads);
  bench::BusyProcess competitor;
  for (auto _ : state) {
    if (openblas)
      peers::openblas_sgemm(s.m, s.n, s.k, op.a.data(), op.b.data(), op.c.data(), threads);
    else
      ember::gemm(1.0f, op.a, op.b, 0.0f, op.c);
    benchmark::DoNotOptimize(op.c.data());
  }
  report(state, s, threads);
}

std::string name(const char* impl, int threads, const Shape3& s) {
  return std::string("gemm/") + impl + "/t" + std::to_string(threads) + "/" + std::to_string(s.m) +
         "x" + std::to_string(s.k) + "x" + std::to_string(s.n);
}

}  // namespace

int main(int argc, char** argv) {
  // Tuning aid: EMBER_GEMM_BLOCKS=mc,kc,nc overrides the kernel's cache blocks for this run.
  static ember::GemmBlocking tuned;
  if (const char* env = std::getenv("EMBER_GEMM_BLOCKS")) {
    tuned = ember::detail::kernel_table(ember::gemm_isa()).blocking;
    if (std::sscanf(env, "%ld,%ld,%ld", &tuned.mc, &tuned.kc, &tuned.nc) == 3) {
      ember::detail::gemm_blocking_override() = &tuned;
    }
  }
  const std::vector<Shape3> shapes = {
      {64, 64, 64},       {128, 128, 128},  {256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024},
      {2048, 2048, 2048}, {32, 128, 128},   {256, 128, 512}, {512, 256, 256}, {2048, 256, 1024},
      {64, 768, 768},     {128, 768, 3072}, {4096, 64, 64}};
  for (int threads : {1, 2}) {
    for (const Shape3& s : shapes) {
      auto add = [&](const char* impl, void (*fn)(benchmark::State&, Shape3, int)) {
        benchmark::RegisterBenchmark(name(impl, threads, s).c_str(), fn, s, threads)->UseRealTime();
      };
      add("ember", run_ember);
      add("ember_prepacked", run_ember_prepacked_f32);
      add("eigen", run_eigen);
      if (peers::have_openblas()) add("openblas", run_openblas);
      if (peers::have_blis()) add("blis", run_blis);
      if (threads == 1 && s.m * s.k * s.n <= 256 * 256 * 256) add("naive", run_naive);
    }
  }
  for (const Shape3& s : {Shape3{1024, 1024, 1024}, Shape3{64, 768, 768}}) {
    for (int threads : {1, 2}) {
      for (bool ob : {false, true}) {
        if (ob && !peers::have_openblas()) continue;
        const std::string n = "gemm_contended" + name(ob ? "openblas" : "ember", threads, s).substr(4);
        benchmark::RegisterBenchmark(n.c_str(), [=](benchmark::State& st) {
          run_contended(st, s, threads, ob);
        })->UseRealTime();
      }
    }
  }
  const std::vector<Shape3> lowp_shapes = {
      {64, 64, 64},   {256, 256, 256},  {512, 512, 512},   {1024, 1024, 1024}, {2048, 2048, 2048},
      {32, 128, 128}, {64, 768, 768},   {128, 768, 3072},  {4096, 64, 64}};
  for (int threads : {1, 2}) {
    for (const Shape3& s : lowp_shapes) {
      auto lname = [&](const char* kind, const char* impl) {
        std::string n = name(impl, threads, s);
        return std::string("gemm_") + kind + n.substr(4);  // gemm/… → gemm_bf16/…
      };
      auto add = [&](const std::string& n, auto fn) {
        benchmark::RegisterBenchmark(n.c_str(), fn)->UseRealTime();
      };
      add(lname("bf16", "ember"), [=](benchmark::State& st) { run_ember_bf16(st, s, threads, false); });
      add(lname("bf16", "ember_f32in"), [=](benchmark::State& st) { run_ember_bf16(st, s, threads, true); });
      add(lname("int8", "ember"), [=](benchmark::State& st) { run_ember_int8(st, s, threads); });
      for (bool int8 : {false, true})
        add(lname(int8 ? "int8" : "bf16", "ember_prepacked"),
            [=](benchmark::State& st) { run_ember_prepacked(st, s, threads, int8); });
      if (peers::have_onednn()) {
        for (bool int8 : {false, true}) {
          add(lname(int8 ? "int8" : "bf16", "onednn"),
              [=](benchmark::State& st) { run_onednn(st, s, threads, int8, false); });
          add(lname(int8 ? "int8" : "bf16", "onednn_prepacked"),
              [=](benchmark::State& st) { run_onednn(st, s, threads, int8, true); });
        }
      }
    }
  }
  benchmark::RegisterBenchmark(("ukernel/" + ember::gemm_kernel_name() + "/k256").c_str(),
                               run_ukernel)
      ->UseRealTime();
  benchmark::RegisterBenchmark(("ukernel/" + ember::gemm_kernel_name() + "/stream1024").c_str(),
                               run_ukernel_stream)
      ->UseRealTime();
  benchmark::RegisterBenchmark("pack/a/1024x1024", run_pack, true)->UseRealTime();
  {
    const auto* bf = &ember::detail::bf16_kernel<float>();
    const auto* i8 = &ember::detail::u8s8_kernel();
    benchmark::RegisterBenchmark((std::string("ukernel_bf16/") + bf->name + "/k256").c_str(),
                                 [bf](benchmark::State& st) { run_mixed_ukernel(st, bf, false); })
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string("ukernel_int8/") + i8->name + "/k256").c_str(),
                                 [i8](benchmark::State& st) { run_mixed_ukernel(st, i8, true); })
        ->UseRealTime();
    benchmark::RegisterBenchmark("pack_bf16/a/1024x1024", run_pack_bf16, true)->UseRealTime();
    benchmark::RegisterBenchmark("pack_bf16/b/1024x1024", run_pack_bf16, false)->UseRealTime();
    benchmark::RegisterBenchmark("pack_bf16/a_transposed/sliver/1024x1024",
                                 run_pack_bf16_transposed_a, false)->UseRealTime();
    benchmark::RegisterBenchmark("pack_bf16/a_transposed/block/1024x1024",
                                 run_pack_bf16_transposed_a, true)->UseRealTime();
  }
  benchmark::RegisterBenchmark("pack/b/1024x1024", run_pack, false)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("ember_kernel", ember::gemm_kernel_name());
  benchmark::AddCustomContext("fp32_peak_gflops_t1", std::to_string(bench::peak_gflops(1)));
  benchmark::AddCustomContext("fp32_peak_gflops_t2", std::to_string(bench::peak_gflops(2)));
  benchmark::AddCustomContext("ember_bf16_kernel", ember::gemm_kernel_name(ember::DType::BFloat16));
  benchmark::AddCustomContext("ember_int8_kernel", ember::gemm_kernel_name(ember::DType::Int8));
  {
    std::string bf16_what, int8_what;
    bench::measure_lowp_peak(false, 1, &bf16_what);
    bench::measure_lowp_peak(true, 1, &int8_what);
    benchmark::AddCustomContext("bf16_peak_gflops_t1",
                                std::to_string(bench::lowp_peak(false, 1)) + " (" + bf16_what + ")");
    benchmark::AddCustomContext("bf16_peak_gflops_t2", std::to_string(bench::lowp_peak(false, 2)));
    benchmark::AddCustomContext("int8_peak_gops_t1",
                                std::to_string(bench::lowp_peak(true, 1)) + " (" + int8_what + ")");
    benchmark::AddCustomContext("int8_peak_gops_t2", std::to_string(bench::lowp_peak(true, 2)));
  }
  benchmark::AddCustomContext("onednn", peers::onednn_version());
  benchmark::AddCustomContext("openblas_core", peers::openblas_core());
  benchmark::AddCustomContext("blis_arch", peers::blis_arch());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
