#pragma once
// Hyperparameters of the booster, with their defaults, and the training progress report.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../tree/grow.hpp"
#include "metric.hpp"
#include "objective.hpp"

namespace orchard::gbdt {

struct Params {
  std::string objective = "regression";  ///< regression | binary | multiclass
  int num_class = 0;                      ///< multiclass: classes (0 = max label + 1)
  int num_rounds = 100;                   ///< boosting rounds (> 0)
  double learning_rate = 0.1;             ///< shrinkage of every tree (> 0)
  std::string growth = "depthwise";       ///< depthwise | leafwise | oblivious
  int max_depth = 6;                      ///< depthwise/oblivious levels; leafwise: <= 0 unlimited
  int num_leaves = 31;                    ///< leafwise: leaves per tree
  double min_child_weight = 1.0;          ///< minimum hessian sum per child
  std::int64_t min_data_in_leaf = 1;      ///< minimum rows per child
  double lambda_l2 = 1.0;                 ///< L2 regularisation of leaf values
  double lambda_l1 = 0.0;                 ///< L1 regularisation of leaf values
  double min_split_gain = 0.0;            ///< minimum gain of a split
  double subsample = 1.0;                 ///< fraction of rows per round, (0, 1]
  double colsample_bytree = 1.0;          ///< fraction of features per tree, (0, 1]
  int max_bin = 255;                      ///< value bins per feature (<= 255: uint8 codes)
  std::int64_t bin_sample_rows = 200000;  ///< rows sampled to find bin quantiles
  double base_score = std::numeric_limits<double>::quiet_NaN();  ///< raw margin; NaN = from data
  std::uint64_t seed = 0;                 ///< seed of all sampling
  int threads = 0;                        ///< 0 = all hardware threads
  std::string device = "cpu";             ///< cpu | cuda
  int early_stopping_rounds = 0;          ///< stop after this many rounds without improvement (0 = off)
  std::string eval_metric;                ///< rmse | logloss | auc | error | mlogloss | merror ("" = per objective)
  bool record_training = false;           ///< keep what influence methods need (see TrainRecord)

  void validate() const {
    (void)parse_objective(objective);
    (void)tree::parse_growth(growth);
    (void)parse_device(device);
    require(num_rounds > 0, "num_rounds", num_rounds, "must be > 0");
    require(learning_rate > 0 && std::isfinite(learning_rate), "learning_rate", learning_rate, "must be > 0 and finite");
    require(num_class >= 0, "num_class", num_class, "must be >= 0");
    require(min_child_weight >= 0, "min_child_weight", min_child_weight, "must be >= 0");
    require(min_data_in_leaf >= 1, "min_data_in_leaf", min_data_in_leaf, "must be >= 1");
    require(lambda_l2 >= 0 && std::isfinite(lambda_l2), "lambda_l2", lambda_l2, "must be >= 0");
    require(lambda_l1 >= 0 && std::isfinite(lambda_l1), "lambda_l1", lambda_l1, "must be >= 0");
    require(min_split_gain >= 0, "min_split_gain", min_split_gain, "must be >= 0");
    require(subsample > 0 && subsample <= 1, "subsample", subsample, "must lie in (0, 1]");
    require(colsample_bytree > 0 && colsample_bytree <= 1, "colsample_bytree", colsample_bytree,
            "must lie in (0, 1]");
    require(max_bin >= 2 && max_bin <= 65535, "max_bin", max_bin, "must lie in [2, 65535]");
    require(bin_sample_rows >= 0, "bin_sample_rows", bin_sample_rows, "must be >= 0");
    require(std::isnan(base_score) || std::isfinite(base_score), "base_score", base_score, "must be finite or NaN");
    require(threads >= 0, "threads", threads, "must be >= 0");
    require(early_stopping_rounds >= 0, "early_stopping_rounds", early_stopping_rounds, "must be >= 0");
    if (!eval_metric.empty()) {
      const Metric m = parse_metric(eval_metric);
      require(metric_fits(m, parse_objective(objective)), "eval_metric", eval_metric,
              "does not apply to objective " + objective);
    }
    const auto g = tree::parse_growth(growth);
    if (g != tree::Growth::leafwise) {
      require(max_depth >= 0 && max_depth <= 30, "max_depth", max_depth, "must lie in [0, 30]");
    } else {
      require(num_leaves >= 2, "num_leaves", num_leaves, "must be >= 2");
    }
  }
};

/// Reported after every round; return false from the callback to stop training.
struct Progress {
  int round = 0;             ///< rounds done
  int num_rounds = 0;        ///< rounds asked for
  double seconds = 0;        ///< since training started
  double valid_metric = std::numeric_limits<double>::quiet_NaN();  ///< NaN without validation data
  int best_round = 0;        ///< rounds of the best validation score so far
};
using ProgressFn = std::function<bool(const Progress&)>;

}  // namespace orchard::gbdt
