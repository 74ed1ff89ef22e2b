// The per-step objective (and the MLP's) against finite differences, and its thread invariance.
#include <doctest/doctest.h>

#include <orchard/gbnn.hpp>
#include <vector>

#include "gbnn_test_data.hpp"

using namespace orchard;
using gbnn::NetObjective;
using gbnn::OutputLoss;

namespace {

// Fills X (n × d) and R (n × K) row by row with standard normals: row i's features, then its
// targets.
void fill_normal(Rng& rng, gbnn_test::Mat& X, gbnn_test::Mat& R) {
  for (orchard::index_t i = 0; i < X.rows(); ++i) {
    for (orchard::index_t j = 0; j < X.cols(); ++j) X(i, j) = rng.normal();
    for (orchard::index_t k = 0; k < R.cols(); ++k) R(i, k) = rng.normal();
  }
}

// Central differences; returns the largest relative error.
// J <= 8 runs the lane kernel (one row per SIMD lane) except J <= 2 with d > 512, which runs the
// row kernel; J = 9 runs the GEMM sub-blocks. d = 37 is not a multiple of the lane kernel's 4
// partial sums, d = 600 covers the row kernel's 16-wide chunks and their tail, n = 150 a partial
// 4-row group and a partial 16-row chunk.
double gradient_error(OutputLoss loss, int K, int threads, int J = 9, int d = 5) {
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
  // every W2 / bias parameter and about 48 of W1, evenly spread (all of them when few): the
  // sanitizer build runs this unoptimised
  const int nw1 = d * J, stride = std::max(1, nw1 / 48);
  std::vector<int> checked;
  for (int q = 0; q < nw1; q += stride) checked.push_back(q);
  for (int q = nw1; q < w.size(); ++q) checked.push_back(q);
  double worst = 0;
  for (const int q : checked) {
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
  for (int J : {1, 2, 3, 8}) {  // the lane kernel
    CAPTURE(J);
    CHECK(gradient_error(OutputLoss::squared, 1, 1, J, 37) < 1e-6);
    CHECK(gradient_error(OutputLoss::squared, 3, 2, J, 37) < 1e-6);
    CHECK(gradient_error(OutputLoss::logistic, 1, 2, J, 37) < 1e-6);
    CHECK(gradient_error(OutputLoss::softmax, 4, 1, J, 37) < 1e-6);
    if (J <= 2) {  // the row kernel (the lane kernel on wide rows: the GEMM comparison below)
      CHECK(gradient_error(OutputLoss::squared, 3, 2, J, 600) < 1e-6);
      CHECK(gradient_error(OutputLoss::softmax, 4, 1, J, 600) < 1e-6);
    }
  }
}

TEST_CASE("per-step objective: the lane and row kernels equal the GEMM path's arithmetic") {
  // The same network evaluated with J units (J = 2: lane kernel at d = 37, row kernel at d = 600;
  // J = 5: lane kernel at both) and as J = 9 units whose last ones have zero weights (GEMM path):
  // equal values and gradients up to rounding. n = 2203 rows of 37 are three of the lane kernel's
  // sub-blocks (55 chunks).
  struct Case {
    int d, J;
  };
  for (const Case cs : {Case{37, 2}, Case{600, 2}, Case{37, 5}, Case{600, 5}}) {
    const int n = 2203, K = 3, d = cs.d, J = cs.J, Jr = 9;
    CAPTURE(d);
    CAPTURE(J);
    Rng rng(12);
    gbnn_test::Mat X(n, d), R(n, K);
    fill_normal(rng, X, R);
    Context ctx(2);
    NetObjective<double> os, oref;
    os.configure(n, d, J, K, OutputLoss::squared, 0.0);
    oref.configure(n, d, Jr, K, OutputLoss::squared, 0.0);
    os.bind(X.data(), R.data(), n, ctx);
    oref.bind(X.data(), R.data(), n, ctx);
    Eigen::VectorXd w(os.n_params()), wr = Eigen::VectorXd::Zero(oref.n_params()), g, gr;
    for (int q = 0; q < w.size(); ++q) w[q] = rng.normal(0, 0.3);
    // packing: W1 (d × J, row-major), W2 (J × K), b1 (J), b2 (K); at[q] = q's place in wr
    std::vector<int> at;
    for (int c = 0; c < d; ++c)
      for (int j = 0; j < J; ++j) at.push_back(c * Jr + j);
    for (int j = 0; j < J; ++j)
      for (int k = 0; k < K; ++k) at.push_back(d * Jr + j * K + k);
    for (int j = 0; j < J; ++j) at.push_back(d * Jr + Jr * K + j);
    for (int k = 0; k < K; ++k) at.push_back(d * Jr + Jr * K + Jr + k);
    for (int q = 0; q < w.size(); ++q) wr[at[static_cast<std::size_t>(q)]] = w[q];
    const double f = os(w, g), fr = oref(wr, gr);
    CHECK(f == doctest::Approx(fr).epsilon(1e-13));
    double worst = 0;
    for (int q = 0; q < w.size(); ++q)
      worst = std::max(worst, std::abs(g[q] - gr[at[static_cast<std::size_t>(q)]]));
    CHECK(worst < 1e-12);
  }
}

TEST_CASE("per-step objective: value matches a naive formula") {
  const int n = 40, d = 3, J = 2, K = 2;
  Rng rng(5);
  gbnn_test::Mat X(n, d), R(n, K);
  fill_normal(rng, X, R);
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
  struct Shape {
    int n, d, J;
  };
  // wide rows: a block holds ~1M multiply-adds (~520 rows at J = 1, ~130 at J = 4 or 9), so
  // n = 600 gives two to five blocks (row kernel at J = 1, lane kernel at J = 4, GEMM path at
  // J = 9); at J = 4 the gradient reduction (8019 parameters × 5 blocks >= 2^15 adds) also runs
  // over parameter chunks in parallel, at J = 1 (2007 × 2) on the calling thread.
  // Narrow rows (lane kernel): 6007 rows of 200 are two blocks at J = 1 and three at J = 2 (blocks
  // of whole 16-row chunks, the last chunk partial).
  for (const Shape sh : {Shape{600, 2000, 1}, Shape{600, 2000, 4}, Shape{600, 2000, 9},
                         Shape{6007, 200, 1}, Shape{6007, 200, 2}}) {
  const int n = sh.n, d = sh.d, J = sh.J, K = 3;
  CAPTURE(d);
  CAPTURE(J);
  Rng rng(9);
  gbnn_test::Mat X(n, d), R(n, K);
  fill_normal(rng, X, R);
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

namespace {

// Value and gradient of the float objective on X (n × d) with J units, K = 3 squared outputs.
struct ZeroBlockEval {
  float f = 0;
  Eigen::VectorXf g;
};
ZeroBlockEval zero_block_eval(const gbnn::RowMatrix<float>& X, const gbnn::RowMatrix<float>& R,
                              const Eigen::VectorXf& w, int J, int threads) {
  Context ctx(threads);
  NetObjective<float> obj;
  obj.configure(X.rows(), X.cols(), J, R.cols(), OutputLoss::squared, 1e-3f);
  obj.bind(X.data(), R.data(), X.rows(), ctx);
  ZeroBlockEval out;
  out.f = obj(w, out.g);
  return out;
}

}  // namespace

TEST_CASE("per-step objective: exact zeros and -0.0 in X, whole zero 16-column blocks") {
  // Pixel-like rows: 16-column blocks that are zero in every row, blocks zero in some rows only,
  // zero tails (d = 2005: 125 full blocks and a 5-column tail) and -0.0 among the zeros. Adding
  // x·w = ±0 to a partial sum that starts at +0 leaves it unchanged (a round-to-nearest sum is -0
  // only when both terms are -0, so no partial sum is ever -0), so: (1) the result is the same bit
  // for bit when every -0.0 is replaced by +0.0, (2) a column that is zero in every row gets the
  // gradient α·w/n exactly (its data part is exactly +0), and (3) 1, 2 and 3 threads agree (n = 600
  // rows of 2005 columns are two blocks at J = 1). The same for narrow rows (d = 45, lane kernel,
  // whose padding rows of the last chunk add x·δ = 0·0 to every lane).
  for (int d : {2005, 45}) {
  CAPTURE(d);
  const int n = 600, K = 3;
  Rng rng(21);
  gbnn::RowMatrix<float> X(n, d), Xp(n, d), R(n, K);
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < d; ++c) {
      const int blk = c / 16;
      const bool zero_all = blk % 5 == 1 || c >= d - 5;           // every row
      const bool zero_some = blk % 3 == 0 && (i * 7 + blk) % 4 != 0;  // some rows
      const bool zero_pix = rng.bernoulli(0.3);                    // scattered zeros
      float v = static_cast<float>(rng.uniform(0.0, 1.0));
      if (zero_all || zero_some || zero_pix) v = rng.bernoulli(0.5) ? -0.0f : 0.0f;
      X(i, c) = v;
      Xp(i, c) = v == 0.0f ? 0.0f : v;
    }
    for (int k = 0; k < K; ++k) R(i, k) = static_cast<float>(rng.normal());
  }
  for (int J : {1, 2}) {
    CAPTURE(J);
    Eigen::VectorXf w(d * J + J * K + J + K);
    for (int q = 0; q < w.size(); ++q) w[q] = static_cast<float>(rng.normal(0, 0.05));
    const ZeroBlockEval a = zero_block_eval(X, R, w, J, 1);
    const ZeroBlockEval p = zero_block_eval(Xp, R, w, J, 1);
    CHECK(std::isfinite(a.f));
    CHECK(a.f == p.f);
    CHECK(a.g == p.g);
    const float inv = 1.0f / static_cast<float>(n);
    bool exact = true;
    for (int c = 0; c < d; ++c) {
      if (!((c / 16) % 5 == 1 || c >= d - 5)) continue;
      for (int j = 0; j < J; ++j)
        exact = exact && a.g[c * J + j] == (1e-3f * inv) * w[c * J + j];
    }
    CHECK(exact);
    for (int t : {2, 3}) {
      CAPTURE(t);
      const ZeroBlockEval b = zero_block_eval(X, R, w, J, t);
      CHECK(a.f == b.f);
      CHECK(a.g == b.g);
    }
  }
}
}
