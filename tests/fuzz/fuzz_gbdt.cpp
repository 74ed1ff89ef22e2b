// Fuzz targets of the GBDT model files: Orchard JSON, XGBoost JSON import, LightGBM text import.
// An accepted model must predict (raw, transformed, leaf indices, SHAP) without crashing on a small
// fixed input, and survive a JSON round trip with bit-identical raw predictions.
#include <orchard/gbdt.hpp>

#include "fuzz_targets.hpp"

namespace {

using orchard_fuzz::accepts;
using orchard_fuzz::fail;

void exercise(const orchard::gbdt::Model& m) {
  if (m.num_features < 1 || m.num_features > 4096) return;  // predicting needs that many columns
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X(4, m.num_features);
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    X(0, j) = 0.0;
    X(1, j) = std::numeric_limits<double>::quiet_NaN();
    X(2, j) = static_cast<double>(j % 7) - 3.0;
    X(3, j) = j % 2 ? 1e30 : -1e-30;
  }
  const orchard::ConstMatrixView<double> v(X);
  const Eigen::MatrixXd raw = m.predict_raw(v, -1, 1);
  (void)m.predict(v, -1, 1);
  (void)m.apply(v, 1);
  if (m.trees.size() <= 64) (void)m.contributions(v, 1);
  (void)m.feature_importance();
  const orchard::gbdt::Model back = orchard::gbdt::Model::from_json(m.to_json());
  const Eigen::MatrixXd raw2 = back.predict_raw(v, -1, 1);
  if (raw2.rows() != raw.rows() || raw2.cols() != raw.cols()) fail("gbdt round trip changed the output shape");
  for (Eigen::Index i = 0; i < raw.size(); ++i) {
    if (!orchard_fuzz::same(raw.data()[i], raw2.data()[i])) fail("gbdt round trip changed a prediction");
  }
}

}  // namespace

ORCHARD_FUZZ_TARGET(gbdt_json) {
  const std::string path = orchard_fuzz::write_scratch(data, size, ".json");
  orchard::gbdt::Model m;
  if (!accepts([&] { m = orchard::gbdt::Model::load(path); })) return false;
  exercise(m);
  return true;
}

ORCHARD_FUZZ_TARGET(xgboost) {
  const std::string path = orchard_fuzz::write_scratch(data, size, ".json");
  orchard::gbdt::Model m;
  if (!accepts([&] { m = orchard::gbdt::import_xgboost(path); })) return false;
  exercise(m);
  return true;
}

ORCHARD_FUZZ_TARGET(lightgbm) {
  const std::string path = orchard_fuzz::write_scratch(data, size, ".txt");
  orchard::gbdt::Model m;
  double lr = 0.0;
  if (!accepts([&] { m = orchard::gbdt::import_lightgbm(path, &lr); })) return false;
  exercise(m);
  return true;
}
