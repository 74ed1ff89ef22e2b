#pragma once
// The L-BFGS set-up shared by GBNN's per-step fits and the MLP baseline: LBFGS++ with the strong
// Wolfe line search, scipy-like stopping rules, and the lowest-objective point kept (the line
// search may stop on an exception near convergence; the best point evaluated is then used).
#include <LBFGS.h>

#include <cmath>
#include <exception>
#include <limits>

#include "../core/random.hpp"
#include "common.hpp"
#include "objective.hpp"

namespace orchard::gbnn::detail {

/// Glorot-uniform initial weights in the objective's packing (W1 d×J, W2 J×K, b1, b2), with
/// scikit-learn's bound √(2/(fan_in+fan_out)) for logistic units. Draw order: W1, b1, W2, b2.
template <class T>
void glorot_init(Rng& rng, index_t d, index_t J, index_t K, Vector<T>& w) {
  const T bound1 = std::sqrt(T(2) / static_cast<T>(d + J));
  const T bound2 = std::sqrt(T(2) / static_cast<T>(J + K));
  for (index_t q = 0; q < d * J; ++q) w[q] = static_cast<T>(rng.uniform(-bound1, bound1));
  for (index_t q = 0; q < J; ++q)
    w[d * J + J * K + q] = static_cast<T>(rng.uniform(-bound1, bound1));
  for (index_t q = 0; q < J * K; ++q) w[d * J + q] = static_cast<T>(rng.uniform(-bound2, bound2));
  for (index_t q = 0; q < K; ++q)
    w[d * J + J * K + J + q] = static_cast<T>(rng.uniform(-bound2, bound2));
}

/// One L-BFGS solver reused for many minimisations (its buffers are allocated once).
template <class T>
class LbfgsDriver {
 public:
  /// memory m, gradient-norm tolerance, relative-decrease tolerance (0 = off), iterations.
  LbfgsDriver(index_t n_params, int memory, double tol, double ftol, int max_iter)
      : param_(settings(memory, tol, ftol, max_iter)), solver_(param_) {
    tracked_.best_x.resize(n_params);
  }
  LbfgsDriver(const LbfgsDriver&) = delete;
  LbfgsDriver& operator=(const LbfgsDriver&) = delete;

  /// Minimises obj from w and leaves in w the lowest-objective point evaluated. Returns the
  /// iterations run, or −1 when the line search stopped early. orchard::Error propagates.
  int minimize(Objective<T>& obj, Vector<T>& w) {
    tracked_.obj = &obj;
    tracked_.best = std::numeric_limits<T>::infinity();
    tracked_.evaluations = 0;
    T fx = 0;
    int iterations = -1;
    try {
      iterations = solver_.minimize(tracked_, w, fx);
    } catch (const Error&) {
      throw;
    } catch (const std::exception&) {
      iterations = -1;  // line-search failure near convergence: keep the best point evaluated
    }
    if (tracked_.evaluations > 0 && std::isfinite(tracked_.best)) w = tracked_.best_x;
    return iterations;
  }

  /// Objective evaluations of the last minimize().
  long evaluations() const { return tracked_.evaluations; }
  /// Lowest objective value of the last minimize().
  T best_value() const { return tracked_.best; }

 private:
  struct Tracked {
    Objective<T>* obj = nullptr;
    Vector<T> best_x;
    T best = std::numeric_limits<T>::infinity();
    long evaluations = 0;
    T operator()(const Vector<T>& w, Vector<T>& grad) {
      const T v = (*obj)(w, grad);
      ++evaluations;
      if (v < best && std::isfinite(v)) {
        best = v;
        best_x = w;
      }
      return v;
    }
  };

  static LBFGSpp::LBFGSParam<T> settings(int memory, double tol, double ftol, int max_iter) {
    LBFGSpp::LBFGSParam<T> lp;
    lp.m = memory;
    lp.epsilon = static_cast<T>(tol);
    lp.epsilon_rel = T(0);
    lp.past = ftol > 0 ? 1 : 0;
    lp.delta = static_cast<T>(ftol);
    lp.max_iterations = max_iter;
    lp.max_linesearch = 20;
    lp.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
    return lp;
  }

  LBFGSpp::LBFGSParam<T> param_;  // the solver keeps a reference: declared (built) first
  LBFGSpp::LBFGSSolver<T, LBFGSpp::LineSearchNocedalWright> solver_;
  Tracked tracked_;
};

}  // namespace orchard::gbnn::detail
