// The per-step objective (and the MLP's) against finite differences, and its thread invariance.
#include <doctest/doctest.h>

#include <orchard/gbnn.hpp>

#include "gbnn_test_data.hpp"

using namespace orchard;
using gbnn::NetObjective;
using gbnn::OutputLoss;

namespace {

// Central differences on every parameter; returns the largest relative error.
// J <= 2 runs the row kernel, J = 3 the GEMM sub-blocks; d = 37 covers the row kernel's 16-wide
// chunks and their tail, n = 150 a partial 4-row group and a partial 16-row chunk.
double gradient_error(OutputLoss loss, int K, int threads, int J = 3, int d = 5) {
  const int n = 150;
  Rng rng(3);
  gbnn_test::Mat X(n, d), targets(n, loss == OutputLoss::squared ? K : 1);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) X(i, j) = rng.normal();
    for (int k = 0; k < targets.cols(); ++k) {
      if (loss == OutputLoss::squared) targets(i, k) = rng.normal();
      if (loss == OutputLoss::logistic) targets(i, k) = rng.bernoulli(0.4) ? 1.0 : -1.0;
      if (loss == OutputLoss::softmax) targets(i, k) = static_cast<double>(rng.uniform_int(K));
    }
  }
  Context ctx(threads);
  NetObjective<double> obj;
  obj.configure(n, d, J, K, loss, 0.3);
  obj.bind(X.data(), targets.data(), n, ctx);
  Eigen::VectorXd w(obj.n_params()), g, gd;
  for (int q = 0; q < w.size(); ++q) w[q] = rng.normal(0, 0.7);
  obj(w, g);
  double worst = 0;
  for (int q = 0; q < w.size(); ++q) {
    const double h = 1e-5;
    Eigen::VectorXd wp = w, wm = w;
    wp[q] += h;
    wm[q] -= h;
    const double fd = (obj(wp, gd) - obj(wm, gd)) / (2 * h);
    worst = std::max(worst, std::abs(fd - g[q]) / std::max(1e-3, std::abs(fd)));
  }
  return worst;
}

}  // namespace

TEST_CASE("per-step objective: gradient matches finite differences") {
  CHECK(gradient_error(OutputLoss::squared, 1, 1) < 1e-6);
  CHECK(gradient_error(OutputLoss::squared, 3, 2) < 1e-6);
  CHECK(gradient_error(OutputLoss::logistic, 1, 1) < 1e-6);
  CHECK(gradient_error(OutputLoss::softmax, 4, 2) < 1e-6);
  for (int J : {1, 2}) {  // the row kernel
    CAPTURE(J);
    CHECK(gradient_error(OutputLoss::squared, 1, 1, J, 37) < 1e-6);
    CHECK(gradient_error(OutputLoss::squared, 3, 2, J, 37) < 1e-6);
    CHECK(gradient_error(OutputLoss::logistic, 1, 2, J, 37) < 1e-6);
    CHECK(gradient_error(OutputLoss::softmax, 4, 1, J, 37) < 1e-6);
  }
}

TEST_CASE("per-step objective: the row kernel (J <= 2) equals the GEMM path's arithmetic") {
  // The same network evaluated as J = 2 (row kernel) and as J = 3 with a third unit whose output
  // weights are zero (GEMM path): equal values and gradients up to rounding.
  const int n = 203, d = 37, K = 3;
  Rng rng(12);
  gbnn_test::Mat X(n, d), R(n, K);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) X(i, j) = rng.normal();
    for (int k = 0; k < K; ++k) R(i, k) = rng.normal();
  }
  Context ctx(2);
  NetObjective<double> o2, o3;
  o2.configure(n, d, 2, K, OutputLoss::squared, 0.0);
  o3.configure(n, d, 3, K, OutputLoss::squared, 0.0);
  o2.bind(X.data(), R.data(), n, ctx);
  o3.bind(X.data(), R.data(), n, ctx);
  Eigen::VectorXd w2(o2.n_params()), w3 = Eigen::VectorXd::Zero(o3.n_params()), g2, g3;
  for (int q = 0; q < w2.size(); ++q) w2[q] = rng.normal(0, 0.3);
  for (int c = 0; c < d; ++c)
    for (int j = 0; j < 2; ++j) w3[c * 3 + j] = w2[c * 2 + j];            // W1
  for (int j = 0; j < 2; ++j)
    for (int k = 0; k < K; ++k) w3[d * 3 + j * K + k] = w2[d * 2 + j * K + k];  // W2
  for (int j = 0; j < 2; ++j) w3[d * 3 + 3 * K + j] = w2[d * 2 + 2 * K + j];    // b1
  for (int k = 0; k < K; ++k) w3[d * 3 + 3 * K + 3 + k] = w2[d * 2 + 2 * K + 2 + k];  // b2
  const double f2 = o2(w2, g2), f3 = o3(w3, g3);
  CHECK(f2 == doctest::Approx(f3).epsilon(1e-13));
  double worst = 0;
  for (int c = 0; c < d; ++c)
    for (int j = 0; j < 2; ++j)
      worst = std::max(worst, std::abs(g2[c * 2 + j] - g3[c * 3 + j]));
  CHECK(worst < 1e-12);
}

TEST_CASE("per-step objective: value matches a naive formula") {
  const int n = 40, d = 3, J = 2, K = 2;
  Rng rng(5);
  gbnn_test::Mat X(n, d), R(n, K);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) X(i, j) = rng.normal();
    for (int k = 0; k < K; ++k) R(i, k) = rng.normal();
  }
  Context ctx(1);
  NetObjective<double> obj;
  const double alpha = 0.25;
  obj.configure(n, d, J, K, OutputLoss::squared, alpha);
  obj.bind(X.data(), R.data(), n, ctx);
  Eigen::VectorXd w(obj.n_params()), g;
  for (int q = 0; q < w.size(); ++q) w[q] = rng.normal();
  const double got = obj(w, g);
  // naive: W1 (d×J) row-major, W2 (J×K), b1, b2
  double sse = 0, reg = 0;
  for (int i = 0; i < n; ++i) {
    double h[J];
    for (int j = 0; j < J; ++j) {
      double z = w[d * J + J * K + j];
      for (int c = 0; c < d; ++c) z += X(i, c) * w[c * J + j];
      h[j] = 1 / (1 + std::exp(-z));
    }
    for (int k = 0; k < K; ++k) {
      double o = w[d * J + J * K + J + k];
      for (int j = 0; j < J; ++j) o += h[j] * w[d * J + j * K + k];
      sse += (o - R(i, k)) * (o - R(i, k));
    }
  }
  for (int q = 0; q < d * J + J * K; ++q) reg += w[q] * w[q];
  CHECK(got == doctest::Approx(sse / (2.0 * n) + alpha / (2.0 * n) * reg).epsilon(1e-13));
}

TEST_CASE("per-step objective: identical value and gradient for any thread count") {
  for (int J : {1, 4}) {  // row kernel and GEMM path
  CAPTURE(J);
  // wide rows: a block holds ~1M multiply-adds (~520 rows at J = 1, ~130 at J = 4), so n = 600
  // gives two to five blocks; at J = 4 the gradient reduction (8019 parameters × 5 blocks >= 2^15
  // adds) also runs over parameter chunks in parallel, at J = 1 (2007 × 2) on the calling thread
  const int n = 600, d = 2000, K = 3;
  Rng rng(9);
  gbnn_test::Mat X(n, d), R(n, K);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) X(i, j) = rng.normal();
    for (int k = 0; k < K; ++k) R(i, k) = rng.normal();
  }
  Eigen::VectorXd w(d * J + J * K + J + K);
  for (int q = 0; q < w.size(); ++q) w[q] = rng.normal(0, 0.03);
  double f[3];
  Eigen::VectorXd g[3];
  for (int t = 0; t < 3; ++t) {
    Context ctx(t + 1);
    NetObjective<double> obj;
    obj.configure(n, d, J, K, OutputLoss::squared, 1e-4);
    obj.bind(X.data(), R.data(), n, ctx);
    f[t] = obj(w, g[t]);
  }
  CHECK(f[0] == f[1]);
  CHECK(f[0] == f[2]);
  CHECK(g[0] == g[1]);
  CHECK(g[0] == g[2]);
  }
}

TEST_CASE("L-BFGS driver: scipy's stopping rules and the value scale") {
  auto pr = gbnn_test::make_problem(2, 300, 6);
  Context ctx(1);
  const int J = 2, K = 3, d = 6, n = 300;
  gbnn_test::Mat R(n, K);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < K; ++k) R(i, k) = pr.y[i] == k ? 1.0 : 0.0;
  NetObjective<double> obj;
  obj.configure(n, d, J, K, OutputLoss::squared, 1e-4);
  obj.bind(pr.X.data(), R.data(), n, ctx);
  const orchard::index_t P = obj.n_params();
  auto start = [&] {
    Eigen::VectorXd w(P);
    Rng ri(4);
    gbnn::detail::glorot_init(ri, d, J, K, w);
    return w;
  };
  Eigen::VectorXd g;
  // a huge gradient tolerance stops at the starting point (scipy tests it too)
  {
    gbnn::detail::LbfgsDriver<double> drv(P, 10, 1e9, 0.0, 100);
    Eigen::VectorXd w = start(), w0 = w;
    CHECK(drv.minimize(obj, w) == 0);
    CHECK(drv.evaluations() == 1);
    CHECK(w == w0);
  }
  // tol: stops at an accepted point with max |g| <= tol, before the iteration limit
  {
    const double tol = 2e-3;
    gbnn::detail::LbfgsDriver<double> drv(P, 10, tol, 0.0, 500);
    Eigen::VectorXd w = start();
    const int it = drv.minimize(obj, w);
    CHECK(it > 0);
    CHECK(it < 500);
    obj(w, g);
    CHECK(g.lpNorm<Eigen::Infinity>() <= tol);
  }
  // value scale: same trajectory (scale-invariant steps), value reported unscaled; with
  // ftol the scaled value (1/K) stops no later than the unscaled one
  {
    gbnn::detail::LbfgsDriver<double> a(P, 10, 0.0, 0.0, 15), b(P, 10, 0.0, 0.0, 15, 1.0 / K);
    Eigen::VectorXd wa = start(), wb = start();
    a.minimize(obj, wa);
    b.minimize(obj, wb);
    CHECK((wa - wb).lpNorm<Eigen::Infinity>() < 1e-8);
    CHECK(b.best_value() == doctest::Approx(obj(wb, g)).epsilon(1e-12));
    // (ftol large enough that both stop while their iterates are still the same up to rounding:
    // over hundreds of iterations the two trajectories drift apart)
    gbnn::detail::LbfgsDriver<double> c(P, 10, 0.0, 1e-4, 400), e(P, 10, 0.0, 1e-4, 400, 1.0 / K);
    Eigen::VectorXd wc = start(), we = start();
    CHECK(e.minimize(obj, we) <= c.minimize(obj, wc));
  }
}
