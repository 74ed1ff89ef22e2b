// Real data (../shared/data/lightgbm): test metrics against LightGBM 4.6.0 (leaf-wise) and
// XGBoost 3.2.0 (hist, depth-wise) with the same hyperparameters, measured by
// bench/compare/gbdt_anchor.py (2 threads, 100 rounds, learning rate 0.1, 255 bins).
// Tolerances: RMSE +1 %, accuracy -0.5 pt; AUC +-0.01 because the test set has 500 rows and
// the anchors' own AUC moves that much with binning alone (XGBoost 3.2.0 on the same data:
// max_bin 64 -> 0.8370, 255 -> 0.8354, 1024 -> 0.8289; LightGBM 0.8321).
#include <doctest/doctest.h>

#include <cmath>
#include <iostream>
#include <orchard/core/io/csv.hpp>
#include <orchard/core/io/libsvm.hpp>
#include <orchard/gbdt.hpp>
#include <orchard_test.hpp>

using namespace orchard;

namespace {
struct Task {
  io::Dataset<double> train, test;
};
Task load(const std::string& name) {
  io::CsvOptions o;
  o.label_column = 0;
  return {io::read_tsv<double>(orchard_test::data("lightgbm/" + name + ".train").string(), o),
          io::read_tsv<double>(orchard_test::data("lightgbm/" + name + ".test").string(), o)};
}
gbdt::Params lightgbm_like(const char* obj) {
  gbdt::Params p;
  p.objective = obj;
  p.num_rounds = 100;
  p.learning_rate = 0.1;
  p.growth = "leafwise";
  p.num_leaves = 31;
  p.max_depth = -1;
  p.min_data_in_leaf = 20;
  p.min_child_weight = 1e-3;
  p.lambda_l2 = 0.0;
  p.threads = 2;
  return p;
}
gbdt::Params xgboost_like(const char* obj) {
  gbdt::Params p;
  p.objective = obj;
  p.num_rounds = 100;
  p.learning_rate = 0.1;
  p.max_depth = 6;
  p.min_child_weight = 1.0;
  p.lambda_l2 = 1.0;
  p.threads = 2;
  return p;
}
double metric(const std::string& task, const gbdt::Model& m, const io::Dataset<double>& te) {
  if (task == "binary") {
    auto raw = m.predict_raw(te.X);
    Eigen::VectorXd r = raw.col(0);
    return gbdt::auc(r.data(), te.y.data(), static_cast<std::size_t>(te.y.size()));
  }
  if (task == "regression") {
    return std::sqrt((m.predict(te.X).col(0) - te.y).squaredNorm() / static_cast<double>(te.y.size()));
  }
  auto c = m.predict_class(te.X);
  int ok = 0;
  for (Eigen::Index i = 0; i < c.size(); ++i) ok += c[i] == static_cast<int>(te.y[i]) ? 1 : 0;
  return static_cast<double>(ok) / static_cast<double>(c.size());
}
}  // namespace

TEST_SUITE("realdata") {
TEST_CASE("lightgbm binary: AUC matches LightGBM and XGBoost") {
  if (!orchard_test::have_data(orchard_test::data("lightgbm/binary.train"))) return;
  auto t = load("binary");
  const double lw = metric("binary", gbdt::train(lightgbm_like("binary"), t.train.X, t.train.y), t.test);
  const double dw = metric("binary", gbdt::train(xgboost_like("binary"), t.train.X, t.train.y), t.test);
  std::cout << "binary AUC leafwise " << lw << " (LightGBM 0.83209), depthwise " << dw
            << " (XGBoost 0.83537)\n";
  CHECK(std::fabs(lw - 0.83209) <= 0.01);
  CHECK(std::fabs(dw - 0.83537) <= 0.01);
}

TEST_CASE("lightgbm regression: RMSE matches LightGBM and XGBoost within 1 %") {
  if (!orchard_test::have_data(orchard_test::data("lightgbm/regression.train"))) return;
  auto t = load("regression");
  const double lw = metric("regression", gbdt::train(lightgbm_like("regression"), t.train.X, t.train.y), t.test);
  const double dw = metric("regression", gbdt::train(xgboost_like("regression"), t.train.X, t.train.y), t.test);
  std::cout << "regression RMSE leafwise " << lw << " (LightGBM 0.41664), depthwise " << dw
            << " (XGBoost 0.41588)\n";
  CHECK(lw <= 0.41664 * 1.01);
  CHECK(dw <= 0.41588 * 1.01);
  CHECK(lw >= 0.41664 * 0.97);
  CHECK(dw >= 0.41588 * 0.97);
}

TEST_CASE("lightgbm multiclass: accuracy matches LightGBM") {
  if (!orchard_test::have_data(orchard_test::data("lightgbm/multiclass.train"))) return;
  auto t = load("multiclass");
  const double lw = metric("multiclass", gbdt::train(lightgbm_like("multiclass"), t.train.X, t.train.y), t.test);
  const double dw = metric("multiclass", gbdt::train(xgboost_like("multiclass"), t.train.X, t.train.y), t.test);
  std::cout << "multiclass accuracy leafwise " << lw << " (LightGBM 0.522), depthwise " << dw
            << " (XGBoost 0.422)\n";
  CHECK(lw >= 0.522 - 0.005);
  CHECK(dw >= 0.422 - 0.005);
}

// XGBoost's getting-started run on its agaricus demo data (max_depth 2, eta 1, 2 rounds, logistic,
// base score 0.5 = margin 0, absent entries missing) prints train-error 0.046522 / 0.022263 and
// eval-error 0.042831 / 0.021726 after rounds 1 / 2. The features are one-hot, so binning is
// exact and the same trees must come out.
TEST_CASE("xgboost agaricus: the getting-started errors, round by round") {
  const auto tr_path = orchard_test::data("xgboost/agaricus.txt.train");
  if (!orchard_test::have_data(tr_path)) return;
  io::LibsvmOptions o;
  o.absent_is_missing = true;
  o.num_features = 127;
  const auto tr = io::read_libsvm<double>(tr_path.string(), o);
  const auto te = io::read_libsvm<double>(orchard_test::data("xgboost/agaricus.txt.test").string(), o);
  gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = 2;
  p.learning_rate = 1.0;
  p.max_depth = 2;
  p.lambda_l2 = 1.0;
  p.min_child_weight = 1.0;
  p.base_score = 0.0;
  p.threads = 2;
  const auto m = gbdt::train(p, tr.X, tr.y);
  auto error = [&](const io::Dataset<double>& d, int rounds) {
    const Eigen::MatrixXd raw = m.predict_raw(d.X, rounds);
    int wrong = 0;
    for (Eigen::Index i = 0; i < raw.rows(); ++i) wrong += (raw(i, 0) > 0) != (d.y[i] > 0.5) ? 1 : 0;
    return static_cast<double>(wrong) / static_cast<double>(raw.rows());
  };
  CHECK(error(tr, 1) == doctest::Approx(0.046522).epsilon(1e-4));
  CHECK(error(te, 1) == doctest::Approx(0.042831).epsilon(1e-4));
  CHECK(error(tr, 2) == doctest::Approx(0.022263).epsilon(1e-4));
  CHECK(error(te, 2) == doctest::Approx(0.021726).epsilon(1e-4));
}
}
