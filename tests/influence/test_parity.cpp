// Parity with the reference package tree-influence 0.1.7 on a committed LightGBM model: the
// fixture (model, rows, the reference's outputs) was written by
// bench/compare/influence.py --fixture tests/influence/fixtures.
#include <doctest/doctest.h>

#include <orchard/core/io/csv.hpp>

#include "common.hpp"

namespace inf = orchard::influence;

namespace {
std::string fixture(const std::string& name) { return std::string(ORCHARD_INFLUENCE_FIXTURES) + "/" + name; }

Eigen::MatrixXd read_matrix(const std::string& path) {
  const auto d = orchard::io::read_csv<double>(path);
  return Eigen::MatrixXd(d.X);
}
}  // namespace

TEST_CASE("parity with tree-influence on a LightGBM model") {
  const auto model = orchard::gbdt::import_lightgbm(fixture("lgb_model.txt"));
  orchard::io::CsvOptions co;
  co.label_column = 0;
  const auto tr = orchard::io::read_csv<double>(fixture("lgb_train.csv"), co);
  const auto te = orchard::io::read_csv<double>(fixture("lgb_test.csv"), co);
  inf::Params p;
  p.threads = 2;
  p.learning_rate = 0.1;
  p.lambda_l2 = 1.0;
  for (const char* m : {"boostin", "leaf_influence_sp", "leaf_sim"}) {
    CAPTURE(m);
    const auto ex = inf::make(m, model, orchard::cview<double>(tr.X),
                              orchard::ConstVectorView<double>(tr.y.data(), tr.y.size()), p);
    const Eigen::MatrixXd got =
        ex.local(orchard::cview<double>(te.X), orchard::ConstVectorView<double>(te.y.data(), te.y.size()));
    const Eigen::MatrixXd ref = read_matrix(fixture(std::string("ref_") + m + ".csv"));
    REQUIRE(got.rows() == ref.rows());
    REQUIRE(got.cols() == ref.cols());
    CHECK((got - ref).cwiseAbs().maxCoeff() <= 1e-5 * ref.cwiseAbs().maxCoeff());
  }
}
