#pragma once
// Parameters of every influence method (one struct; each method reads the fields it needs), the
// top-k result and the progress report.
#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "../core/matrix_view.hpp"
#include "../gbdt/params.hpp"

namespace orchard::influence {

/// Reported by the long computations (LeafInfluence, LeafRefit, LOO, SubSample, the evaluation
/// harness); return false from the callback to stop (the call then throws orchard::StateError).
struct Progress {
  std::int64_t done = 0;
  std::int64_t total = 0;
  double seconds = 0;
  std::string stage;
};
using ProgressFn = std::function<bool(const Progress&)>;

struct Params {
  int threads = 0;                 ///< 0 = all hardware threads
  std::uint64_t seed = 1;          ///< random, target, subsample

  // ---- the model's boosting constants -----------------------------------------------------------
  /// Learning rate eta the leaves were scaled by; NaN = recovered from the model's leaves
  /// (least squares of v (H + lambda) = -eta G over all leaves, exact for Newton leaves).
  double learning_rate = std::numeric_limits<double>::quiet_NaN();
  /// L2 leaf regularisation lambda; NaN = recovered together with learning_rate.
  double lambda_l2 = std::numeric_limits<double>::quiet_NaN();
  /// Softmax hessian factor f; NaN = the training library's (Orchard and LightGBM K/(K-1),
  /// XGBoost 2).
  double hessian_factor = std::numeric_limits<double>::quiet_NaN();
  /// Newton-leaf check tolerance: LeafInfluence(SP) and LeafRefit need every leaf value v to
  /// satisfy |v - (-eta G / (H + lambda))| <= newton_atol on the training rows.
  double newton_atol = 1e-5;
  /// LightGBM models (no stored bias): move the boost-from-average initial score (label mean,
  /// log-odds, log class priors) out of the first round's trees into the bias (set false for
  /// models trained with boost_from_average = false).
  bool lightgbm_init_score = true;

  // ---- LeafInfluence ----------------------------------------------------------------------------
  /// Rows whose prediction derivative is propagated: -1 all rows (exact), 0 only the removed row,
  /// k > 0 the removed row plus the rows of the k leaves with the largest |derivative| sum.
  int update_set = -1;

  // ---- TREX / TreeSim / InputSim ------------------------------------------------------------------
  /// Tree kernel: "lpw" (one-hot leaf / leaf row count), "lp" (one-hot leaf), "lo" (leaf output).
  std::string kernel = "lpw";
  /// TREX surrogate targets: "labels" or "predictions" (the model's outputs).
  std::string target = "labels";
  double trex_lambda = 0.003;      ///< L2 weight of the TREX surrogate
  int trex_max_iter = 1000;        ///< LBFGS iterations
  double trex_epsilon = 1e-7;      ///< LBFGS relative gradient tolerance
  /// Similarity of TreeSim / InputSim: "dot_prod", "cosine", "euclidean" ("" = TreeSim dot_prod,
  /// InputSim euclidean).
  std::string measure;

  // ---- LOO / SubSample ------------------------------------------------------------------------
  /// Hyperparameters to retrain with (must reproduce the model; checked when check_retrain).
  gbdt::Params train;
  /// LOO/SubSample: retrain on all rows first and require the model's raw predictions to 1e-6.
  bool check_retrain = true;
  double subsample_fraction = 0.7;  ///< SubSample: fraction of rows per model
  int subsample_models = 200;       ///< SubSample: models trained

  ProgressFn progress;              ///< optional
};

/// For each test row (row e of every matrix) the k most helpful training rows (largest influence
/// first) and the k most harmful (most negative first). Ties go to the smaller training index.
struct TopK {
  Eigen::Matrix<index_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> helpful_index;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> helpful_value;
  Eigen::Matrix<index_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> harmful_index;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> harmful_value;
};

}  // namespace orchard::influence
