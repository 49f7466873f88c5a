// Row-sparse gradients of embedding lookups (sparse = true): the same numbers as the dense
// gradient, accumulation (sparse + sparse, sparse + dense), and the optimisers' lazy updates.
#include "grad_util.hpp"

using ember::Tensor;
using F = ember::Var<float>;

namespace {

// Sum of the op's output times fixed weights, so every output element matters.
template <class MakeOut>
std::pair<Tensor<float>, F> grads_of(MakeOut make, bool sparse) {
  ember::Generator g(1);
  F w(ember::randn<float>({6, 3}, g), true);
  F out = make(w, sparse);
  ember::Generator h(2);
  ember::sum(out * F(ember::randn<float>(out.shape(), h))).backward();
  return {w.grad_is_sparse() ? Tensor<float>() : w.grad(), w};
}

}  // namespace

TEST(SparseGrad, EmbeddingMatchesDense) {
  const Tensor<std::int64_t> ids{{4, 1, 4}, {0, 1, 1}};
  auto make = [&](const F& w, bool sparse) { return ember::embedding(w, ids, sparse); };
  auto [dense, wd] = grads_of(make, false);
  auto [unused, ws] = grads_of(make, true);
  ASSERT_TRUE(ws.grad_is_sparse());
  auto [rows, vals] = ws.sparse_grad();
  EXPECT_EQ(values(rows), (std::vector<std::int64_t>{0, 1, 4}));  // unique, sorted
  EXPECT_EQ(vals.shape(), (ember::Shape{3, 3}));
  EXPECT_TRUE(ember::allclose(ws.grad(), dense, 1e-6, 1e-6));  // grad() densifies
  EXPECT_FALSE(ws.grad_is_sparse());
}

TEST(SparseGrad, EmbeddingBagMatchesDenseInBothModes) {
  const Tensor<std::int64_t> ids{5, 2, 5, 0, 2}, offsets{0, 2, 2};
  for (auto mode : {ember::BagMode::Sum, ember::BagMode::Mean}) {
    auto make = [&](const F& w, bool sparse) {
      return ember::embedding_bag(w, ids, offsets, mode, sparse);
    };
    auto [dense, wd] = grads_of(make, false);
    auto [unused, ws] = grads_of(make, true);
    ASSERT_TRUE(ws.grad_is_sparse());
    EXPECT_EQ(values(ws.sparse_grad().first), (std::vector<std::int64_t>{0, 2, 5}));
    EXPECT_TRUE(ember::allclose(ws.grad(), dense, 1e-6, 1e-6));
  }
}

TEST(SparseGrad, WeightedEmbeddingBagMatchesDense) {
  const Tensor<std::int64_t> ids{5, 2, 5, 0, 2}, offsets{0, 2, 2};
  const Tensor<float> psw{0.5f, 2.0f, -1.0f, 3.0f, 0.25f};
  auto make = [&](const F& w, bool sparse) {
    return ember::embedding_bag(w, ids, offsets, ember::BagMode::Sum, sparse, psw);
  };
  auto [dense, wd] = grads_of(make, false);
  auto [unused, ws] = grads_of(make, true);
  ASSERT_TRUE(ws.grad_is_sparse());
  EXPECT_TRUE(ember::allclose(ws.grad(), dense, 1e-6, 1e-6));
}

TEST(SparseGrad, AccumulatesWithSparseAndDense) {
  ember::Generator g(3);
  F w(ember::randn<float>({5, 2}, g), true), w_ref(w.data().clone(), true);
  const Tensor<std::int64_t> a{1, 3}, b{3, 4};
  // Two backward calls: sparse + sparse stays sparse and coalesces.
  ember::sum(ember::embedding(w, a, true)).backward();
  ember::sum(ember::embedding(w, b, true)).backward();
  EXPECT_TRUE(w.grad_is_sparse());
  EXPECT_EQ(values(w.sparse_grad().first), (std::vector<std::int64_t>{1, 3, 4}));
  EXPECT_EQ(values(w.grad()), (std::vector<float>{0, 0, 1, 1, 0, 0, 2, 2, 1, 1}));
  // Tied weights: the same table used as an embedding (sparse) and in a matmul (dense).
  w.zero_grad();
  F x(ember::ones<float>({2}));
  auto tied = [&](const F& t, bool sparse) {
    return ember::sum(ember::embedding(t, a, sparse)) + ember::sum(ember::matmul(t, x));
  };
  tied(w, true).backward();
  tied(w_ref, false).backward();
  EXPECT_FALSE(w.grad_is_sparse());
  EXPECT_TRUE(ember::equal(w.grad(), w_ref.grad()));
  // A weight that is not a leaf takes the dense path.
  F base(ember::randn<float>({5, 2}, g), true);
  ember::sum(ember::embedding(base * 2.0, a, true)).backward();
  EXPECT_FALSE(base.grad_is_sparse());
  EXPECT_EQ(base.grad().at(1, 0), 2.0f);
}

TEST(SparseGrad, LazyAdamMatchesDenseOnUsedRowsAndLeavesOthers) {
  ember::Generator g(4);
  const Tensor<float> init = ember::randn<float>({8, 4}, g);
  F ws(init.clone(), true), wd(init.clone(), true);
  ember::optim::AdamW<float> sparse_opt({ws}, {.lr = 0.1, .weight_decay = 0.0});
  ember::optim::AdamW<float> dense_opt({wd}, {.lr = 0.1, .weight_decay = 0.0});
  const Tensor<std::int64_t> ids{2, 5, 2};
  for (int step = 0; step < 3; ++step) {
    for (auto* pair : {&ws, &wd}) {
      auto& opt = pair == &ws ? sparse_opt : dense_opt;
      opt.zero_grad();
      ember::sum(ember::square(ember::embedding(*pair, ids, pair == &ws))).backward();
      opt.step();
    }
  }
  // Rows 2 and 5 saw a gradient every step: lazy Adam equals Adam there. Other rows: dense
  // Adam with zero gradient moves nothing either (m = v = 0), so all rows agree.
  EXPECT_TRUE(ember::allclose(ws.data(), wd.data(), 1e-6, 1e-6));
  EXPECT_FALSE(ember::allclose(ws.data().narrow(0, 2, 1), init.narrow(0, 2, 1)));
  // With weight decay, lazy AdamW leaves unused rows exactly alone (dense would shrink them).
  F wl(init.clone(), true);
  ember::optim::AdamW<float> lazy({wl}, {.lr = 0.1, .weight_decay = 0.5});
  ember::sum(ember::embedding(wl, ids, true)).backward();
  lazy.step();
  EXPECT_TRUE(ember::equal(wl.data().narrow(0, 0, 2), init.narrow(0, 0, 2)));
  EXPECT_FALSE(ember::equal(wl.data().narrow(0, 2, 1), init.narrow(0, 2, 1)));
}

TEST(SparseGrad, SgdAndClipMatchDense) {
  ember::Generator g(5);
  const Tensor<float> init = ember::randn<float>({6, 3}, g);
  const Tensor<std::int64_t> ids{0, 4, 4}, offsets{0, 1};
  for (double momentum : {0.0, 0.9}) {
    F ws(init.clone(), true), wd(init.clone(), true);
    ember::optim::SGD<float> so({ws}, {.lr = 0.5, .momentum = momentum, .weight_decay = 0.1});
    ember::optim::SGD<float> dn({wd}, {.lr = 0.5, .momentum = momentum, .weight_decay = 0.1});
    for (int step = 0; step < 2; ++step) {
      so.zero_grad();
      dn.zero_grad();
      ember::sum(ember::embedding_bag(ws, ids, offsets, ember::BagMode::Sum, true) * 3.0).backward();
      ember::sum(ember::embedding_bag(wd, ids, offsets, ember::BagMode::Sum) * 3.0).backward();
      const double n_sparse = ember::optim::clip_grad_norm<float>({ws}, 1.0);
      const double n_dense = ember::optim::clip_grad_norm<float>({wd}, 1.0);
      EXPECT_NEAR(n_sparse, n_dense, 1e-5);
      so.step();
      dn.step();
    }
    // Weight decay touches only used rows in the sparse update: compare those rows.
    for (std::int64_t r : {0, 4}) {
      EXPECT_TRUE(ember::allclose(ws.data()[r], wd.data()[r], 1e-5, 1e-6)) << "momentum " << momentum;
    }
  }
}
