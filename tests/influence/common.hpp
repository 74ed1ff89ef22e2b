#pragma once
// Shared by the influence tests: small data sets (tests/gbdt/synth.hpp), models, and naive
// references that use only the public gbdt API (predict_raw per round, apply) and the formulas
// written out literally.
#include <Eigen/Dense>
#include <cmath>
#include <orchard/core/random.hpp>
#include <orchard/gbdt.hpp>
#include <orchard/influence.hpp>
#include <vector>

#include "../gbdt/synth.hpp"

namespace itest {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

using Data = gbdt_test::Data;

/// kind 0: regression, 1: binary, 2: 3-class (the gbdt tests' generator, without missing values).
inline Data make_data(int n, int d, int kind, std::uint64_t seed) { return gbdt_test::make(n, d, kind, seed, 0.0); }

inline orchard::gbdt::Params train_params(int kind, int rounds = 8, int depth = 3) {
  orchard::gbdt::Params p;
  p.objective = kind == 0 ? "regression" : kind == 1 ? "binary" : "multiclass";
  if (kind == 2) p.num_class = 3;
  p.num_rounds = rounds;
  p.max_depth = depth;
  p.learning_rate = 0.3;
  p.lambda_l2 = 0.7;
  p.min_child_weight = 0.0;
  p.threads = 1;
  return p;
}

inline orchard::gbdt::Model train(const Data& d, const orchard::gbdt::Params& p) {
  return orchard::gbdt::train(p, orchard::cview<double>(d.X),
                              orchard::ConstVectorView<double>(d.y.data(), d.y.size()));
}

inline orchard::influence::Params iparams(const orchard::gbdt::Params& tp, int threads = 1) {
  orchard::influence::Params p;
  p.learning_rate = tp.learning_rate;
  p.lambda_l2 = tp.lambda_l2;
  p.threads = threads;
  p.train = tp;
  return p;
}

inline orchard::ConstVectorView<double> vview(const Eigen::VectorXd& v) {
  return orchard::ConstVectorView<double>(v.data(), v.size());
}

/// Naive derivatives: raw score of row i, every output, before round r (via predict_raw).
struct Naive {
  const orchard::gbdt::Model& m;
  int K, R, T;
  double factor;
  explicit Naive(const orchard::gbdt::Model& model)
      : m(model), K(model.num_class), R(model.num_rounds()), T(static_cast<int>(model.trees.size())) {
    factor = model.objective == orchard::gbdt::Objective::softmax ? double(K) / (K - 1) : 1.0;
  }
  // scores[r] : n x K before round r (r = R: final)
  std::vector<Eigen::MatrixXd> scores(const RowMatrix& X) const {
    std::vector<Eigen::MatrixXd> s;
    for (int r = 0; r <= R; ++r) s.push_back(m.predict_raw(orchard::cview<double>(X), r, 1));
    return s;
  }
  // g, h, k of output c at scores row F for label y
  void derivs(const Eigen::RowVectorXd& F, double y, int c, double& g, double& h, double& k) const {
    using orchard::gbdt::Objective;
    if (m.objective == Objective::squared_error) {
      g = F[0] - y; h = 1; k = 0;
    } else if (m.objective == Objective::logistic) {
      const double p = 1 / (1 + std::exp(-F[0]));
      g = p - y; h = p * (1 - p); k = p * (1 - p) * (1 - 2 * p);
    } else {
      Eigen::RowVectorXd e = (F.array() - F.maxCoeff()).exp();
      const double p = e[c] / e.sum();
      g = p - (int(y) == c ? 1 : 0); h = factor * p * (1 - p); k = factor * p * (1 - p) * (1 - 2 * p);
    }
  }
  double loss(const Eigen::RowVectorXd& F, double y) const {
    using orchard::gbdt::Objective;
    if (m.objective == Objective::squared_error) return 0.5 * (y - F[0]) * (y - F[0]);
    if (m.objective == Objective::logistic) {
      const double p = std::min(std::max(1 / (1 + std::exp(-F[0])), 1e-5), 1 - 1e-5);
      return -(y * std::log(p) + (1 - y) * std::log(1 - p));
    }
    const double mx = F.maxCoeff();
    return -(F[int(y)] - mx - std::log((F.array() - mx).exp().sum()));
  }
};

inline double max_abs(const Eigen::MatrixXd& a) { return a.cwiseAbs().maxCoeff(); }

}  // namespace itest
