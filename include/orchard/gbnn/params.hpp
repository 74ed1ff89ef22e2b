#pragma once
// Hyperparameters of GBNN (gradient-boosted hidden units) and of the plain MLP baseline.
#include <cstdint>
#include <string>

#include "../core/error.hpp"
#include "common.hpp"

namespace orchard::gbnn {

/// Relative objective decrease at which L-BFGS stops: scipy's L-BFGS-B default factr = 1e7 times
/// the double machine epsilon, which is what the reference package (through scikit-learn) uses.
inline constexpr double kScipyFtol = 1e7 * 2.220446049250313e-16;

/// GBNN hyperparameters. Defaults are the reference package's (`GNEGNEClassifier` /
/// `GNEGNERegressor`: total_nn = 200 hidden units, num_nn_step = 1, eta = 1, subsample = 0.5,
/// L-BFGS with max_iter = 200, alpha = 1e-4).
struct Params {
  Task task = Task::classification;
  int steps = 200;         ///< T: boosting steps (total hidden units = steps × units)
  int units = 1;           ///< J: logistic hidden units fitted jointly per step
  double eta = 1.0;        ///< shrinkage of each step: ρ_t = η·ρ*
  double subsample = 0.5;  ///< fraction of rows (without replacement) each step is fitted on
  int max_iter = 200;      ///< L-BFGS iterations per step
  int lbfgs_memory = 10;   ///< L-BFGS history length m
  double alpha = 1e-4;     ///< L2 penalty α on the step network's weights (α/(2n)·‖W‖²)
  double tol = 0.0;        ///< L-BFGS stops when max_i |g_i| <= tol (0 = never; the package's)
  double ftol = kScipyFtol;  ///< L-BFGS stops when the relative objective decrease is <= ftol
  bool per_class_step = false;  ///< multiclass: one Newton step ρ_k per class instead of one ρ
  bool line_search = false;     ///< regression: exact step ρ* = Σrf / Σf² instead of ρ* = 1
  /// Halve ρ_t until the training loss does not increase (the reference package takes the step
  /// as it is, which can diverge with eta = 1; exact_reference turns this off).
  bool safeguard_step = true;
  int early_stopping_rounds = 0;  ///< stop when the validation loss has not improved for this
                                  ///< many steps and keep the best prefix (0 = off; needs
                                  ///< validation data)
  std::uint64_t seed = 0;          ///< subsamples and initial weights
  /// Float models whose features are all codes k·s (integers 0 <= k <= 255, one scale s: image
  /// pixels k/255, counts) on a CPU with AMX-INT8: the per-step objective runs on integer tiles
  /// over 1-byte features (int8_tiles.hpp). Its sums are exact integers, so the model still does
  /// not depend on the thread count, but it differs at float-rounding level from the float
  /// kernels (a CPU without AMX, or false here).
  bool int8_tiles = true;
  /// Reproduce the reference package's choices exactly: forces alpha = 1e-4, lbfgs_memory = 10,
  /// max_iter = 200, tol = 0, ftol = scipy's, one ρ, no line search, no step safeguard; rejects
  /// early stopping.
  bool exact_reference = false;

  /// The reference package's configuration with `total_units` split into steps of `units`.
  static Params reference(Task task, int total_units = 200, int units = 1) {
    Params p;
    p.task = task;
    p.units = units;
    p.steps = units > 0 ? total_units / units : 0;
    p.exact_reference = true;
    return p;
  }

  /// The values training actually uses (exact_reference applied), after validation.
  Params effective() const {
    validate();
    Params p = *this;
    if (exact_reference) {
      p.alpha = 1e-4;
      p.lbfgs_memory = 10;
      p.max_iter = 200;
      p.tol = 0.0;
      p.ftol = kScipyFtol;
      p.per_class_step = false;
      p.line_search = false;
      p.safeguard_step = false;
    }
    return p;
  }

  void validate() const {
    require(steps > 0, "steps", steps, "must be > 0");
    require(units > 0, "units", units, "must be > 0");
    require(eta > 0 && std::isfinite(eta), "eta", eta, "must be > 0 and finite");
    require(subsample > 0 && subsample <= 1, "subsample", subsample, "must lie in (0, 1]");
    require(max_iter > 0, "max_iter", max_iter, "must be > 0");
    require(lbfgs_memory > 0, "lbfgs_memory", lbfgs_memory, "must be > 0");
    require(alpha >= 0 && std::isfinite(alpha), "alpha", alpha, "must be >= 0 and finite");
    require(tol >= 0 && std::isfinite(tol), "tol", tol, "must be >= 0 and finite");
    require(ftol >= 0 && std::isfinite(ftol), "ftol", ftol, "must be >= 0 and finite");
    require(early_stopping_rounds >= 0, "early_stopping_rounds", early_stopping_rounds,
            "must be >= 0");
    require(!(exact_reference && early_stopping_rounds > 0), "early_stopping_rounds",
            early_stopping_rounds, "must be 0 with exact_reference (the package has none)");
  }
};

enum class Solver { lbfgs, adam };

/// The plain MLP baseline: one hidden layer of logistic units trained on the same loss as GBNN
/// (squared; ln(1 + exp(−y·z)) on the logit z = 2F for binary; softmax cross-entropy), all
/// weights at once. Defaults are scikit-learn's MLP defaults with activation = 'logistic'.
struct MlpParams {
  Task task = Task::classification;
  int hidden = 100;               ///< hidden units
  Solver solver = Solver::lbfgs;  ///< full-batch L-BFGS or minibatch Adam
  int max_iter = 200;             ///< L-BFGS iterations, or Adam epochs
  double alpha = 1e-4;            ///< L2 penalty α/(2n)·‖W‖²
  int lbfgs_memory = 10;
  double tol = 1e-4;              ///< L-BFGS stops when max_i |g_i| <= tol (0 = never)
  double ftol = kScipyFtol;       ///< L-BFGS relative objective decrease tolerance
  double learning_rate = 1e-3;    ///< Adam step size
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;  ///< Adam moments
  int batch_size = 200;           ///< Adam minibatch (min(batch_size, n))
  std::uint64_t seed = 0;         ///< initial weights and Adam's shuffles

  void validate() const {
    require(hidden > 0, "hidden", hidden, "must be > 0");
    require(max_iter > 0, "max_iter", max_iter, "must be > 0");
    require(alpha >= 0 && std::isfinite(alpha), "alpha", alpha, "must be >= 0 and finite");
    require(lbfgs_memory > 0, "lbfgs_memory", lbfgs_memory, "must be > 0");
    require(tol >= 0 && std::isfinite(tol), "tol", tol, "must be >= 0 and finite");
    require(ftol >= 0 && std::isfinite(ftol), "ftol", ftol, "must be >= 0 and finite");
    require(learning_rate > 0 && std::isfinite(learning_rate), "learning_rate", learning_rate,
            "must be > 0");
    require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "must lie in [0, 1)");
    require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "must lie in [0, 1)");
    require(epsilon > 0, "epsilon", epsilon, "must be > 0");
    require(batch_size > 0, "batch_size", batch_size, "must be > 0");
  }
};

}  // namespace orchard::gbnn
