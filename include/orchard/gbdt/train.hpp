#pragma once
// Training of a boosted model: binning once, then per round gradients, one tree per output
// (grown by the shared engine with the second-order policy), shrinkage, early stopping.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"
#include "../core/random.hpp"
#include "../tree/binning.hpp"
#include "../tree/grow.hpp"
#include "../tree/predict.hpp"
#include "../tree/second_order.hpp"
#include "metric.hpp"
#include "model.hpp"
#include "objective.hpp"
#include "params.hpp"

namespace orchard::gbdt {

/// What influence methods need, filled when Params::record_training is set.
struct TrainRecord {
  /// raw_scores[r] (n x num_outputs, row-major): raw margins of the training rows before round r;
  /// the gradients of round r are the objective's at these scores.
  std::vector<std::vector<double>> raw_scores;
  /// leaf[t][i]: node id of training row i in tree t (every row, sampled or not).
  std::vector<std::vector<std::int32_t>> leaf;
  /// sample[r]: the rows round r fitted (sorted); empty when every row was used.
  std::vector<std::vector<std::uint32_t>> sample;
  std::vector<double> labels;  ///< the training labels
};

namespace detail {

template <class T>
std::vector<double> check_labels(ConstVectorView<T> y, index_t n, Objective obj, int& num_class,
                                 const char* name) {
  require(y.size == n, std::string(name) + ".size", y.size,
          "must equal the row count of X (" + std::to_string(n) + ")");
  std::vector<double> out(static_cast<std::size_t>(n));
  int maxc = -1;
  for (index_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(y[i]);
    const char* rule = nullptr;
    if (!std::isfinite(v)) {
      rule = "labels must be finite";
    } else if (obj == Objective::logistic && v != 0 && v != 1) {
      rule = "binary labels must be 0 or 1";
    } else if (obj == Objective::softmax &&
               !(v >= 0 && v == std::floor(v) && (num_class == 0 || v < num_class))) {
      rule = "multiclass labels must be integers in 0..num_class-1";
    }
    if (rule != nullptr) require(false, std::string(name) + "[" + std::to_string(i) + "]", v, rule);
    if (obj == Objective::softmax) maxc = std::max(maxc, static_cast<int>(v));
    out[static_cast<std::size_t>(i)] = v;
  }
  if (obj == Objective::softmax && num_class == 0) num_class = std::max(2, maxc + 1);
  return out;
}

template <class T>
void check_features(ConstMatrixView<T> X, const char* name) {
  require(X.rows > 0, std::string(name) + ".rows", X.rows, "must be > 0");
  require(X.cols > 0, std::string(name) + ".cols", X.cols, "must be > 0");
  require(X.rows < (index_t{1} << 32), std::string(name) + ".rows", X.rows, "must be < 2^32");
  for (index_t i = 0; i < X.rows; ++i) {
    for (index_t j = 0; j < X.cols; ++j) {
      const double v = static_cast<double>(X(i, j));
      if (std::isinf(v)) {
        require(false, std::string(name) + "(" + std::to_string(i) + "," + std::to_string(j) + ")", v,
                "features must be finite or NaN (missing)");
      }
    }
  }
}

// Gradient and hessian of output k for every row, as (g, h) float pairs.
inline void gradients(const Context& ctx, Objective obj, const std::vector<double>& F,
                      const std::vector<double>& y, int K, std::vector<std::vector<float>>& gh) {
  const auto n = static_cast<index_t>(y.size());
  parallel_blocks(ctx, n, 4096, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
    std::vector<double> z(static_cast<std::size_t>(K));
    for (std::int64_t i = r0; i < r1; ++i) {
      const auto iu = static_cast<std::size_t>(i);
      if (obj == Objective::squared_error) {
        gh[0][2 * iu] = static_cast<float>(F[iu] - y[iu]);
        gh[0][2 * iu + 1] = 1.0f;
      } else if (obj == Objective::logistic) {
        const double p = sigmoid(F[iu]);
        gh[0][2 * iu] = static_cast<float>(p - y[iu]);
        gh[0][2 * iu + 1] = static_cast<float>(std::max(p * (1 - p), 1e-16));
      } else {
        for (int k = 0; k < K; ++k) z[static_cast<std::size_t>(k)] = F[iu * K + k];
        softmax(z.data(), K);
        const double factor = static_cast<double>(K) / (K - 1);
        for (int k = 0; k < K; ++k) {
          const double p = z[static_cast<std::size_t>(k)];
          gh[static_cast<std::size_t>(k)][2 * iu] = static_cast<float>(p - (y[iu] == k ? 1.0 : 0.0));
          gh[static_cast<std::size_t>(k)][2 * iu + 1] = static_cast<float>(std::max(factor * p * (1 - p), 1e-16));
        }
      }
    }
  });
}

// Split policy and growth settings from p (train and train_distributed share them).
inline tree::SecondOrder split_policy(const Params& p) {
  tree::SecondOrder policy;
  policy.lambda_l2 = p.lambda_l2;
  policy.lambda_l1 = p.lambda_l1;
  policy.min_child_weight = p.min_child_weight;
  return policy;
}

inline tree::GrowParams grow_params(const Params& p) {
  tree::GrowParams gp;
  gp.growth = tree::parse_growth(p.growth);
  gp.max_depth = p.max_depth;
  gp.num_leaves = p.num_leaves;
  gp.min_data_in_leaf = p.min_data_in_leaf;
  gp.min_split_gain = p.min_split_gain;
  return gp;
}

// The columns the tree of class k in round r may split on (empty = all). Drawn from its own
// stream, so every process of a distributed run draws the same set.
inline std::vector<int> tree_features(const Rng& rng, int r, int K, int k, std::int64_t n_feat,
                                      std::int64_t cols) {
  std::vector<int> feats;
  if (n_feat < cols) {
    Rng rc = rng.split(2 * static_cast<std::uint64_t>(r * K + k) + 1);
    for (auto f : rc.sample_without_replacement(cols, n_feat)) feats.push_back(static_cast<int>(f));
  }
  return feats;
}

// Adds tree t (output k of K) to the training scores F; rows growth did not place (those out of
// the row sample) are routed through the binned matrix, so node_of_row ends as every row's leaf.
inline void add_tree_scores(const Context& ctx, const tree::Tree& t, const tree::BinnedMatrix& data,
                            std::vector<std::int32_t>& node_of_row, std::vector<double>& F, int K,
                            int k) {
  parallel_blocks(ctx, static_cast<std::int64_t>(node_of_row.size()), 8192,
                  [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
    for (std::int64_t i = r0; i < r1; ++i) {
      auto& leaf = node_of_row[static_cast<std::size_t>(i)];
      if (leaf < 0) leaf = tree::leaf_binned(t, data, i);
      F[static_cast<std::size_t>(i) * K + k] += t.values(leaf)[0];
    }
  });
}

// Best-round bookkeeping of early stopping; fills the round's Progress.
struct EarlyStopping {
  Metric metric;
  int patience = 0;  // Params::early_stopping_rounds; 0 = never stop
  double best = 0;
  int best_round = 0;

  // Records the validation value of round r (0-based); true when training should stop.
  bool update(double v, int r, Progress& pr) {
    if (r == 0 || (higher_is_better(metric) ? v > best : v < best)) {
      best = v;
      best_round = r + 1;
    }
    pr.valid_metric = v;
    pr.best_round = best_round;
    return patience > 0 && r + 1 - best_round >= patience;
  }
};

// round(frac · total), at least 1: the rows of a subsample or the columns of one tree.
inline std::int64_t fraction_count(double frac, std::int64_t total) {
  return static_cast<std::int64_t>(std::max(1.0, std::round(frac * static_cast<double>(total))));
}

inline Progress round_progress(int r, int num_rounds, std::chrono::steady_clock::time_point t0) {
  Progress pr;
  pr.round = r + 1;
  pr.num_rounds = num_rounds;
  pr.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return pr;
}

template <class T>
Model train_impl(const Params& p, ConstMatrixView<T> X, ConstVectorView<T> y, ConstMatrixView<T> Xv,
                 ConstVectorView<T> yv, const ProgressFn& progress, TrainRecord* record) {
  p.validate();
  if (parse_device(p.device) == Device::cuda) {
    throw DeviceError("orchard: device 'cuda' training is not available in this build of gbdt::train; "
                      "use device = 'cpu' (GPU kernels: orchard/tree/cuda)");
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Objective obj = parse_objective(p.objective);
  check_features(X, "X");
  int K = obj == Objective::softmax ? p.num_class : 1;
  if (obj == Objective::softmax && p.num_class == 1) {
    require(false, "num_class", p.num_class, "multiclass needs num_class >= 2");
  }
  const std::vector<double> labels = check_labels(y, X.rows, obj, K, "y");
  const bool has_valid = Xv.rows > 0 || yv.size > 0;
  std::vector<double> vlabels;
  if (has_valid) {
    check_features(Xv, "valid_X");
    require(Xv.cols == X.cols, "valid_X.cols", Xv.cols, "must equal X.cols (" + std::to_string(X.cols) + ")");
    int Kv = K;
    vlabels = check_labels(yv, Xv.rows, obj, Kv, "valid_y");
  }
  require(p.early_stopping_rounds == 0 || has_valid, "early_stopping_rounds", p.early_stopping_rounds,
          "needs validation data");
  const Metric metric = p.eval_metric.empty() ? default_metric(obj) : parse_metric(p.eval_metric);

  const Context ctx(p.threads);
  tree::BinParams bp;
  bp.max_bin = p.max_bin;
  bp.sample_rows = p.bin_sample_rows;
  bp.seed = p.seed;
  const tree::BinnedMatrix data = tree::BinnedMatrix::fit(X, bp, ctx);

  const tree::SecondOrder policy = split_policy(p);
  const tree::GrowParams gp = grow_params(p);

  Model m;
  m.objective = obj;
  m.num_class = K;
  m.num_features = X.cols;
  m.base_score = std::isnan(p.base_score) ? base_score_from_labels(obj, labels, K)
                                          : std::vector<double>(static_cast<std::size_t>(K), p.base_score);
  const auto n = static_cast<std::size_t>(X.rows);
  std::vector<double> F(n * static_cast<std::size_t>(K)), Fv(static_cast<std::size_t>(Xv.rows) * static_cast<std::size_t>(K));
  for (std::size_t i = 0; i < F.size(); ++i) F[i] = m.base_score[i % static_cast<std::size_t>(K)];
  for (std::size_t i = 0; i < Fv.size(); ++i) Fv[i] = m.base_score[i % static_cast<std::size_t>(K)];
  if (record != nullptr) *record = TrainRecord{};
  if (record != nullptr) record->labels = labels;

  std::vector<std::vector<float>> gh(static_cast<std::size_t>(K), std::vector<float>(2 * n));
  std::vector<std::int32_t> node_of_row;
  tree::GrowWorkspace ws;
  Rng rng(p.seed);
  const bool sub = p.subsample < 1.0;
  const std::int64_t n_sample = fraction_count(p.subsample, static_cast<std::int64_t>(n));
  const std::int64_t n_feat = fraction_count(p.colsample_bytree, X.cols);
  EarlyStopping es{metric, p.early_stopping_rounds};
  for (int r = 0; r < p.num_rounds; ++r) {
    if (record != nullptr) record->raw_scores.push_back(F);
    std::vector<std::uint32_t> sample;
    if (sub) {
      Rng rr = rng.split(2 * static_cast<std::uint64_t>(r));
      for (auto i : rr.sample_without_replacement(static_cast<std::int64_t>(n), n_sample)) {
        sample.push_back(static_cast<std::uint32_t>(i));
      }
    }
    if (record != nullptr) record->sample.push_back(sample);
    gradients(ctx, obj, F, labels, K, gh);
    for (int k = 0; k < K; ++k) {
      const std::vector<int> feats = tree_features(rng, r, K, k, n_feat, X.cols);
      tree::Tree t = tree::grow_tree(ctx, data, policy, gh[static_cast<std::size_t>(k)].data(), sample,
                                     feats, gp, &node_of_row, &ws);
      t.scale(p.learning_rate);
      add_tree_scores(ctx, t, data, node_of_row, F, K, k);
      if (record != nullptr) record->leaf.push_back(node_of_row);
      if (has_valid) {
        tree::predict_add<T>(ctx, std::span<const tree::Tree>(&t, 1), {}, Xv, Fv.data() + k, K);
      }
      m.trees.push_back(std::move(t));
      m.tree_class.push_back(k);
    }
    Progress pr = round_progress(r, p.num_rounds, t0);
    bool stop = false;
    if (has_valid) {
      const double v = evaluate(metric, obj, Fv.data(), vlabels.data(), vlabels.size(), K);
      m.valid_history.push_back(v);
      stop = es.update(v, r, pr);
    }
    if (progress && !progress(pr)) break;
    if (stop) break;
  }
  const int best_round = es.best_round;
  if (p.early_stopping_rounds > 0 && best_round > 0) {
    m.truncate(best_round);
    m.best_round = best_round;
    if (record != nullptr) {
      record->raw_scores.resize(static_cast<std::size_t>(best_round));
      record->sample.resize(static_cast<std::size_t>(best_round));
      record->leaf.resize(m.trees.size());
    }
  }
  return m;
}

}  // namespace detail

/// Trains a model on X (n x d, NaN = missing) and labels y; valid_X / valid_y (optional) feed the
/// evaluation metric, early stopping and Progress::valid_metric. When record is given (or
/// Params::record_training is set and record is given) it receives the TrainRecord.
inline Model train(const Params& p, ConstMatrixView<double> X, ConstVectorView<double> y,
                   ConstMatrixView<double> valid_X = {}, ConstVectorView<double> valid_y = {},
                   const ProgressFn& progress = {}, TrainRecord* record = nullptr) {
  return detail::train_impl<double>(p, X, y, valid_X, valid_y, progress,
                                    p.record_training ? record : nullptr);
}
inline Model train(const Params& p, ConstMatrixView<float> X, ConstVectorView<float> y,
                   ConstMatrixView<float> valid_X = {}, ConstVectorView<float> valid_y = {},
                   const ProgressFn& progress = {}, TrainRecord* record = nullptr) {
  return detail::train_impl<float>(p, X, y, valid_X, valid_y, progress,
                                   p.record_training ? record : nullptr);
}

}  // namespace orchard::gbdt
