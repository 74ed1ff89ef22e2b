// TREX (stationarity of the surrogate, influence formula) and the similarity baselines against
// dense naive computations.
#include <doctest/doctest.h>

#include "common.hpp"

using namespace itest;
namespace inf = orchard::influence;

namespace {

// Dense tree-kernel features phi (rows x sum leaves) of X with weights by kernel.
Eigen::MatrixXd dense_phi(const orchard::gbdt::Model& m, const Data& tr, const RowMatrix& X, const std::string& kernel) {
  const auto Ltr = m.apply(orchard::cview<double>(tr.X), 1), L = m.apply(orchard::cview<double>(X), 1);
  std::vector<int> base{0};
  for (const auto& t : m.trees) base.push_back(base.back() + t.num_nodes());
  Eigen::MatrixXd phi = Eigen::MatrixXd::Zero(X.rows(), base.back());
  for (int e = 0; e < X.rows(); ++e) {
    for (int t = 0; t < int(m.trees.size()); ++t) {
      const int node = L(e, t);
      double cnt = 0;
      for (int j = 0; j < tr.X.rows(); ++j) cnt += Ltr(j, t) == node ? 1 : 0;
      const double w = kernel == "lpw" ? (cnt > 0 ? 1 / cnt : 0) : kernel == "lp" ? 1.0 : m.trees[t].values(node)[0];
      phi(e, base[t] + node) = w;
    }
  }
  return phi;
}

double sign_of(const orchard::gbdt::Model& m, double yi, double ye, double pe) {
  if (m.objective != orchard::gbdt::Objective::squared_error) return yi == ye ? 1 : -1;
  return ((yi >= pe) != (pe >= ye)) ? 1 : -1;
}

}  // namespace

TEST_CASE("TREX: representer weights are a fixed point of the surrogate, influence matches the formula") {
  for (int kind = 0; kind < 3; ++kind) {
    for (const char* kernel : {"lpw", "lp", "lo"}) {
      CAPTURE(kind);
      CAPTURE(kernel);
      const Data tr = make_data(80, 3, kind, 101 + kind), te = make_data(6, 3, kind, 111 + kind);
      const auto tp = train_params(kind, 4, 2);
      const auto m = train(tr, tp);
      auto p = iparams(tp);
      p.kernel = kernel;
      p.trex_epsilon = 1e-10;
      auto ex = inf::make("trex", m, orchard::cview<double>(tr.X), vview(tr.y), p);
      const auto* tx = dynamic_cast<const inf::detail::Trex*>(&ex.method());
      REQUIRE(tx != nullptr);
      const int C = kind == 2 ? 3 : 1, n = 80;
      Eigen::MatrixXd alpha(n, C);
      for (int i = 0; i < n; ++i) {
        for (int c = 0; c < C; ++c) alpha(i, c) = tx->alpha()[i * C + c];
      }
      const Eigen::MatrixXd Ptr = dense_phi(m, tr, tr.X, kernel), Pte = dense_phi(m, tr, te.X, kernel);
      const Eigen::MatrixXd Ktr = Ptr * Ptr.transpose(), Kte = Ptr * Pte.transpose();
      // stationarity: D = phi W with W = sum alpha phi (x2 for the squared loss without 1/2)
      const Eigen::MatrixXd D = (kind == 0 ? 2.0 : 1.0) * Ktr * alpha;
      double worst = 0;
      for (int i = 0; i < n; ++i) {
        Eigen::RowVectorXd pr(C);
        if (kind == 0) {
          pr[0] = D(i, 0);
        } else if (kind == 1) {
          pr[0] = 1 / (1 + std::exp(-D(i, 0)));
        } else {
          pr = (D.row(i).array() - D.row(i).maxCoeff()).exp();
          pr /= pr.sum();
        }
        for (int c = 0; c < C; ++c) {
          const double y = kind == 2 ? (int(tr.y[i]) == c ? 1.0 : 0.0) : tr.y[i];
          worst = std::max(worst, std::fabs(alpha(i, c) - (pr[c] - y) / (-2 * p.trex_lambda * n)));
        }
      }
      CHECK(worst <= 1e-5 * (1 + alpha.cwiseAbs().maxCoeff()));
      // influence formula
      Naive nv(m);
      const Eigen::MatrixXd got = ex.local(orchard::cview<double>(te.X), vview(te.y));
      const Eigen::MatrixXd S = Kte.transpose() * alpha;  // m x C
      double err = 0, scale = 0;
      for (int e = 0; e < 6; ++e) {
        for (int i = 0; i < n; ++i) {
          const Eigen::RowVectorXd Si = S.row(e) - alpha.row(i) * Kte(i, e);
          const double want = nv.loss(Si, te.y[e]) - nv.loss(S.row(e), te.y[e]);
          err = std::max(err, std::fabs(got(i, e) - want));
          scale = std::max(scale, std::fabs(want));
        }
      }
      CHECK(err <= 1e-10 * (1 + scale));
      CHECK(scale > 0);
    }
  }
}

TEST_CASE("TreeSim, LeafSim and InputSim equal dense similarity times label agreement") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    const Data tr = make_data(60, 3, kind, 121 + kind), te = make_data(5, 3, kind, 131 + kind);
    const auto tp = train_params(kind, 4, 2);
    const auto m = train(tr, tp);
    const Eigen::MatrixXd pred = m.predict_raw(orchard::cview<double>(te.X), -1, 1);
    for (const char* measure : {"dot_prod", "cosine", "euclidean"}) {
      for (const char* kernel : {"lpw", "lp", "lo"}) {
        for (const char* name : {"tree_sim", "input_sim", "leaf_sim"}) {
          if (std::string(name) == "leaf_sim" && (std::string(measure) != "dot_prod" || std::string(kernel) != "lpw")) continue;
          if (std::string(name) == "input_sim" && std::string(kernel) != "lpw") continue;
          CAPTURE(measure);
          CAPTURE(kernel);
          CAPTURE(name);
          auto p = iparams(tp);
          p.measure = measure;
          p.kernel = kernel;
          const auto got = inf::make(name, m, orchard::cview<double>(tr.X), vview(tr.y), p)
                               .local(orchard::cview<double>(te.X), vview(te.y));
          const bool input = std::string(name) == "input_sim";
          const Eigen::MatrixXd A = input ? Eigen::MatrixXd(tr.X) : dense_phi(m, tr, tr.X, kernel);
          const Eigen::MatrixXd B = input ? Eigen::MatrixXd(te.X) : dense_phi(m, tr, te.X, kernel);
          double err = 0;
          for (int e = 0; e < 5; ++e) {
            for (int i = 0; i < 60; ++i) {
              double sim = A.row(i).dot(B.row(e));
              if (std::string(measure) == "cosine") sim /= A.row(i).norm() * B.row(e).norm();
              if (std::string(measure) == "euclidean") {
                const double d = (A.row(i) - B.row(e)).norm();
                sim = d == 0 ? std::numeric_limits<double>::max() : 1 / d;
              }
              const double want = sim * sign_of(m, tr.y[i], te.y[e], pred(e, 0));
              err = std::max(err, std::fabs(got(i, e) - want) / (1 + std::fabs(want)));
            }
          }
          CHECK(err <= 1e-10);
        }
      }
    }
  }
}

TEST_CASE("Target, Random and Loss baselines") {
  const Data tr = make_data(40, 3, 1, 141), te = make_data(4, 3, 1, 142);
  const auto tp = train_params(1, 3, 2);
  const auto m = train(tr, tp);
  const auto t = inf::make("target", m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp))
                     .local(orchard::cview<double>(te.X), vview(te.y));
  for (int e = 0; e < 4; ++e) {
    for (int i = 0; i < 40; ++i) {
      if (tr.y[i] == te.y[e]) {
        CHECK((t(i, e) >= 0 && t(i, e) < 1));
      } else {
        CHECK((t(i, e) >= -1 && t(i, e) < 0));
      }
    }
  }
  const auto r = inf::make("random", m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp))
                     .local(orchard::cview<double>(te.X), vview(te.y));
  CHECK(r.maxCoeff() < 1);
  CHECK(r.minCoeff() >= -1);
  CHECK(r.minCoeff() < 0);
  auto ls = inf::make("loss", m, orchard::cview<double>(tr.X), vview(tr.y), iparams(tp));
  const Eigen::VectorXd s = ls.self();
  const Eigen::MatrixXd F = m.predict_raw(orchard::cview<double>(tr.X), -1, 1);
  Naive nv(m);
  for (int i = 0; i < 40; ++i) CHECK(s[i] == doctest::Approx(nv.loss(F.row(i), tr.y[i])).epsilon(1e-12));
  CHECK_THROWS_AS(ls.local(orchard::cview<double>(te.X), vview(te.y)), orchard::InvalidArgument);
}
