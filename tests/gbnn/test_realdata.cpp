// Real data: 10-fold cross-validation of GBNN against the plain MLP (L-BFGS) at equal hidden
// units on the scikit-learn sets (breast cancer, wine, iris, digits, diabetes). GBNN: 30 steps of
// one unit, eta = 0.5 (eta = 1 can diverge on regression, in the reference package too; digits and
// diabetes: see their cases); MLP: 30 units, 200 L-BFGS iterations (no gradient-tolerance stop).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <orchard/core/io.hpp>
#include <orchard/gbnn.hpp>

#include "gbnn_test_data.hpp"
#include "orchard_test.hpp"

using namespace orchard;
using gbnn_test::Mat;
using gbnn_test::Vec;

namespace {

struct Set {
  Mat X;
  Vec y;
  bool classification = true;
};

// "<n>,<d>,<class names>" first line, then d features and the label per row.
Set read_counted(const std::string& rel) {
  io::CsvOptions o;
  o.skip_rows = 1;
  auto probe = io::read_csv<double>(orchard_test::data(rel).string(), o);
  o.label_column = probe.X.cols() - 1;
  auto ds = io::read_csv<double>(orchard_test::data(rel).string(), o);
  return {ds.X, ds.y, true};
}

struct Fold {
  Mat Xtr, Xte;
  Vec ytr, yte;
};

// Fold k of 10 after a seeded shuffle; features (and regression targets) standardised with the
// training fold's mean and standard deviation.
Fold make_fold(const Set& s, int k, double& y_mean, double& y_sd) {
  const int n = static_cast<int>(s.X.rows());
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  Rng(2023).shuffle(order.begin(), order.end());
  std::vector<int> tr, te;
  for (int i = 0; i < n; ++i) (i % 10 == k ? te : tr).push_back(order[i]);
  Fold f{Mat(tr.size(), s.X.cols()), Mat(te.size(), s.X.cols()), Vec(tr.size()), Vec(te.size())};
  for (std::size_t i = 0; i < tr.size(); ++i) {
    f.Xtr.row(i) = s.X.row(tr[i]);
    f.ytr[i] = s.y[tr[i]];
  }
  for (std::size_t i = 0; i < te.size(); ++i) {
    f.Xte.row(i) = s.X.row(te[i]);
    f.yte[i] = s.y[te[i]];
  }
  for (int j = 0; j < s.X.cols(); ++j) {
    const double m = f.Xtr.col(j).mean();
    double sd = std::sqrt((f.Xtr.col(j).array() - m).square().mean());
    if (sd == 0) sd = 1;
    f.Xtr.col(j) = (f.Xtr.col(j).array() - m) / sd;
    f.Xte.col(j) = (f.Xte.col(j).array() - m) / sd;
  }
  y_mean = 0;
  y_sd = 1;
  if (!s.classification) {
    y_mean = f.ytr.mean();
    y_sd = std::sqrt((f.ytr.array() - y_mean).square().mean());
    f.ytr = (f.ytr.array() - y_mean) / y_sd;
  }
  return f;
}

// Accuracy (classification) or RMSE in original units (regression).
double quality(const Set& s, const Vec& pred, const Vec& y, double y_mean, double y_sd) {
  double acc = 0;
  for (int i = 0; i < y.size(); ++i) {
    if (s.classification) {
      acc += pred[i] == y[i] ? 1 : 0;
    } else {
      const double r = pred[i] * y_sd + y_mean - y[i];
      acc += r * r;
    }
  }
  acc /= static_cast<double>(y.size());
  return s.classification ? acc : std::sqrt(acc);
}

// GBNN with `base` (steps, units, eta, ... as given; task and seed set here) against the MLP with
// steps·units hidden units and scikit-learn's defaults (α = 1e-4, 200 L-BFGS iterations).
void compare(const std::string& name, const Set& s, gbnn::Params base, double margin = 0.02) {
  const int steps = base.steps, units = base.units;
  const double eta = base.eta;
  const Context ctx(2);
  std::vector<double> g, m;
  double tg = 0, tm = 0;
  for (int k = 0; k < 10; ++k) {
    double ym, ysd;
    const Fold f = make_fold(s, k, ym, ysd);
    gbnn::Params p = base;
    p.task = s.classification ? gbnn::Task::classification : gbnn::Task::regression;
    p.seed = static_cast<std::uint64_t>(k);
    auto t0 = std::chrono::steady_clock::now();
    gbnn::Model<double> model;
    model.fit(f.Xtr, f.ytr, p, ctx);
    auto t1 = std::chrono::steady_clock::now();
    g.push_back(quality(s, model.predict(f.Xte, -1, ctx), f.yte, ym, ysd));
    gbnn::MlpParams mp;
    mp.task = p.task;
    mp.hidden = steps * units;
    mp.tol = 0;  // the full 200 iterations: scikit-learn's default tol = 1e-4 stops the digits
                 // MLP early (0.957 instead of 0.979), which would flatter GBNN
    mp.seed = static_cast<std::uint64_t>(k);
    gbnn::Mlp<double> mlp;
    auto t2 = std::chrono::steady_clock::now();
    mlp.fit(f.Xtr, f.ytr, mp, ctx);
    auto t3 = std::chrono::steady_clock::now();
    m.push_back(quality(s, mlp.predict(f.Xte, ctx), f.yte, ym, ysd));
    tg += std::chrono::duration<double>(t1 - t0).count();
    tm += std::chrono::duration<double>(t3 - t2).count();
  }
  double mg = 0, mm = 0, md = 0, vd = 0, vg = 0, vm = 0;
  for (int k = 0; k < 10; ++k) {
    mg += g[k] / 10;
    mm += m[k] / 10;
    md += (g[k] - m[k]) / 10;
  }
  for (int k = 0; k < 10; ++k) {
    vd += (g[k] - m[k] - md) * (g[k] - m[k] - md) / 9;
    vg += (g[k] - mg) * (g[k] - mg) / 9;
    vm += (m[k] - mm) * (m[k] - mm) / 9;
  }
  const double se = std::sqrt(vd / 10);
  std::printf("%-14s %s GBNN %.4f (fold sd %.4f, %.2f s)  MLP-LBFGS %.4f (fold sd %.4f, %.2f s)  "
              "paired se %.4f  [%d x %d units, eta %.2f, alpha %g, per-class %d]\n",
              name.c_str(), s.classification ? "acc " : "rmse", mg, std::sqrt(vg), tg, mm,
              std::sqrt(vm), tm, se, steps, units, eta, base.alpha, base.per_class_step ? 1 : 0);
  if (s.classification) {
    CHECK_MESSAGE(mg >= mm - std::max(2 * se, margin), name);
  } else {
    CHECK_MESSAGE(mg <= mm + std::max(2 * se, 0.05 * mm), name);
  }
}

// 30 steps of one unit, η = 0.5, the package's other defaults.
gbnn::Params default_settings() {
  gbnn::Params p;
  p.steps = 30;
  p.units = 1;
  p.eta = 0.5;
  return p;
}

}  // namespace

TEST_SUITE("realdata") {
  TEST_CASE("GBNN vs MLP-LBFGS, 10-fold CV: breast cancer, wine, iris") {
    for (const char* f : {"sklearn/breast_cancer.csv", "sklearn/wine_data.csv", "sklearn/iris.csv"}) {
      if (!orchard_test::have_data(orchard_test::data(f))) return;
    }
    compare("breast_cancer", read_counted("sklearn/breast_cancer.csv"), default_settings());
    compare("wine", read_counted("sklearn/wine_data.csv"), default_settings());
    compare("iris", read_counted("sklearn/iris.csv"), default_settings());
  }

  TEST_CASE("GBNN vs MLP-LBFGS, 10-fold CV: digits") {
    const auto path = orchard_test::data("sklearn/digits.csv.gz");
    if (!orchard_test::have_data(path)) return;
    io::CsvOptions o;
    o.label_column = 64;
    auto ds = io::read_csv<double>(path.string(), o);
    REQUIRE(ds.X.rows() == 1797);
    // Ten classes from 30 single-unit steps. Each step is a small network fitted to convergence
    // on ~800 rows: with the package's α = 1e-4 the units overfit their residuals and GBNN
    // trails the jointly trained MLP by ~2.7 points; a stronger L2 penalty on the step networks
    // (α = 1), one Newton step per class and η = 1 (with the step safeguard) leave 1-2 points
    // (docs/gbnn.md: the gap that remains is the greedy stage-wise fit). The margin catches a
    // regression to the untuned gap.
    gbnn::Params p = default_settings();
    p.alpha = 1.0;
    p.per_class_step = true;
    p.eta = 1.0;
    compare("digits", Set{ds.X, ds.y, true}, p, 0.02);
  }

  TEST_CASE("GBNN vs MLP-LBFGS, 10-fold CV: diabetes") {
    const auto xp = orchard_test::data("sklearn/diabetes_data_raw.csv.gz");
    const auto yp = orchard_test::data("sklearn/diabetes_target.csv.gz");
    if (!orchard_test::have_data(xp) || !orchard_test::have_data(yp)) return;
    io::CsvOptions o;
    o.delimiter = ' ';
    auto xs = io::read_csv<double>(xp.string(), o);
    auto ys = io::read_csv<double>(yp.string(), io::CsvOptions{});
    REQUIRE(xs.X.rows() == 442);
    REQUIRE(ys.X.rows() == 442);
    // ρ = η·ρ* with the exact least-squares step ρ* = Σrf/Σf² (the regression analogue of the
    // classification Newton steps) instead of the package's ρ* = 1: with ρ* = 1 a step network
    // that extrapolates badly can wreck a fold (two of ten folds at RMSE 92 and 188, mean 77.2
    // with fold sd 40.6; docs/gbnn.md).
    gbnn::Params p = default_settings();
    p.line_search = true;
    compare("diabetes", Set{xs.X, ys.X.col(0), false}, p);
  }
}
