#pragma once
// The second-order (Newton) split policy of GBDT: statistic (g, h) per sample,
// score = T(G)^2 / (H + lambda_l2) with T the L1 soft threshold, leaf = -T(G) / (H + lambda_l2).
#include <cmath>

#include "../core/config.hpp"
#include "policy.hpp"

namespace orchard::tree {

struct SecondOrder {
  static constexpr int kWidth = 2;
  double lambda_l2 = 1.0;
  double lambda_l1 = 0.0;
  double min_child_weight = 1.0;  ///< minimum hessian sum of a child

  ORCHARD_HD static double soft_threshold(double g, double l1) {
    if (g > l1) return g - l1;
    if (g < -l1) return g + l1;
    return 0.0;
  }
  int width() const { return 2; }
  int n_outputs() const { return 1; }
  ORCHARD_HD double score(const double* s) const {
    const double t = soft_threshold(s[0], lambda_l1);
    return t * t / (s[1] + lambda_l2);
  }
  ORCHARD_HD bool admissible(const double* s) const { return s[1] >= min_child_weight; }
  ORCHARD_HD void leaf_value(const double* s, double* out) const {
    const double den = s[1] + lambda_l2;
    out[0] = den > 0 ? -soft_threshold(s[0], lambda_l1) / den : 0.0;
  }
  ORCHARD_HD double cover(const double* s) const { return s[1]; }
};

static_assert(SplitPolicy<SecondOrder>);

}  // namespace orchard::tree
