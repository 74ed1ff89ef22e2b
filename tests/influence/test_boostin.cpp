// BoostIn (+W1/W2) and LeafInfluenceSP against literal transcriptions of their formulas.
#include <doctest/doctest.h>

#include "common.hpp"

using namespace itest;
namespace inf = orchard::influence;

namespace {

// BoostIn: sum_t 1[same leaf] dv_i^t G_e^t, with dv from the leaf's rows. weight: 0, 1, 2.
Eigen::MatrixXd naive_boostin(const orchard::gbdt::Model& m, const Data& tr, const Data& te, double eta,
                              double lambda, int weight) {
  Naive nv(m);
  const auto Str = nv.scores(tr.X), Ste = nv.scores(te.X);
  const auto Ltr = m.apply(orchard::cview<double>(tr.X), 1), Lte = m.apply(orchard::cview<double>(te.X), 1);
  const int n = int(tr.X.rows()), ne = int(te.X.rows());
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(n, ne);
  for (int t = 0; t < nv.T; ++t) {
    const int r = t / nv.K, c = m.tree_class[t];
    std::vector<double> g(n), h(n);
    double k;
    for (int i = 0; i < n; ++i) nv.derivs(Str[r].row(i), tr.y[i], c, g[i], h[i], k);
    for (int i = 0; i < n; ++i) {
      double H = 0, cnt = 0;
      for (int j = 0; j < n; ++j) {
        if (Ltr(j, t) == Ltr(i, t)) {
          H += h[j];
          cnt += 1;
        }
      }
      const double v = m.trees[t].values(Ltr(i, t))[0];
      double dv = eta * (g[i] + v * h[i]) / (H + lambda);
      if (weight == 1) dv /= cnt;
      if (weight == 2) dv /= cnt * cnt;
      for (int e = 0; e < ne; ++e) {
        if (Lte(e, t) != Ltr(i, t)) continue;
        double G, hh, kk;
        nv.derivs(Ste[r].row(e), te.y[e], c, G, hh, kk);
        out(i, e) += dv * G;
      }
    }
  }
  return out;
}

// LeafInfluenceSP: J accumulates per class; influence = -sum_c G_e^final sum_t 1[same] dv.
Eigen::MatrixXd naive_leafinfsp(const orchard::gbdt::Model& m, const Data& tr, const Data& te, double eta,
                                double lambda) {
  Naive nv(m);
  const auto Str = nv.scores(tr.X), Ste = nv.scores(te.X);
  const auto Ltr = m.apply(orchard::cview<double>(tr.X), 1), Lte = m.apply(orchard::cview<double>(te.X), 1);
  const int n = int(tr.X.rows()), ne = int(te.X.rows());
  Eigen::MatrixXd dv = Eigen::MatrixXd::Zero(n, nv.T), J = Eigen::MatrixXd::Zero(n, nv.K);
  for (int t = 0; t < nv.T; ++t) {
    const int r = t / nv.K, c = m.tree_class[t];
    std::vector<double> g(n), h(n), k(n);
    for (int i = 0; i < n; ++i) nv.derivs(Str[r].row(i), tr.y[i], c, g[i], h[i], k[i]);
    for (int i = 0; i < n; ++i) {
      double H = 0;
      for (int j = 0; j < n; ++j) H += Ltr(j, t) == Ltr(i, t) ? h[j] : 0.0;
      const double v = m.trees[t].values(Ltr(i, t))[0];
      dv(i, t) = -eta * ((g[i] + v / eta * h[i]) + (h[i] + v / eta * k[i]) * J(i, c)) / (H + lambda);
    }
    for (int i = 0; i < n; ++i) J(i, c) += dv(i, t);
  }
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(n, ne);
  for (int e = 0; e < ne; ++e) {
    for (int c = 0; c < nv.K; ++c) {
      double G, hh, kk;
      nv.derivs(Ste[nv.R].row(e), te.y[e], c, G, hh, kk);
      for (int i = 0; i < n; ++i) {
        double s = 0;
        for (int t = 0; t < nv.T; ++t) {
          if (m.tree_class[t] == c && Ltr(i, t) == Lte(e, t)) s += dv(i, t);
        }
        out(i, e) += -G * s;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("BoostIn and its W1/W2 variants equal the literal triple sum") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    const Data tr = make_data(120, 4, kind, 11 + kind), te = make_data(15, 4, kind, 99 + kind);
    const auto tp = train_params(kind);
    const auto m = train(tr, tp);
    for (int w = 0; w < 3; ++w) {
      CAPTURE(w);
      const char* name = w == 0 ? "boostin" : w == 1 ? "boostin_w1" : "boostin_w2";
      auto ex = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp));
      const Eigen::MatrixXd got = ex.local(orchard::cview<double>(te.X), vview(te.y));
      const Eigen::MatrixXd want = naive_boostin(m, tr, te, tp.learning_rate, tp.lambda_l2, w);
      REQUIRE(got.rows() == 120);
      REQUIRE(got.cols() == 15);
      CHECK(max_abs(got - want) <= 1e-10 * (1 + max_abs(want)));
      CHECK(max_abs(want) > 0);
    }
  }
}

TEST_CASE("LeafInfluenceSP equals its literal transcription") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    const Data tr = make_data(100, 4, kind, 21 + kind), te = make_data(12, 4, kind, 77 + kind);
    const auto tp = train_params(kind);
    const auto m = train(tr, tp);
    auto ex = inf::make("LeafInfSP", m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp));
    const Eigen::MatrixXd got = ex.local(orchard::cview<double>(te.X), vview(te.y));
    const Eigen::MatrixXd want = naive_leafinfsp(m, tr, te, tp.learning_rate, tp.lambda_l2);
    CHECK(max_abs(got - want) <= 1e-10 * (1 + max_abs(want)));
    CHECK(max_abs(want) > 0);
  }
}

TEST_CASE("learning rate and lambda are recovered from Newton leaves") {
  for (int kind = 0; kind < 3; ++kind) {
    const Data tr = make_data(150, 4, kind, 5 + kind);
    const auto tp = train_params(kind);
    const auto m = train(tr, tp);
    inf::Params p;
    p.threads = 1;
    auto ex = inf::make("boostin", m, orchard::cview<double>(tr.X), vview(tr.y), p);
    CHECK(ex.learning_rate() == doctest::Approx(tp.learning_rate).epsilon(1e-5));
    CHECK(ex.lambda_l2() == doctest::Approx(tp.lambda_l2).epsilon(1e-4));
    CHECK(ex.newton_residual() < 1e-6);
  }
}

TEST_CASE("tiled evaluation: many test rows, any thread count, one row at a time, top_k") {
  // 150 test rows span five tiles of the tiled kernel (32 test rows each; single rows use the
  // narrow 8-row tiles); 5 % missing values exercise the NaN path of the tree walk.
  const Data tr = gbdt_test::make(120, 4, 1, 41), te = gbdt_test::make(150, 4, 1, 42);
  const auto tp = train_params(1);
  const auto m = train(tr, tp);
  for (const char* name : {"boostin", "leaf_influence_sp"}) {
    CAPTURE(name);
    auto e1 = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp, 1));
    auto e2 = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp, 2));
    auto e3 = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp, 3));
    const Eigen::MatrixXd L1 = e1.local(orchard::cview<double>(te.X), vview(te.y));
    const Eigen::MatrixXd L2 = e2.local(orchard::cview<double>(te.X), vview(te.y));
    const Eigen::MatrixXd L3 = e3.local(orchard::cview<double>(te.X), vview(te.y));
    CHECK((L1.array() == L2.array()).all());
    CHECK((L1.array() == L3.array()).all());
    CHECK(((e1.self().array()) == (e2.self().array())).all());
    if (std::string(name) == "boostin") {
      const Eigen::MatrixXd want = naive_boostin(m, tr, te, tp.learning_rate, tp.lambda_l2, 0);
      CHECK(max_abs(L1 - want) <= 1e-10 * (1 + max_abs(want)));
    }
    bool same = true;
    for (int e : {0, 63, 64, 149}) {
      const RowMatrix x = te.X.row(e);
      const Eigen::VectorXd y = te.y.segment(e, 1);
      const Eigen::MatrixXd one = e2.local(orchard::cview<double>(x), vview(y));
      same = same && (one.col(0).array() == L1.col(e).array()).all();
    }
    CHECK(same);
    // every kernel (portable, AVX2, AVX-512, as far as the CPU has them) gives the same bits
    for (int level : {0, 1, 2}) {
      CAPTURE(level);
      inf::detail::tilek::isa_override() = level;
      const Eigen::MatrixXd Lk = e2.local(orchard::cview<double>(te.X), vview(te.y));
      inf::detail::tilek::isa_override() = -1;
      CHECK((Lk.array() == L1.array()).all());
    }
    const auto tk = e2.top_k(orchard::cview<double>(te.X), vview(te.y), 3);
    bool ok = true;
    for (int e = 0; e < 150; ++e) {
      Eigen::Index i = 0;
      const double mx = L1.col(e).maxCoeff(&i), mn = L1.col(e).minCoeff();
      ok = ok && tk.helpful_value(e, 0) == mx && tk.harmful_value(e, 0) == mn;
    }
    CHECK(ok);
  }
}
