// Parity with the reference package tree-influence 0.1.7 on committed LightGBM and XGBoost models:
// the fixtures (model, rows, the reference's outputs) were written by
//   bench/compare/influence.py --library lightgbm|xgboost --n-train 300 --n-test 10
//       --trees 20 --threads 2 --with-torch --fixture tests/influence/fixtures
// and the multiclass one (prefix xgb3) by
//   bench/compare/influence.py --library xgboost --classes 3 --n-train 200 --n-test 8
//       --trees 10 --threads 2 --with-torch --fixture tests/influence/fixtures
// BoostIn, LeafInfluenceSP and LeafSim to 1e-5 relative; TREX (the reference fits its surrogate
// with an iterative float32 optimiser) by the mean per-test-row Spearman correlation >= 0.99.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <orchard/core/io/csv.hpp>

#include "common.hpp"

namespace inf = orchard::influence;

namespace {
std::string fixture(const std::string& name) { return std::string(ORCHARD_INFLUENCE_FIXTURES) + "/" + name; }

Eigen::MatrixXd read_matrix(const std::string& path) {
  const auto d = orchard::io::read_csv<double>(path);
  return Eigen::MatrixXd(d.X);
}

// ranks 1..n, ties get their mean rank
Eigen::VectorXd ranks(const Eigen::VectorXd& v) {
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(v.size()));
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](Eigen::Index a, Eigen::Index b) { return v[a] < v[b]; });
  Eigen::VectorXd r(v.size());
  for (std::size_t a = 0; a < idx.size();) {
    std::size_t b = a;
    while (b < idx.size() && v[idx[b]] == v[idx[a]]) ++b;
    for (std::size_t q = a; q < b; ++q) r[idx[q]] = 0.5 * static_cast<double>(a + b - 1) + 1;
    a = b;
  }
  return r;
}

double spearman(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const Eigen::VectorXd ra = ranks(a), rb = ranks(b);
  const Eigen::VectorXd ca = ra.array() - ra.mean(), cb = rb.array() - rb.mean();
  return ca.dot(cb) / std::sqrt(ca.squaredNorm() * cb.squaredNorm());
}

void check_parity(const std::string& lib, const orchard::gbdt::Model& model) {
  orchard::io::CsvOptions co;
  co.label_column = 0;
  const auto tr = orchard::io::read_csv<double>(fixture(lib + "_train.csv"), co);
  const auto te = orchard::io::read_csv<double>(fixture(lib + "_test.csv"), co);
  inf::Params p;
  p.threads = 2;
  p.learning_rate = 0.1;
  p.lambda_l2 = 1.0;
  for (const char* m : {"boostin", "leaf_influence_sp", "leaf_sim", "trex"}) {
    CAPTURE(lib);
    CAPTURE(m);
    const auto ex = inf::make(m, model, orchard::cview<double>(tr.X),
                              orchard::ConstVectorView<double>(tr.y.data(), tr.y.size()), p);
    const Eigen::MatrixXd got =
        ex.local(orchard::cview<double>(te.X), orchard::ConstVectorView<double>(te.y.data(), te.y.size()));
    const Eigen::MatrixXd ref = read_matrix(fixture(lib + "_ref_" + m + ".csv"));
    REQUIRE(got.rows() == ref.rows());
    REQUIRE(got.cols() == ref.cols());
    if (std::string(m) == "trex") {
      double sp = 0;
      for (Eigen::Index e = 0; e < ref.cols(); ++e) sp += spearman(got.col(e), ref.col(e));
      sp /= static_cast<double>(ref.cols());
      CAPTURE(sp);
      CHECK(sp >= 0.99);
    } else {
      CHECK((got - ref).cwiseAbs().maxCoeff() <= 1e-5 * ref.cwiseAbs().maxCoeff());
    }
  }
}
}  // namespace

TEST_CASE("parity with tree-influence on a LightGBM model") {
  check_parity("lgb", orchard::gbdt::import_lightgbm(fixture("lgb_model.txt")));
}

TEST_CASE("parity with tree-influence on an XGBoost model") {
  check_parity("xgb", orchard::gbdt::import_xgboost(fixture("xgb_model.json")));
}

TEST_CASE("parity with tree-influence on an XGBoost multiclass model") {
  // 3 classes x 10 rounds (30 trees), 200 training rows, 8 test rows; softmax hessian factor 2
  // (XGBoost's), every class's bias the same 0.5 (the reference's zero bias, up to the softmax's
  // shift invariance).
  const auto m = orchard::gbdt::import_xgboost(fixture("xgb3_model.json"));
  REQUIRE(m.num_class == 3);
  check_parity("xgb3", m);
}
