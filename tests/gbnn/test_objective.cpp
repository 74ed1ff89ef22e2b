// The per-step objective (and the MLP's) against finite differences, and its thread invariance.
#include <doctest/doctest.h>

#include <orchard/gbnn.hpp>

#include "gbnn_test_data.hpp"

using namespace orchard;
using gbnn::NetObjective;
using gbnn::OutputLoss;

namespace {

// Central differences on every parameter; returns the largest relative error.
double gradient_error(OutputLoss loss, int K, int threads) {
  const int n = 150, d = 5, J = 3;
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
  const int n = 700, d = 6, J = 2, K = 3;  // several row blocks
  Rng rng(9);
  gbnn_test::Mat X(n, d), R(n, K);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) X(i, j) = rng.normal();
    for (int k = 0; k < K; ++k) R(i, k) = rng.normal();
  }
  Eigen::VectorXd w(d * J + J * K + J + K);
  for (int q = 0; q < w.size(); ++q) w[q] = rng.normal();
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
