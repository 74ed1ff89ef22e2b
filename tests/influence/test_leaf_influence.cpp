// LeafInfluence against finite differences of leaf refits with fixed structure; LeafRefit against
// a literal refit; LOO against retraining.
#include <doctest/doctest.h>

#include "common.hpp"

using namespace itest;
namespace inf = orchard::influence;

namespace {

// Refits every leaf as a Newton step with row weights w (fixed structure, gradients at the score
// before each round); returns the raw scores of `X` under the refitted model.
Eigen::MatrixXd refit_predict(const orchard::gbdt::Model& m, const Data& tr, const std::vector<double>& w,
                              double eta, double lambda, const RowMatrix& X) {
  Naive nv(m);
  const auto Ltr = m.apply(orchard::cview<double>(tr.X), 1), L = m.apply(orchard::cview<double>(X), 1);
  const int n = int(tr.X.rows());
  Eigen::MatrixXd F(n, nv.K), Fx(X.rows(), nv.K);
  for (int c = 0; c < nv.K; ++c) {
    F.col(c).setConstant(m.base_score[c]);
    Fx.col(c).setConstant(m.base_score[c]);
  }
  for (int r = 0; r < nv.R; ++r) {
    const Eigen::MatrixXd F0 = F;
    for (int c = 0; c < nv.K; ++c) {
      const int t = r * nv.K + c;
      const auto& tree = m.trees[t];
      for (int node = 0; node < tree.num_nodes(); ++node) {
        if (!tree.is_leaf(node)) continue;
        double G = 0, H = 0;
        for (int j = 0; j < n; ++j) {
          if (Ltr(j, t) != node) continue;
          double g, h, k;
          nv.derivs(F0.row(j), tr.y[j], m.tree_class[t], g, h, k);
          G += w[j] * g;
          H += w[j] * h;
        }
        const double v = -eta * G / (H + lambda);
        for (int j = 0; j < n; ++j) {
          if (Ltr(j, t) == node) F(j, m.tree_class[t]) += v;
        }
        for (int e = 0; e < X.rows(); ++e) {
          if (L(e, t) == node) Fx(e, m.tree_class[t]) += v;
        }
      }
    }
  }
  return Fx;
}

}  // namespace

TEST_CASE("LeafInfluence equals finite differences of the weighted leaf refit") {
  for (int kind = 0; kind < 2; ++kind) {
    CAPTURE(kind);
    const Data tr = make_data(60, 3, kind, 31 + kind), te = make_data(8, 3, kind, 41 + kind);
    const auto tp = train_params(kind, 5, 2);
    const auto m = train(tr, tp);
    auto ex = inf::make("leaf_influence", m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp));
    const Eigen::MatrixXd got = ex.local(orchard::cview<double>(te.X), vview(te.y));
    Naive nv(m);
    const Eigen::MatrixXd Ffin = m.predict_raw(orchard::cview<double>(te.X), -1, 1);
    const double eps = 1e-5;
    Eigen::MatrixXd want(60, 8);
    for (int r = 0; r < 60; ++r) {
      std::vector<double> wp(60, 1.0), wm(60, 1.0);
      wp[r] += eps;
      wm[r] -= eps;
      const Eigen::MatrixXd dF = (refit_predict(m, tr, wp, tp.learning_rate, tp.lambda_l2, te.X) -
                                  refit_predict(m, tr, wm, tp.learning_rate, tp.lambda_l2, te.X)) / (2 * eps);
      for (int e = 0; e < 8; ++e) {
        double acc = 0;
        for (int c = 0; c < nv.K; ++c) {
          double G, h, k;
          nv.derivs(Ffin.row(e), te.y[e], c, G, h, k);
          acc += -G * dF(e, c);
        }
        want(r, e) = acc;
      }
    }
    CHECK(max_abs(got - want) <= 1e-6 * (1 + max_abs(want)));
    CHECK(max_abs(want) > 1e-4);
  }
}

TEST_CASE("LeafInfluence with update_set 0 is LeafInfluenceSP; update_set k lies between") {
  for (int kind = 0; kind < 3; ++kind) {
    const Data tr = make_data(70, 3, kind, 51 + kind), te = make_data(6, 3, kind, 61 + kind);
    const auto tp = train_params(kind, 4, 2);
    const auto m = train(tr, tp);
    auto p = iparams(tp);
    p.update_set = 0;
    const auto a = inf::make("leaf_influence", m, orchard::cview<double>(tr.X), vview(tr.y), p)
                       .local(orchard::cview<double>(te.X), vview(te.y));
    const auto b = inf::make("leaf_influence_sp", m, orchard::cview<double>(tr.X), vview(tr.y), p)
                       .local(orchard::cview<double>(te.X), vview(te.y));
    CHECK(max_abs(a - b) <= 1e-12 * (1 + max_abs(b)));
    p.update_set = 100;  // more leaves than any tree has: every row, i.e. update_set -1
    const auto c = inf::make("leaf_influence", m, orchard::cview<double>(tr.X), vview(tr.y), p)
                       .local(orchard::cview<double>(te.X), vview(te.y));
    p.update_set = -1;
    const auto d = inf::make("leaf_influence", m, orchard::cview<double>(tr.X), vview(tr.y), p)
                       .local(orchard::cview<double>(te.X), vview(te.y));
    CHECK(max_abs(c - d) <= 1e-12 * (1 + max_abs(d)));
  }
}

TEST_CASE("LeafRefit: nothing removed reproduces the leaves; removal equals a literal refit") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    const Data tr = make_data(50, 3, kind, 71 + kind), te = make_data(7, 3, kind, 81 + kind);
    const auto tp = train_params(kind, 4, 2);
    const auto m = train(tr, tp);
    auto ex = inf::make("leaf_refit", m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp));
    const auto* lr = dynamic_cast<const inf::detail::LeafRefit*>(&ex.method());
    REQUIRE(lr != nullptr);
    const auto& base = lr->base_values();
    std::size_t q = 0;
    double worst = 0;
    for (const auto& t : m.trees) {
      for (int node = 0; node < t.num_nodes(); ++node) {
        if (t.is_leaf(node)) worst = std::max(worst, std::fabs(base[q++] - t.values(node)[0]));
      }
    }
    CHECK(worst < 1e-6);
    const Eigen::MatrixXd got = ex.local(orchard::cview<double>(te.X), vview(te.y));
    Naive nv(m);
    std::vector<double> ones(50, 1.0);
    const Eigen::MatrixXd F1 = refit_predict(m, tr, ones, tp.learning_rate, tp.lambda_l2, te.X);
    double err = 0, scale = 0;
    for (int r = 0; r < 50; ++r) {
      std::vector<double> w(50, 1.0);
      w[r] = 0;
      const Eigen::MatrixXd F0 = refit_predict(m, tr, w, tp.learning_rate, tp.lambda_l2, te.X);
      for (int e = 0; e < 7; ++e) {
        const double want = nv.loss(F0.row(e), te.y[e]) - nv.loss(F1.row(e), te.y[e]);
        err = std::max(err, std::fabs(got(r, e) - want));
        scale = std::max(scale, std::fabs(want));
      }
    }
    CHECK(err <= 1e-8 * (1 + scale));
    CHECK(scale > 0);
  }
}

TEST_CASE("LOO equals actually retraining without each row") {
  for (int kind = 0; kind < 3; kind += 1) {
    CAPTURE(kind);
    const Data tr = make_data(24, 3, kind, 91 + kind), te = make_data(5, 3, kind, 92 + kind);
    const auto tp = train_params(kind, 3, 2);
    const auto m = train(tr, tp);
    auto ex = inf::make("loo", m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp, 2));
    const Eigen::MatrixXd got = ex.local(orchard::cview<double>(te.X), vview(te.y));
    Naive nv(m);
    const Eigen::MatrixXd F = m.predict_raw(orchard::cview<double>(te.X), -1, 1);
    for (int r = 0; r < 24; ++r) {
      Data d;
      d.X.resize(23, 3);
      d.y.resize(23);
      for (int i = 0, q = 0; i < 24; ++i) {
        if (i == r) continue;
        d.X.row(q) = tr.X.row(i);
        d.y[q++] = tr.y[i];
      }
      const auto mr = train(d, tp);
      const Eigen::MatrixXd Fr = mr.predict_raw(orchard::cview<double>(te.X), -1, 1);
      for (int e = 0; e < 5; ++e) {
        CHECK(got(r, e) == doctest::Approx(nv.loss(Fr.row(e), te.y[e]) - nv.loss(F.row(e), te.y[e])).epsilon(1e-12));
      }
    }
  }
}
