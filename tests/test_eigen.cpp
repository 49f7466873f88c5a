#include <ember/eigen.hpp>

#include "test_util.hpp"

using ember::Tensor;

TEST(Eigen, AsEigenIsZeroCopyBothWays) {
  auto a = ember::arange(6).reshape({2, 3});
  auto m = ember::as_eigen(a);
  EXPECT_EQ(m.rows(), 2);
  EXPECT_EQ(m.cols(), 3);
  EXPECT_EQ(m.data(), a.data());
  EXPECT_EQ(m(1, 2), 5.0f);
  m(0, 1) = 42;  // write through Eigen, read through ember
  EXPECT_EQ(a.at(0, 1), 42.0f);
}

TEST(Eigen, AsEigenOfRowSliceUsesLeadingDimension) {
  auto a = ember::arange(20).reshape({4, 5});
  auto s = a.slice(0, 1, 3).slice(1, 1, 4);  // rows 1-2, cols 1-3
  auto m = ember::as_eigen(s);
  EXPECT_EQ(m.outerStride(), 5);
  EXPECT_EQ(m(1, 2), a.at(2, 3));
  EXPECT_EMBER_ERROR(ember::as_eigen(a.t()), "as_eigen: rows must be dense");
  EXPECT_EMBER_ERROR(ember::as_eigen(ember::zeros({2, 2, 2})),
                     "as_eigen: expects a 2-D tensor, got shape [2,2,2]");
  auto st = ember::as_eigen_strided(a.t());
  EXPECT_EQ(st(3, 2), a.at(2, 3));
  auto v = ember::as_eigen_vector(a.select(1, 2));
  EXPECT_EQ(v(3), a.at(3, 2));
}

TEST(Eigen, FromEigenRowAndColumnMajor) {
  Eigen::MatrixXd cm(2, 3);  // column-major
  cm << 1, 2, 3, 4, 5, 6;
  auto t = ember::from_eigen(cm);
  EXPECT_EQ(t.shape(), (ember::Shape{2, 3}));
  EXPECT_EQ(t.strides(), (ember::Shape{1, 2}));
  EXPECT_EQ(t.at(1, 2), 6.0);
  t.at(0, 0) = -1;
  EXPECT_EQ(cm(0, 0), -1.0);
  ember::EigenRowMatrix<float> rm(2, 2);
  rm << 1, 2, 3, 4;
  auto r = ember::from_eigen(rm);
  EXPECT_TRUE(r.is_contiguous());
  EXPECT_EQ(values(r), (std::vector<float>{1, 2, 3, 4}));
  auto blk = ember::from_eigen(cm.block(0, 1, 2, 2));
  EXPECT_EQ(values(blk), (std::vector<double>{2, 3, 5, 6}));
}

TEST(Eigen, EmberOpsAgreeWithEigenArrays) {
  ember::Generator g(3);
  auto a = ember::randn<double>({17, 9}, g);
  auto b = ember::randn<double>({17, 9}, g);
  Eigen::MatrixXd ea = ember::as_eigen(a), eb = ember::as_eigen(b);
  Eigen::MatrixXd sum = ea + eb;
  Eigen::MatrixXd prod = ea.cwiseProduct(eb);
  Eigen::MatrixXd ex = ea.array().exp().matrix();
  auto s = a + b, p = a * b, e = ember::exp(a);
  for (int i = 0; i < 17; ++i)
    for (int j = 0; j < 9; ++j) {
      EXPECT_EQ(s.at(i, j), sum(i, j));
      EXPECT_EQ(p.at(i, j), prod(i, j));
      EXPECT_DOUBLE_EQ(e.at(i, j), ex(i, j));
    }
  EXPECT_NEAR(ember::sum(a).item(), ea.sum(), 1e-12);
  Eigen::VectorXd rowsum = ea.rowwise().sum();
  auto rs = ember::sum(a, 1);
  for (int i = 0; i < 17; ++i) EXPECT_NEAR(rs.at(i), rowsum(i), 1e-12);
  EXPECT_EQ(ember::max(a).item(), ea.maxCoeff());
}

// A backward seeded with a tensor that borrows an Eigen matrix must never write into it: the
// engine adopts or accumulates into a gradient buffer in place only when ember owns it alone.
TEST(Eigen, BackwardNeverWritesIntoABorrowedSeed) {
  Eigen::MatrixXf seed(2, 2);
  seed << 1, 2, 3, 4;
  const Eigen::MatrixXf before = seed;
  ember::Var<float> x(ember::full<float>({2, 2}, 3.0f), true);
  // y = x + x: the leaf receives the seed itself twice (adopted, then accumulated into).
  auto y = x + x;
  y.backward(ember::from_eigen(seed));
  EXPECT_EQ(seed, before);
  EXPECT_EQ(values(x.grad()), (std::vector<float>{2, 4, 6, 8}));
  // z = (w + w) + w: the inner sum passes the seed through; w collects it three times.
  ember::Var<float> w(ember::full<float>({2, 2}, 1.0f), true);
  auto z = (w + w) + w;
  z.backward(ember::from_eigen(seed));
  EXPECT_EQ(seed, before);
  EXPECT_EQ(values(w.grad()), (std::vector<float>{3, 6, 9, 12}));
}
