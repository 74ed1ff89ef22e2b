#pragma once
// Small synthetic data sets shared by the gbdt tests.
#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <orchard/core/random.hpp>

namespace gbdt_test {

struct Data {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X;
  Eigen::VectorXd y;
};

/// kind 0: regression, 1: binary, 2: 3-class. Some NaN features.
inline Data make(int n, int d, int kind, std::uint64_t seed, double nan_rate = 0.05) {
  orchard::Rng rng(seed);
  Data s;
  s.X.resize(n, d);
  s.y.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) s.X(i, j) = rng.normal();
    const double f = 1.5 * s.X(i, 0) - s.X(i, 1) * s.X(i, 1) + (d > 2 ? std::sin(2 * s.X(i, 2)) : 0.0);
    if (kind == 0) {
      s.y[i] = f + 0.3 * rng.normal();
    } else if (kind == 1) {
      s.y[i] = rng.uniform() < 1 / (1 + std::exp(-2 * f)) ? 1 : 0;
    } else {
      const double z = f + 0.3 * rng.normal();
      s.y[i] = z < -0.8 ? 0 : (z < 0.6 ? 1 : 2);
    }
    for (int j = 0; j < d; ++j) {
      if (rng.uniform() < nan_rate) s.X(i, j) = std::numeric_limits<double>::quiet_NaN();
    }
  }
  return s;
}

}  // namespace gbdt_test
