#pragma once
// The losses influence methods differentiate, with their first three derivatives with respect to
// the raw score F (tree-influence's conventions, so numbers are comparable):
//   squared   L = 0.5 (y - F)^2                 g = F - y,      h = 1,            k = 0
//   logistic  L = -y log p - (1-y) log(1-p)     g = p - y,      h = p(1-p),       k = p(1-p)(1-2p)
//   softmax   L = -log p_y                      g_c = p_c - y_c, h_c = f p_c(1-p_c), k_c = h_c (1-2p_c)
// f is the softmax hessian factor of the library that trained the model (see hessian_factor()).
// The logistic loss value clips p to [1e-5, 1 - 1e-5] like the reference.
#include <algorithm>
#include <cmath>

#include "../core/config.hpp"
#include "../gbdt/model.hpp"

namespace orchard::influence {

struct Derivs {
  double g = 0, h = 0, k = 0;
};

/// The loss of one model output family; K = number of outputs (1 unless softmax).
class Loss {
 public:
  Loss() = default;
  Loss(gbdt::Objective obj, int num_class, double factor)
      : obj_(obj), K_(num_class), factor_(factor) {}

  gbdt::Objective objective() const { return obj_; }
  int outputs() const { return K_; }
  double factor() const { return factor_; }

  /// Derivatives of output c at raw scores F[0..K) for label y (class index or value).
  /// `p` must hold the transformed scores (probabilities; unused for squared).
  Derivs derivs(const double* F, const double* p, double y, int c) const {
    Derivs d;
    if (obj_ == gbdt::Objective::squared_error) {
      d.g = F[0] - y;
      d.h = 1.0;
      d.k = 0.0;
    } else if (obj_ == gbdt::Objective::logistic) {
      const double q = p[0];
      d.g = q - y;
      d.h = q * (1 - q);
      d.k = d.h * (1 - 2 * q);
    } else {
      const double q = p[c];
      d.g = q - (static_cast<int>(y) == c ? 1.0 : 0.0);
      d.h = factor_ * q * (1 - q);
      d.k = d.h * (1 - 2 * q);
    }
    return d;
  }

  /// Transformed scores p[0..K) of raw scores F (sigmoid / softmax; copy for squared).
  void transform(const double* F, double* p) const {
    if (obj_ == gbdt::Objective::squared_error) {
      p[0] = F[0];
    } else if (obj_ == gbdt::Objective::logistic) {
      p[0] = 1.0 / (1.0 + std::exp(-F[0]));
    } else {
      double m = F[0];
      for (int c = 1; c < K_; ++c) m = std::max(m, F[c]);
      double s = 0;
      for (int c = 0; c < K_; ++c) {
        p[c] = std::exp(F[c] - m);
        s += p[c];
      }
      for (int c = 0; c < K_; ++c) p[c] /= s;
    }
  }

  /// Loss value at raw scores F[0..K).
  double value(const double* F, double y) const {
    if (obj_ == gbdt::Objective::squared_error) return 0.5 * (y - F[0]) * (y - F[0]);
    if (obj_ == gbdt::Objective::logistic) {
      const double eps = 1e-5;
      const double q = std::clamp(1.0 / (1.0 + std::exp(-F[0])), eps, 1 - eps);
      return -(y * std::log(q) + (1 - y) * std::log(1 - q));
    }
    double m = F[0];
    for (int c = 1; c < K_; ++c) m = std::max(m, F[c]);
    double s = 0;
    for (int c = 0; c < K_; ++c) s += std::exp(F[c] - m);
    return -(F[static_cast<int>(y)] - m - std::log(s));
  }

  /// Loss value given probabilities (regression: the value) instead of raw scores; used for
  /// retrained models' predictions.
  double value_prob(const double* P, double y) const {
    const double eps = 1e-5;
    if (obj_ == gbdt::Objective::squared_error) return 0.5 * (y - P[0]) * (y - P[0]);
    if (obj_ == gbdt::Objective::logistic) {
      const double q = std::clamp(P[0], eps, 1 - eps);
      return -(y * std::log(q) + (1 - y) * std::log(1 - q));
    }
    return -std::log(std::clamp(P[static_cast<int>(y)], eps, 1 - eps));
  }

 private:
  gbdt::Objective obj_ = gbdt::Objective::squared_error;
  int K_ = 1;
  double factor_ = 1.0;
};

/// The softmax hessian factor of the library that trained a model: LightGBM and Orchard (whose
/// trainer follows LightGBM) use K/(K-1), XGBoost uses 2. 1 for non-softmax objectives.
inline double hessian_factor(const gbdt::Model& m) {
  if (m.objective != gbdt::Objective::softmax) return 1.0;
  if (m.source == "xgboost") return 2.0;
  const double K = static_cast<double>(m.num_class);
  return K / (K - 1.0);
}

}  // namespace orchard::influence
