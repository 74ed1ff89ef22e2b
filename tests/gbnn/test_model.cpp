// GBNN: Newton step, export, staged prediction / switch-off, thread invariance, save/load, errors.
#include <doctest/doctest.h>

#include <fstream>
#include <orchard/gbnn.hpp>
#include <sstream>

#include "gbnn_test_data.hpp"
#include "orchard_test.hpp"

using namespace orchard;
using gbnn_test::Mat;
using gbnn_test::Vec;

namespace {

// h_t(X) computed naively from the model's stored parameters.
Mat step_output(const gbnn::Model<double>& m, const Mat& X, int t) {
  const int J = m.units_per_step(), K = static_cast<int>(m.n_outputs());
  Mat f(X.rows(), K);
  for (int i = 0; i < X.rows(); ++i) {
    for (int k = 0; k < K; ++k) {
      double o = m.b2()(t, k);
      for (int j = 0; j < J; ++j) {
        double z = m.b1()[t * J + j];
        for (int c = 0; c < X.cols(); ++c) z += X(i, c) * m.W1()(c, t * J + j);
        o += m.W2()(t * J + j, k) / (1 + std::exp(-z));
      }
      f(i, k) = o;
    }
  }
  return f;
}

// Golden-section minimum of a unimodal function on [a, b].
template <class Fn>
double golden(Fn&& fn, double a, double b) {
  const double g = (std::sqrt(5.0) - 1) / 2;
  double c = b - g * (b - a), d = a + g * (b - a);
  for (int it = 0; it < 200; ++it) {
    if (fn(c) < fn(d)) b = d; else a = c;
    c = b - g * (b - a);
    d = a + g * (b - a);
  }
  return (a + b) / 2;
}

double max_abs(const Mat& a, const Mat& b) { return (a - b).cwiseAbs().maxCoeff(); }

}  // namespace

TEST_CASE("binary Newton step equals -L'(0)/L''(0) of the true loss and nearly its line minimum") {
  auto pr = gbnn_test::make_problem(1);
  auto p = gbnn_test::small_params(1, 3, 2);
  p.safeguard_step = false;
  gbnn::Model<double> m;
  m.fit(pr.X, pr.y, p, Context(1));
  for (int t = 1; t < 3; ++t) {
    const Mat F = m.decision_function(pr.X, t, Context(1));
    const Mat f = step_output(m, pr.X, t);
    auto L = [&](double rho) {
      double s = 0;
      for (int i = 0; i < pr.X.rows(); ++i) {
        const double y = pr.y[i] > 0.5 ? 1 : -1;
        s += std::log1p(std::exp(-2 * y * (F(i, 0) + rho * f(i, 0))));
      }
      return s;
    };
    const double h = 1e-4;
    const double d1 = (L(h) - L(-h)) / (2 * h), d2 = (L(h) - 2 * L(0) + L(-h)) / (h * h);
    CHECK(m.rho()(t, 0) == doctest::Approx(-d1 / d2).epsilon(1e-5));
    const double best = golden(L, 0.0, 4 * std::abs(m.rho()(t, 0)) + 1);
    // One Newton step from 0 captures most of the exact line search's decrease.
    CHECK(L(0) - L(m.rho()(t, 0)) >= 0.8 * (L(0) - L(best)));
  }
}

TEST_CASE("regression line search gives the exact minimiser along the step") {
  auto pr = gbnn_test::make_problem(0);
  auto p = gbnn_test::small_params(0, 3, 2);
  p.line_search = true;
  p.eta = 1.0;
  gbnn::Model<double> m;
  m.fit(pr.X, pr.y, p, Context(1));
  const Mat F = m.decision_function(pr.X, 1, Context(1));
  const Mat f = step_output(m, pr.X, 1);
  auto L = [&](double rho) { return (pr.y - (F.col(0) + rho * f.col(0))).squaredNorm(); };
  CHECK(m.rho()(1, 0) == doctest::Approx(golden(L, -5.0, 5.0)).epsilon(1e-6));
}

TEST_CASE("multiclass: guarded step never increases the training loss; per-class steps work") {
  auto pr = gbnn_test::make_problem(2);
  for (bool per_class : {false, true}) {
    auto p = gbnn_test::small_params(2, 8, 2);
    p.per_class_step = per_class;
    gbnn::Model<double> m;
    m.fit(pr.X, pr.y, p, Context(2));
    const auto& l = m.train_losses();
    for (std::size_t t = 1; t < l.size(); ++t) CHECK(l[t] <= l[t - 1] + 1e-12);
    CHECK(l.back() < 0.5 * std::log(3.0));
    if (per_class) CHECK(m.rho()(0, 0) != m.rho()(0, 1));
    CHECK(m.score(pr.X, pr.y) > 0.85);
  }
}

TEST_CASE("exported network predicts what the additive model predicts (1e-12)") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    auto pr = gbnn_test::make_problem(kind);
    gbnn::Model<double> m;
    m.fit(pr.X, pr.y, gbnn_test::small_params(kind), Context(2));
    const auto net = m.to_network();
    CHECK(net.n_hidden() == 12);
    const Mat F = m.decision_function(pr.X);
    const Mat Z = net.raw(pr.X);
    CHECK(max_abs(kind == 1 ? Mat(2 * F) : F, Z) < 1e-12);
    CHECK(max_abs(m.predict_proba(pr.X), net.predict_proba(pr.X)) < 1e-12);
    if (kind > 0) CHECK(m.predict(pr.X) == net.predict(pr.X));
  }
}

TEST_CASE("staged prediction after t steps equals a model trained for t steps") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    auto pr = gbnn_test::make_problem(kind);
    auto p = gbnn_test::small_params(kind, 6);
    gbnn::Model<double> full;
    full.fit(pr.X, pr.y, p, Context(2));
    const auto staged = full.staged_decision_function(pr.X);
    REQUIRE(staged.size() == 6);
    p.steps = 4;
    gbnn::Model<double> part;
    part.fit(pr.X, pr.y, p, Context(2));
    CHECK(part.decision_function(pr.X) == staged[3]);
    CHECK(full.decision_function(pr.X, 4) == staged[3]);
    CHECK(part.W1() == full.W1().leftCols(8));
    CHECK(part.rho() == full.rho().topRows(4));
    const auto scores = full.staged_score(pr.X, pr.y);
    CHECK(scores[3] == part.score(pr.X, pr.y));
  }
}

TEST_CASE("switching off the last hidden units reproduces staged predictions") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    auto pr = gbnn_test::make_problem(kind);
    auto p = gbnn_test::small_params(kind, 8, 2);
    gbnn::Model<double> m;
    m.fit(pr.X, pr.y, p, Context(2));
    const auto net = m.to_network();
    const auto staged = m.staged_decision_function(pr.X);
    for (int t : {2, 4, 6, 8}) {
      const Mat F = kind == 1 ? Mat(2 * staged[t - 1]) : staged[t - 1];
      CHECK(max_abs(net.raw(pr.X, 2 * t), F) < 1e-12);
    }
    CHECK_THROWS_AS(net.raw(pr.X, 3), InvalidArgument);  // not a whole step
  }
}

TEST_CASE("same seed, same model for any thread count; other seed, other model") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    auto pr = gbnn_test::make_problem(kind, 300);  // (row-block splits: test_objective.cpp)
    auto p = gbnn_test::small_params(kind, 4);
    gbnn::Model<double> a, b, c, e;
    a.fit(pr.X, pr.y, p, Context(1));
    b.fit(pr.X, pr.y, p, Context(2));
    c.fit(pr.X, pr.y, p, Context(3));
    CHECK(a.W1() == b.W1());
    CHECK(a.W1() == c.W1());
    CHECK(a.rho() == c.rho());
    CHECK(a.W2() == c.W2());
    CHECK(a.decision_function(pr.X, -1, Context(1)) == c.decision_function(pr.X, -1, Context(3)));
    p.seed = 12;
    e.fit(pr.X, pr.y, p, Context(2));
    CHECK(e.W1() != a.W1());
  }
}

TEST_CASE("save / load round trip; damaged files throw") {
  orchard_test::TempDir dir("gbnn_io");
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    auto pr = gbnn_test::make_problem(kind);
    gbnn::Model<double> m;
    m.fit(pr.X, pr.y, gbnn_test::small_params(kind), Context(2));
    const std::string path = (dir / "m.json").string();
    m.save(path);
    const auto back = gbnn::Model<double>::load(path);
    CHECK(back.decision_function(pr.X) == m.decision_function(pr.X));
    CHECK(back.rho() == m.rho());
    CHECK(back.train_losses() == m.train_losses());
    const auto net = m.to_network();
    net.save((dir / "n.json").string());
    CHECK(gbnn::Network<double>::load((dir / "n.json").string()).raw(pr.X) == net.raw(pr.X));

    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    {
      std::ofstream out(dir / "trunc.json");
      out << text.substr(0, text.size() / 2);
    }
    CHECK_THROWS_AS(gbnn::Model<double>::load((dir / "trunc.json").string()), Error);
    std::string bad = text;
    const auto pos = bad.find("\"steps\": 6");
    REQUIRE(pos != std::string::npos);
    bad.replace(pos, 10, "\"steps\": 7");
    {
      std::ofstream out(dir / "bad.json");
      out << bad;
    }
    CHECK_THROWS_AS(gbnn::Model<double>::load((dir / "bad.json").string()), FormatError);
    {
      std::ofstream out(dir / "kind.json");
      out << R"({"format": "orchard", "kind": "gbdt", "version": 1})";
    }
    CHECK_THROWS_AS(gbnn::Model<double>::load((dir / "kind.json").string()), FormatError);
  }
}

TEST_CASE("early stopping keeps the best validation prefix; progress can stop training") {
  auto pr = gbnn_test::make_problem(0, 200);
  auto va = gbnn_test::make_problem(0, 80, 4, 99);
  auto p = gbnn_test::small_params(0, 30, 4);
  p.early_stopping_rounds = 3;
  gbnn::Model<double> m;
  int reports = 0;
  m.fit(pr.X, pr.y, va.X, va.y, p, Context(2), [&](const gbnn::Progress& pg) {
    ++reports;
    CHECK(std::isfinite(pg.valid_loss));
    return true;
  });
  const auto& vl = m.valid_losses();
  REQUIRE(!vl.empty());
  const auto best = std::min_element(vl.begin(), vl.end()) - vl.begin();
  CHECK(m.n_steps() == best + 1);
  CHECK(reports >= m.n_steps());
  if (reports < 30) CHECK(reports == m.n_steps() + 3);

  gbnn::Model<double> s;
  auto q = gbnn_test::small_params(1, 10);
  auto bin = gbnn_test::make_problem(1);
  s.fit(bin.X, bin.y, q, Context(1), [](const gbnn::Progress& pg) { return pg.step < 3; });
  CHECK(s.n_steps() == 3);
}

TEST_CASE("reference mode forces the package's choices") {
  auto p = gbnn::Params::reference(gbnn::Task::classification, 200, 4);
  CHECK(p.steps == 50);
  p.alpha = 0.5;
  p.max_iter = 3;
  p.per_class_step = true;
  const auto e = p.effective();
  CHECK(e.alpha == 1e-4);
  CHECK(e.max_iter == 200);
  CHECK(e.lbfgs_memory == 10);
  CHECK_FALSE(e.per_class_step);
  CHECK_FALSE(e.safeguard_step);
  p.early_stopping_rounds = 2;
  CHECK_THROWS_AS(p.effective(), InvalidArgument);
}

TEST_CASE("bad input is rejected with the argument's name and value") {
  auto pr = gbnn_test::make_problem(1, 50);
  gbnn::Model<double> m;
  auto expect = [&](gbnn::Params p, const std::string& needle, const Mat& X, const Vec& y) {
    try {
      m.fit(X, y, p, Context(1));
      FAIL("no exception for " << needle);
    } catch (const InvalidArgument& e) {
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  auto p = gbnn_test::small_params(1, 2);
  auto q = p;
  q.units = 0;
  expect(q, "'units' = 0", pr.X, pr.y);
  q = p;
  q.steps = -1;
  expect(q, "'steps' = -1", pr.X, pr.y);
  q = p;
  q.subsample = 0;
  expect(q, "'subsample' = 0", pr.X, pr.y);
  q.subsample = 1.5;
  expect(q, "'subsample' = 1.5", pr.X, pr.y);
  q = p;
  q.eta = 0;
  expect(q, "'eta' = 0", pr.X, pr.y);
  expect(p, "two classes", pr.X, Vec::Ones(50));
  Mat Xn = pr.X;
  Xn(7, 2) = std::nan("");
  expect(p, "'X(7, 2)' = nan", Xn, pr.y);
  expect(p, "'y.size' = 49", pr.X, pr.y.head(49));
  Vec yb = pr.y;
  yb[3] = 0.5;
  expect(p, "'y[3]' = 0.5", pr.X, yb);
  CHECK_THROWS_AS(m.predict(pr.X), InvalidArgument);  // unfitted
  m.fit(pr.X, pr.y, p, Context(1));
  Mat wrong(3, 5);
  wrong.setZero();
  CHECK_THROWS_WITH_AS(m.predict(wrong), doctest::Contains("'X.cols' = 5"), InvalidArgument);
  CHECK_THROWS_WITH_AS(m.predict(pr.X, 9), doctest::Contains("'n_steps' = 9"), InvalidArgument);
}

TEST_CASE("a CUDA context without the registered GPU path throws DeviceError") {
  // This executable does not include <orchard/gbnn/cuda.hpp>: the GPU objective is not linked in.
  auto pr = gbnn_test::make_problem(1, 60);
  gbnn::Model<double> m;
  CHECK_THROWS_WITH_AS(m.fit(pr.X, pr.y, gbnn_test::small_params(1, 2), Context(1, Device::cuda)),
                       doctest::Contains("gbnn CUDA path is not linked in"), DeviceError);
  CHECK_FALSE(m.fitted());
  gbnn::MlpParams mp;
  mp.hidden = 4;
  gbnn::Mlp<double> mlp;
  CHECK_THROWS_AS(mlp.fit(pr.X, pr.y, mp, Context(1, Device::cuda)), DeviceError);
  mp.solver = gbnn::Solver::adam;
  CHECK_THROWS_AS(mlp.fit(pr.X, pr.y, mp, Context(1, Device::cuda)), DeviceError);
}
