// Booster: input validation, closed forms, metrics, invariants (threads, staged = shorter
// training, record = predictions), early stopping, progress callbacks.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <orchard/gbdt.hpp>

#include "synth.hpp"

using namespace orchard;
using gbdt_test::make;

TEST_CASE("bad input and bad hyperparameters throw InvalidArgument naming the argument") {
  auto s = make(50, 3, 1, 1);
  gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = 2;
  Eigen::VectorXd y_short = s.y.head(40);
  CHECK_THROWS_WITH_AS(gbdt::train(p, s.X, y_short), doctest::Contains("'y.size'"), InvalidArgument);
  Eigen::VectorXd y_nan = s.y;
  y_nan[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(gbdt::train(p, s.X, y_nan), doctest::Contains("y[3]"), InvalidArgument);
  Eigen::VectorXd y_two = s.y;
  y_two[5] = 2;
  CHECK_THROWS_WITH_AS(gbdt::train(p, s.X, y_two), doctest::Contains("0 or 1"), InvalidArgument);
  p.objective = "multiclass";
  p.num_class = 2;
  CHECK_THROWS_AS(gbdt::train(p, s.X, y_two), InvalidArgument);
  Eigen::VectorXd y_frac = s.y;
  y_frac[0] = 0.5;
  p.num_class = 0;
  CHECK_THROWS_AS(gbdt::train(p, s.X, y_frac), InvalidArgument);
  p.objective = "poisson";
  CHECK_THROWS_WITH_AS(gbdt::train(p, s.X, s.y), doctest::Contains("'objective'"), InvalidArgument);
  p.objective = "binary";
  p.eval_metric = "f1";
  CHECK_THROWS_WITH_AS(gbdt::train(p, s.X, s.y), doctest::Contains("'eval_metric'"), InvalidArgument);
  p.eval_metric = "mlogloss";
  CHECK_THROWS_AS(gbdt::train(p, s.X, s.y), InvalidArgument);
  p.eval_metric = "";
  for (auto bad : {0, -3}) {
    p.num_rounds = bad;
    CHECK_THROWS_WITH_AS(gbdt::train(p, s.X, s.y), doctest::Contains("'num_rounds'"), InvalidArgument);
  }
  p.num_rounds = 2;
  auto set = [&](auto fn) {
    gbdt::Params q = p;
    fn(q);
    CHECK_THROWS_AS(gbdt::train(q, s.X, s.y), InvalidArgument);
  };
  set([](gbdt::Params& q) { q.learning_rate = 0; });
  set([](gbdt::Params& q) { q.subsample = 1.5; });
  set([](gbdt::Params& q) { q.colsample_bytree = 0; });
  set([](gbdt::Params& q) { q.max_bin = 1; });
  set([](gbdt::Params& q) { q.lambda_l2 = -1; });
  set([](gbdt::Params& q) { q.max_depth = -1; });
  set([](gbdt::Params& q) { q.growth = "sideways"; });
  set([](gbdt::Params& q) { q.min_data_in_leaf = 0; });
  set([](gbdt::Params& q) { q.early_stopping_rounds = 3; });  // no validation data
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> none(0, 3);
  Eigen::VectorXd ynone(0);
  CHECK_THROWS_WITH_AS(gbdt::train(p, none, ynone), doctest::Contains("'X.rows'"), InvalidArgument);
  Eigen::MatrixXd inf = s.X;
  inf(2, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(gbdt::train(p, inf, s.y), InvalidArgument);
  auto m = gbdt::train(p, s.X, s.y);
  Eigen::MatrixXd wrong(3, 4);
  CHECK_THROWS_WITH_AS(m.predict(wrong), doctest::Contains("'X.cols'"), InvalidArgument);
  CHECK_THROWS_AS(m.predict_raw(s.X, 9), InvalidArgument);
  p.device = "cuda";
  CHECK_THROWS_AS(gbdt::train(p, s.X, s.y), DeviceError);
}

TEST_CASE("one depth-0 round gives the closed-form leaf -G/(H+lambda)") {
  auto s = make(40, 2, 1, 2, 0.0);
  for (const char* obj : {"regression", "binary"}) {
    gbdt::Params p;
    p.objective = obj;
    p.num_rounds = 1;
    p.max_depth = 0;
    p.base_score = 0.0;
    p.lambda_l2 = 3.0;
    p.learning_rate = 0.5;
    auto m = gbdt::train(p, s.X, s.y);
    double G = 0, H = 0;
    for (int i = 0; i < 40; ++i) {
      G += std::string(obj) == "regression" ? -s.y[i] : 0.5 - s.y[i];
      H += std::string(obj) == "regression" ? 1.0 : 0.25;
    }
    const double want = 0.5 * (-G / (H + 3.0));
    auto raw = m.predict_raw(s.X);
    for (int i = 0; i < 40; ++i) CHECK(raw(i, 0) == doctest::Approx(want).epsilon(1e-6));
  }
  // Base score from data: the mean, the log-odds.
  gbdt::Params p;
  p.num_rounds = 1;
  p.max_depth = 0;
  auto m = gbdt::train(p, s.X, s.y);
  CHECK(m.base_score[0] == doctest::Approx(s.y.mean()));
  p.objective = "binary";
  m = gbdt::train(p, s.X, s.y);
  const double q = s.y.mean();
  CHECK(m.base_score[0] == doctest::Approx(std::log(q / (1 - q))));
}

TEST_CASE("metrics equal hand-computed values") {
  using gbdt::Metric;
  using gbdt::Objective;
  // AUC with a tie: scores 0.1(0) 0.4(1) 0.4(0) 0.8(1): pairs (pos > neg) = 3.5 of 4.
  double s[] = {0.1, 0.4, 0.4, 0.8}, y[] = {0, 1, 0, 1};
  CHECK(gbdt::evaluate(Metric::auc, Objective::logistic, s, y, 4, 1) == doctest::Approx(3.5 / 4));
  double r[] = {1, 2, 3}, t[] = {1, 0, 5};
  CHECK(gbdt::evaluate(Metric::rmse, Objective::squared_error, r, t, 3, 1) ==
        doctest::Approx(std::sqrt((0 + 4 + 4) / 3.0)));
  double z[] = {0.0, std::log(3.0)}, yl[] = {1, 0};
  CHECK(gbdt::evaluate(Metric::logloss, Objective::logistic, z, yl, 2, 1) ==
        doctest::Approx((std::log(2.0) - std::log(0.25)) / 2));
  CHECK(gbdt::evaluate(Metric::error, Objective::logistic, z, yl, 2, 1) == doctest::Approx(1.0));
  double m3[] = {0, 0, 0, 1, 2, 3}, y3[] = {2, 0};
  CHECK(gbdt::evaluate(Metric::mlogloss, Objective::softmax, m3, y3, 2, 3) ==
        doctest::Approx((std::log(3.0) + std::log(std::exp(1) + std::exp(2) + std::exp(3)) - 1) / 2));
  CHECK(gbdt::evaluate(Metric::merror, Objective::softmax, m3, y3, 2, 3) == doctest::Approx(1.0));
}

TEST_CASE("models are bit-identical for 1 and 3 threads, with row and column subsampling") {
  auto s = make(3000, 6, 2, 3);
  gbdt::Params p;
  p.objective = "multiclass";
  p.num_rounds = 8;
  p.subsample = 0.8;
  p.colsample_bytree = 0.7;
  p.threads = 1;
  auto a = gbdt::train(p, s.X, s.y);
  p.threads = 3;
  auto b = gbdt::train(p, s.X, s.y);
  CHECK(a.to_json().dump() == b.to_json().dump());
  CHECK((a.predict_raw(s.X, -1, 1).array() == b.predict_raw(s.X, -1, 3).array()).all());
  p.growth = "leafwise";
  p.num_leaves = 12;
  p.threads = 1;
  a = gbdt::train(p, s.X, s.y);
  p.threads = 2;
  b = gbdt::train(p, s.X, s.y);
  CHECK(a.to_json().dump() == b.to_json().dump());
}

TEST_CASE("staged prediction of k rounds equals a model trained for k rounds; record = predictions") {
  auto s = make(800, 5, 1, 4);
  gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = 15;
  p.subsample = 0.7;
  p.record_training = true;
  gbdt::TrainRecord rec;
  auto full = gbdt::train(p, s.X, s.y, {}, {}, {}, &rec);
  p.num_rounds = 6;
  auto part = gbdt::train(p, s.X, s.y);
  CHECK((full.predict_raw(s.X, 6).array() == part.predict_raw(s.X).array()).all());
  REQUIRE(rec.raw_scores.size() == 15);
  REQUIRE(rec.leaf.size() == 15);
  for (int r : {0, 5, 14}) {
    auto staged = full.predict_raw(s.X, r);
    for (int i = 0; i < 800; ++i) {
      CHECK(rec.raw_scores[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)] ==
            doctest::Approx(staged(i, 0)).epsilon(1e-12));
    }
  }
  auto leaves = full.apply(s.X);
  for (int t : {0, 9}) {
    for (int i = 0; i < 800; ++i) CHECK(leaves(i, t) == rec.leaf[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)]);
  }
  CHECK(rec.sample[3].size() == 560);
}

TEST_CASE("training learns: regression, binary, multiclass, all growth policies") {
  auto tr = make(2000, 5, 0, 5), te = make(1000, 5, 0, 6);
  for (const char* g : {"depthwise", "leafwise", "oblivious"}) {
    gbdt::Params p;
    p.growth = g;
    p.num_rounds = 60;
    p.max_depth = 4;
    p.num_leaves = 15;
    auto m = gbdt::train(p, tr.X, tr.y);
    const double rmse = std::sqrt((m.predict(te.X).col(0) - te.y).squaredNorm() / 1000);
    const double sd = std::sqrt((te.y.array() - te.y.mean()).square().mean());
    CHECK(rmse < 0.5 * sd);
    CHECK(rmse > 0.3);  // the label noise
  }
  auto bt = make(2000, 5, 1, 7), bv = make(1000, 5, 1, 8);
  gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = 40;
  auto m = gbdt::train(p, bt.X, bt.y);
  auto raw = m.predict_raw(bv.X);
  const double a = gbdt::auc(raw.data(), bv.y.data(), 1000);
  CHECK(a > 0.85);
  auto prob = m.predict(bv.X);
  CHECK(prob(0, 0) == doctest::Approx(1 / (1 + std::exp(-raw(0, 0)))));
  auto ct = make(3000, 5, 2, 9), cv = make(1000, 5, 2, 10);
  p.objective = "multiclass";
  m = gbdt::train(p, ct.X, ct.y);
  CHECK(m.num_class == 3);
  CHECK(m.trees.size() == 120);
  auto cls = m.predict_class(cv.X);
  int ok = 0;
  for (int i = 0; i < 1000; ++i) ok += cls[i] == static_cast<int>(cv.y[i]) ? 1 : 0;
  CHECK(ok > 750);
  auto pr = m.predict(cv.X);
  CHECK(pr.row(3).sum() == doctest::Approx(1.0));
  // Feature 3 and 4 are noise: the informative ones carry most of the gain.
  auto gain = m.feature_importance(gbdt::Importance::gain);
  CHECK(gain[0] > gain[3]);
  CHECK(gain[1] > gain[4]);
  auto cnt = m.feature_importance(gbdt::Importance::split);
  CHECK(cnt.sum() > 100);
}

TEST_CASE("early stopping keeps the best round; progress callback can stop training") {
  auto tr = make(600, 4, 1, 11), va = make(400, 4, 1, 12);
  gbdt::Params p;
  p.objective = "binary";
  p.num_rounds = 300;
  p.learning_rate = 0.5;
  p.max_depth = 6;
  p.min_child_weight = 0;
  p.lambda_l2 = 0;
  p.early_stopping_rounds = 10;
  p.eval_metric = "logloss";
  int calls = 0;
  auto m = gbdt::train(p, tr.X, tr.y, va.X, va.y, [&](const gbdt::Progress& pr) {
    ++calls;
    CHECK(pr.round == calls);
    return true;
  });
  CHECK(calls < 300);
  CHECK(m.best_round == m.num_rounds());
  CHECK(calls == m.best_round + 10);
  const auto& h = m.valid_history;
  for (double v : h) CHECK(v >= h[static_cast<std::size_t>(m.best_round - 1)]);
  const auto raw = m.predict_raw(va.X);
  Eigen::VectorXd r0 = raw.col(0);
  CHECK(gbdt::evaluate(gbdt::Metric::logloss, gbdt::Objective::logistic, r0.data(), va.y.data(), 400, 1) ==
        doctest::Approx(h[static_cast<std::size_t>(m.best_round - 1)]).epsilon(1e-9));
  p.early_stopping_rounds = 0;
  p.num_rounds = 50;
  m = gbdt::train(p, tr.X, tr.y, va.X, va.y, [](const gbdt::Progress& pr) { return pr.round < 3; });
  CHECK(m.num_rounds() == 3);
}

TEST_CASE("float input trains and predicts like double input holding the same values") {
  auto s = make(500, 4, 0, 13);
  Eigen::MatrixXf Xf = s.X.cast<float>();
  Eigen::VectorXf yf = s.y.cast<float>();
  Eigen::MatrixXd Xd = Xf.cast<double>();
  Eigen::VectorXd yd = yf.cast<double>();
  gbdt::Params p;
  p.num_rounds = 5;
  auto mf = gbdt::train(p, Xf, yf);
  auto md = gbdt::train(p, Xd, yd);
  CHECK((mf.predict_raw(Xf).array() == md.predict_raw(Xd).array()).all());
}
