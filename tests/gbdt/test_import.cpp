// Import of XGBoost JSON and LightGBM text models: margins equal the source library's on probe
// rows with NaN, zeros and unseen-missing columns (fixtures written by
// bench/compare/make_import_fixtures.py with xgboost 3.2.0 and lightgbm 4.6.0).
#include <doctest/doctest.h>

#include <fstream>
#include <orchard/core/io/csv.hpp>
#include <orchard/gbdt.hpp>
#include <orchard_test.hpp>
#include <sstream>
#include <string>

using namespace orchard;

namespace {
const std::string kDir = ORCHARD_GBDT_FIXTURES;

io::RowMatrix<double> csv(const std::string& name) {
  return io::read_csv<double>(kDir + "/" + name).X;
}
std::string slurp_fixture(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void check_same(const gbdt::Model& m, const std::string& name) {
  const auto X = csv("X.csv");
  const Eigen::MatrixXd want = csv(name + ".expected.csv");
  const Eigen::MatrixXd got = m.predict_raw(X);
  REQUIRE(got.rows() == want.rows());
  REQUIRE(got.cols() == want.cols());
  double worst = 0;
  for (Eigen::Index i = 0; i < got.rows(); ++i) {
    for (Eigen::Index k = 0; k < got.cols(); ++k) {
      worst = std::max(worst, std::fabs(got(i, k) - want(i, k)) / std::max(1.0, std::fabs(want(i, k))));
    }
  }
  INFO(name << " worst relative difference " << worst);
  CHECK(worst <= 1e-6);
  CHECK_NOTHROW(gbdt::verify_import(m, ConstMatrixView<double>(X), want));
  // Additivity of TreeSHAP holds for imported trees too.
  const auto c = m.contributions(X);
  const auto d = m.num_features + 1;
  for (Eigen::Index i = 0; i < 5; ++i) {
    for (int k = 0; k < m.num_class; ++k) CHECK(c.row(i).segment(k * d, d).sum() == doctest::Approx(got(i, k)).epsilon(1e-9));
  }
}
}  // namespace

TEST_CASE("XGBoost JSON models: float32 '<' thresholds, default directions, base_score, classes") {
  for (const char* name : {"xgb_regression", "xgb_binary", "xgb_multiclass"}) {
    auto m = gbdt::import_xgboost(kDir + "/" + name + ".json");
    CHECK(m.source == "xgboost");
    check_same(m, name);
  }
  auto mc = gbdt::import_xgboost(kDir + "/xgb_multiclass.json");
  CHECK(mc.num_class == 3);
  CHECK(mc.objective == gbdt::Objective::softmax);
  CHECK(mc.num_rounds() == 12);
  // An imported model saves and loads like our own.
  orchard_test::TempDir dir("gbdt_import");
  mc.save((dir / "m.json").string());
  auto back = gbdt::Model::load((dir / "m.json").string());
  const auto X = csv("X.csv");
  CHECK((back.predict_raw(X).array() == mc.predict_raw(X).array()).all());
}

TEST_CASE("LightGBM text models: '<=' thresholds, missing types None/Zero/NaN, init score folded") {
  for (const char* name : {"lgb_regression", "lgb_binary", "lgb_multiclass"}) {
    double lr = 0;
    auto m = gbdt::import_lightgbm(kDir + "/" + name + ".txt", &lr);
    CHECK(lr == doctest::Approx(0.2));
    CHECK(m.source == "lightgbm");
    check_same(m, name);
  }
}

TEST_CASE("broken imports throw: truncated, corrupted, unsupported, self-check mismatch") {
  orchard_test::TempDir dir("gbdt_import_bad");
  const auto bad = (dir / "bad").string();
  const std::string lgbt = slurp_fixture(kDir + "/lgb_binary.txt");
  std::ofstream(bad) << lgbt.substr(0, lgbt.size() / 2);
  CHECK_THROWS_AS(gbdt::import_lightgbm(bad), FormatError);
  std::string c = lgbt;
  c.replace(c.find("left_child="), 13, "left_child=9");
  std::ofstream(bad) << c;
  CHECK_THROWS_AS(gbdt::import_lightgbm(bad), FormatError);
  c = lgbt;
  c.replace(c.find("is_linear=0"), 11, "is_linear=1");
  std::ofstream(bad) << c;
  CHECK_THROWS_AS(gbdt::import_lightgbm(bad), FormatError);
  c = lgbt;
  c.replace(c.find("objective=binary"), 16, "objective=lambdarank");
  std::ofstream(bad) << c;
  CHECK_THROWS_AS(gbdt::import_lightgbm(bad), FormatError);
  const std::string xj = slurp_fixture(kDir + "/xgb_binary.json");
  std::ofstream(bad) << xj.substr(0, xj.size() - 40);
  CHECK_THROWS_AS(gbdt::import_xgboost(bad), ParseError);
  auto j = nlohmann::json::parse(xj);
  j["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 0;
  std::ofstream(bad) << j.dump();
  CHECK_THROWS_AS(gbdt::import_xgboost(bad), FormatError);
  j = nlohmann::json::parse(xj);
  j["learner"]["objective"]["name"] = "rank:pairwise";
  std::ofstream(bad) << j.dump();
  CHECK_THROWS_AS(gbdt::import_xgboost(bad), FormatError);
  CHECK_THROWS_AS(gbdt::import_xgboost((dir / "absent.json").string()), IoError);
  auto m = gbdt::import_xgboost(kDir + "/xgb_binary.json");
  const auto X = csv("X.csv");
  Eigen::MatrixXd want = csv("xgb_binary.expected.csv");
  want(7, 0) += 1e-3;
  CHECK_THROWS_AS(gbdt::verify_import(m, ConstMatrixView<double>(X), want), FormatError);
}
