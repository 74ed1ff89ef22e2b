#pragma once
// Scalar summaries of a spectrum. Each takes non-negative values sorted in descending order
// (singular values or eigenvalues) and is a closed formula, so they are usable on any spectrum,
// e.g. one computed elsewhere.
#include "eigen.hpp"
#include <cmath>
#include <limits>

#include "../core/error.hpp"

namespace orchard::spectral {

/// Shannon entropy H = −Σ pₖ ln pₖ with pₖ = vₖ / Σⱼ vⱼ + eps (RankMe's definition; the eps is
/// added after normalising, as in the paper). Terms with pₖ = 0 contribute 0. The sum of the
/// values must be positive.
inline double spectral_entropy(const Eigen::VectorXd& values, double eps) {
  require(eps >= 0 && std::isfinite(eps), "eps", eps, "must be finite and >= 0");
  const double total = values.sum();
  require(total > 0 && std::isfinite(total), "values.sum", total, "must be positive and finite");
  double h = 0;
  for (Eigen::Index k = 0; k < values.size(); ++k) {
    const double p = values(k) / total + eps;
    if (p > 0) h -= p * std::log(p);
  }
  return h;
}

/// exp(spectral_entropy): RankMe for singular values with eps = 1e-7 (Garrido et al. 2023), the
/// Roy & Vetterli effective rank with eps = 0.
inline double effective_rank(const Eigen::VectorXd& values, double eps) {
  return std::exp(spectral_entropy(values, eps));
}

/// Number of singular values strictly above `tolerance` (numpy.linalg.matrix_rank's rule).
inline Eigen::Index numerical_rank(const Eigen::VectorXd& sigma, double tolerance) {
  Eigen::Index r = 0;
  for (Eigen::Index k = 0; k < sigma.size(); ++k) r += sigma(k) > tolerance ? 1 : 0;
  return r;
}

/// Stable rank Σσ² / σ₁² (0 for an all-zero spectrum).
inline double stable_rank(const Eigen::VectorXd& sigma) {
  if (sigma.size() == 0 || sigma(0) <= 0) return 0;
  return sigma.squaredNorm() / (sigma(0) * sigma(0));
}

/// Participation ratio (Σλ)² / Σλ² of eigenvalues λ (0 for an all-zero spectrum).
inline double participation_ratio(const Eigen::VectorXd& lambda) {
  const double s2 = lambda.squaredNorm();
  if (s2 <= 0) return 0;
  const double s = lambda.sum();
  return s * s / s2;
}

/// NESum Σλᵢ / λ₁ of eigenvalues λ (0 for an all-zero spectrum).
inline double nesum(const Eigen::VectorXd& lambda) {
  if (lambda.size() == 0 || lambda(0) <= 0) return 0;
  return lambda.sum() / lambda(0);
}

/// Condition number σ₁ / σ_min over the given singular values (+inf when σ_min is 0, NaN for an
/// all-zero spectrum).
inline double condition_number(const Eigen::VectorXd& sigma) {
  if (sigma.size() == 0 || sigma(0) <= 0) return std::numeric_limits<double>::quiet_NaN();
  const double smin = sigma(sigma.size() - 1);
  return smin > 0 ? sigma(0) / smin : std::numeric_limits<double>::infinity();
}

/// Power-law fit of an eigenspectrum for α-ReQ (Agrawal et al. 2022): λᵢ ≈ c · i^(−α).
struct PowerLawFit {
  double alpha = std::numeric_limits<double>::quiet_NaN();  ///< decay exponent α
  double log_c = std::numeric_limits<double>::quiet_NaN();  ///< intercept ln c
  Eigen::Index points = 0;                                  ///< eigenvalues used in the fit
};

/// Weighted least squares of ln λᵢ on ln i over the eigenvalues λᵢ > `floor` (i = 1, 2, …, in
/// descending order). Weights wᵢ = 1/i: the ranks are evenly spaced in i, hence ever denser in
/// ln i, and 1/i gives every interval of ln i the same total weight, so the long tail of small
/// eigenvalues does not swamp the head of the spectrum. NaN fit with fewer than two points.
inline PowerLawFit power_law_fit(const Eigen::VectorXd& lambda, double floor) {
  PowerLawFit fit;
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  Eigen::Index m = 0;
  for (Eigen::Index k = 0; k < lambda.size(); ++k) {
    if (!(lambda(k) > floor) || !(lambda(k) > 0)) break;
    const double i = static_cast<double>(k + 1);
    const double w = 1.0 / i, x = std::log(i), y = std::log(lambda(k));
    sw += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    sxy += w * x * y;
    ++m;
  }
  fit.points = m;
  if (m < 2) return fit;
  const double mx = sx / sw, my = sy / sw;
  const double vxx = sxx / sw - mx * mx, vxy = sxy / sw - mx * my;
  if (!(vxx > 0)) return fit;
  const double slope = vxy / vxx;
  fit.alpha = -slope;
  fit.log_c = my - slope * mx;
  return fit;
}

}  // namespace orchard::spectral
