// Threads using ember at once, as a server running inference does. These tests assert values
// (every thread's result equals the single-threaded one) and are also the ThreadSanitizer suite
// (scripts/test.sh --tsan): kernels with 2 OpenMP threads inside each of several std::threads,
// num_threads() read while set_num_threads() writes, and a Module's mode read while set.
#include <atomic>
#include <thread>
#include <vector>

#include "test_util.hpp"

using ember::Tensor;
using ember::Var;

TEST(Concurrency, GemmAndElementwiseFromSeveralThreads) {
  ember::set_num_threads(2);
  ember::Generator g(3);
  const Tensor<float> a = ember::randn({96, 80}, g), b = ember::randn({80, 72}, g);
  const Tensor<float> want = ember::matmul(a, b);
  const Tensor<float> want_ew = ember::exp(ember::tanh(a) * 0.5f) + a;
  const std::vector<float> want_sum = ember::sum(a, {1}).to_vector();
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (ember::matmul(a, b).to_vector() != want.to_vector()) ++bad;
        if ((ember::exp(ember::tanh(a) * 0.5f) + a).to_vector() != want_ew.to_vector()) ++bad;
        if (ember::sum(a, {1}).to_vector() != want_sum) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(Concurrency, ThreadCountReadWhileSet) {
  std::atomic<bool> stop{false};
  std::thread setter([&] {
    for (int i = 0; i < 200; ++i) ember::set_num_threads(1 + i % 2);
    stop = true;
  });
  std::vector<std::thread> readers;
  readers.reserve(3);
  std::atomic<int> bad{0};
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      const Tensor<float> x = ember::full<float>({50000}, 1.0f);
      while (!stop) {
        const int n = ember::num_threads();
        if (n < 1 || n > 2) ++bad;
        if (ember::sum(x).item() != 50000.0f) ++bad;
      }
    });
  }
  setter.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  ember::set_num_threads(2);
}

TEST(Concurrency, InferenceOnOneSharedModuleInEvalMode) {
  ember::Generator g(5);
  ember::nn::Sequential<float> net;
  net.push_back(std::make_shared<ember::nn::Linear<float>>(16, 32, true, g));
  net.push_back(std::make_shared<ember::nn::ReLU<float>>());
  net.push_back(std::make_shared<ember::nn::Dropout<float>>(0.5, 7));
  net.push_back(std::make_shared<ember::nn::Linear<float>>(32, 3, true, g));
  net.eval();
  const Tensor<float> x = ember::randn({8, 16}, g);
  std::vector<float> want;
  {
    ember::NoGradGuard no_grad;
    want = net(Var<float>(x)).data().to_vector();
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      ember::NoGradGuard no_grad;  // thread-local, as PyTorch's
      for (int i = 0; i < 20; ++i) {
        if (net.is_training()) ++bad;
        if (net(Var<float>(x)).data().to_vector() != want) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}
