#pragma once
// A GBRL ensemble: multi-output trees fit to caller-supplied gradients (a functional optimizer).
//
//   step(X, G)   grows ONE tree on the per-sample gradients G (N x D) of some loss with respect to
//                the ensemble's outputs (shared tree engine, GradientScore policy) and appends it;
//                a leaf holds the mean gradient of its samples.
//   predict(X)   bias - sum_t lr(t, k) * leaf_t(x)[k], optionally over trees [start, stop).
//
// The learning rate is per output range (actor and critic outputs of one shared ensemble) with a
// constant or linear schedule over the tree index. Trees store their contributions
// -lr(t, k) * mean gradient, so prediction is a plain sum. Memory grows with the trees grown.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/parallel.hpp"
#include "../tree/binning.hpp"
#include "../tree/grow.hpp"
#include "../tree/tree.hpp"
#include "forest.hpp"
#include "params.hpp"
#include "predict.hpp"
#include "score.hpp"

namespace orchard::gbrl {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline constexpr int kFormatVersion = 1;

namespace detail {
/// What the GPU tree fit needs: the binned batch, the statistic (N x d floats), the growth
/// parameters and the statistic's shift / scale (l2; nullptr for cosine).
struct CudaFitInput {
  const tree::BinnedMatrix* data = nullptr;
  const float* stats = nullptr;
  int d = 1;
  const tree::GrowParams* grow = nullptr;
  const double* shift = nullptr;
  const double* scale = nullptr;
  int device_id = 0;
};
using CudaFitFn = tree::Tree (*)(const CudaFitInput&, std::vector<std::int32_t>& node_of_row);
using CudaPredictFn = void (*)(const Forest&, ConstMatrixView<double> x, std::int64_t start,
                               std::int64_t stop, double* out, int device_id);
/// Filled in by <orchard/gbrl/cuda.hpp> (a translation unit compiled with nvcc), so an ensemble
/// whose Context has Device::cuda fits and predicts on the GPU from any translation unit.
struct CudaHooks {
  CudaFitFn fit = nullptr;
  CudaPredictFn predict = nullptr;
};
inline CudaHooks& cuda_hooks() {
  static CudaHooks hooks;
  return hooks;
}
inline const CudaHooks& require_cuda() {
  const CudaHooks& h = cuda_hooks();
  if (h.fit == nullptr || h.predict == nullptr) {
    throw DeviceError(
        "orchard: argument 'ctx.device' = cuda: the gbrl CUDA path is not linked in; include "
        "<orchard/gbrl/cuda.hpp> in a translation unit compiled with nvcc");
  }
  return h;
}
}  // namespace detail

/// Progress of supervised fitting.
struct FitProgress {
  std::int64_t tree = 0;     ///< trees grown so far in this call
  std::int64_t n_trees = 0;  ///< trees requested
  double rmse = 0;           ///< root mean squared error over all outputs before this tree
};

class Ensemble {
 public:
  explicit Ensemble(Params p, Context ctx = Context(1)) : p_(std::move(p)), ctx_(ctx) { init(); }

  const Params& params() const { return p_; }
  int n_outputs() const { return p_.n_outputs; }
  /// Feature count, fixed by the first step (or fit / set_bins / load); -1 before.
  index_t n_features() const { return n_features_; }
  std::int64_t num_trees() const { return static_cast<std::int64_t>(trees_.size()); }
  const std::vector<tree::Tree>& trees() const { return trees_; }
  /// The trees compiled for prediction (forest.hpp).
  const Forest& forest() const { return forest_; }
  const std::vector<double>& bias() const { return bias_; }
  void set_context(const Context& ctx) { ctx_ = ctx; }

  /// The learning rate of output k for the tree with index t.
  double learning_rate(int k, std::int64_t t) const {
    require(k >= 0 && k < n_outputs(), "output", k, "must lie in [0, n_outputs)");
    const Rate& r = rate_[static_cast<std::size_t>(k)];
    if (r.schedule == Schedule::constant) return r.lr;
    const double f = r.trees > 0 ? std::min(1.0, static_cast<double>(t) / static_cast<double>(r.trees)) : 1.0;
    return r.lr + (r.final_lr - r.lr) * f;
  }

  /// Grows one tree on the gradients G (N x D) at the rows of X (N x n_features) and appends it.
  void step(ConstMatrixView<double> x, ConstMatrixView<double> g) {
    check_x(x, "X");
    require(g.rows == x.rows && g.cols == n_outputs(), "grads.shape",
            std::to_string(g.rows) + "x" + std::to_string(g.cols),
            "must be " + std::to_string(x.rows) + "x" + std::to_string(n_outputs()) +
                " (one row per sample, one column per output)");
    for (index_t i = 0; i < g.rows; ++i)
      for (index_t k = 0; k < g.cols; ++k)
        if (!std::isfinite(g(i, k)))
          require(false, "grads(" + std::to_string(i) + "," + std::to_string(k) + ")", g(i, k),
                  "gradients must be finite");
    const index_t n = x.rows;
    const int d = n_outputs();
    tree::BinnedMatrix data;
    if (p_.persistent_bins) {
      if (!mapper_) mapper_ = make_mapper(x);
      data = tree::BinnedMatrix::build(*mapper_, x, ctx_);
    } else if (p_.split_candidates == "quantile") {
      data = quantile_bins(x);
    } else {
      data = tree::BinnedMatrix::build(make_mapper(x), x, ctx_);
    }
    // Statistic: raw gradients (cosine) or gradients centred and scaled per column (l2).
    std::vector<double> shift, scale;
    stats_.resize(static_cast<std::size_t>(n * d));
    if (score_ == Score::l2) {
      shift.assign(static_cast<std::size_t>(d), 0.0);
      scale.assign(static_cast<std::size_t>(d), 0.0);
      for (index_t i = 0; i < n; ++i)
        for (int k = 0; k < d; ++k) shift[static_cast<std::size_t>(k)] += g(i, k);
      for (auto& s : shift) s /= static_cast<double>(n);
      for (index_t i = 0; i < n; ++i)
        for (int k = 0; k < d; ++k) {
          const double c = g(i, k) - shift[static_cast<std::size_t>(k)];
          scale[static_cast<std::size_t>(k)] += c * c;
        }
      for (auto& s : scale) {
        s = std::sqrt(s / static_cast<double>(n));
        if (!(s > 0)) s = 1.0;
      }
    }
    for (index_t i = 0; i < n; ++i)
      for (int k = 0; k < d; ++k) {
        double v = g(i, k);
        if (score_ == Score::l2) v = (v - shift[static_cast<std::size_t>(k)]) / scale[static_cast<std::size_t>(k)];
        stats_[static_cast<std::size_t>(i * d + k)] = static_cast<float>(v);
      }
    const double* sh = score_ == Score::l2 ? shift.data() : nullptr;
    const double* sc = score_ == Score::l2 ? scale.data() : nullptr;
    std::vector<std::int32_t> node_of_row;
    // Widths of typical actor-critic heads get a compile-time statistic width (unrolled
    // histogram and scan loops); others use the run-time width.
    tree::Tree t;
    if (ctx_.device() == Device::cuda) {
      detail::CudaFitInput in;
      in.data = &data;
      in.stats = stats_.data();
      in.d = d;
      in.grow = &grow_;
      in.shift = sh;
      in.scale = sc;
      in.device_id = ctx_.device_id();
      t = detail::require_cuda().fit(in, node_of_row);
    } else {
      switch (d) {
        case 2: t = grow<2>(data, sh, sc, node_of_row); break;
        case 3: t = grow<3>(data, sh, sc, node_of_row); break;
        case 4: t = grow<4>(data, sh, sc, node_of_row); break;
        case 5: t = grow<5>(data, sh, sc, node_of_row); break;
        default: t = grow<0>(data, sh, sc, node_of_row); break;
      }
    }
    // Leaves: the exact mean raw gradient (double sums in row order).
    std::vector<double> sum(static_cast<std::size_t>(t.num_nodes()) * static_cast<std::size_t>(d), 0.0);
    std::vector<double> cnt(static_cast<std::size_t>(t.num_nodes()), 0.0);
    for (index_t i = 0; i < n; ++i) {
      const auto leaf = static_cast<std::size_t>(node_of_row[static_cast<std::size_t>(i)]);
      cnt[leaf] += 1;
      for (int k = 0; k < d; ++k) sum[leaf * static_cast<std::size_t>(d) + static_cast<std::size_t>(k)] += g(i, k);
    }
    const auto tix = num_trees();
    std::vector<double> lr(static_cast<std::size_t>(d));
    for (int k = 0; k < d; ++k) lr[static_cast<std::size_t>(k)] = learning_rate(k, tix);
    for (std::int32_t nd = 0; nd < t.num_nodes(); ++nd) {
      const auto u = static_cast<std::size_t>(nd);
      for (int k = 0; k < d; ++k) {
        double& v = t.value[u * static_cast<std::size_t>(d) + static_cast<std::size_t>(k)];
        if (t.is_leaf(nd)) v = cnt[u] > 0 ? sum[u * static_cast<std::size_t>(d) + static_cast<std::size_t>(k)] / cnt[u] : 0.0;
        v *= -lr[static_cast<std::size_t>(k)];
      }
    }
    append(std::move(t), std::move(lr));
  }

  /// Outputs for the rows of X over trees [start, stop) (stop = -1: all), plus the bias when
  /// with_bias.
  RowMatrix predict(ConstMatrixView<double> x, std::int64_t start = 0, std::int64_t stop = -1,
                    bool with_bias = true) const {
    require(n_features_ >= 0 || num_trees() == 0, "model", "empty", "has no feature count");
    if (n_features_ >= 0) check_x(x, "X");
    if (stop < 0) stop = num_trees();
    require(start >= 0 && start <= stop && stop <= num_trees(), "tree range",
            std::to_string(start) + ".." + std::to_string(stop),
            "must satisfy 0 <= start <= stop <= num_trees = " + std::to_string(num_trees()));
    RowMatrix out(x.rows, n_outputs());
    for (index_t i = 0; i < x.rows; ++i)
      for (int k = 0; k < n_outputs(); ++k)
        out(i, k) = with_bias ? bias_[static_cast<std::size_t>(k)] : 0.0;
    predict_add(x, start, stop, out.data());
    return out;
  }

  /// out (rows x n_outputs, row-major) += contributions of trees [start, stop). No checks.
  void predict_add(ConstMatrixView<double> x, std::int64_t start, std::int64_t stop,
                   double* out) const {
    if (start >= stop || x.rows == 0) return;
    if (ctx_.device() == Device::cuda) {
      detail::require_cuda().predict(forest_, x, start, stop, out, ctx_.device_id());
      return;
    }
    const ForestView f = forest_.view();
    parallel_blocks(ctx_, x.rows, detail::kPredictBlock, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      std::vector<double> xt(static_cast<std::size_t>(detail::kPredictBlock * x.cols));
      detail::predict_rows(f, x, r0, r1, start, stop, xt.data(), out);
    });
  }

  // ---- incremental prediction cache for a fixed buffer (PPO's rollout) ----------------------

  /// Starts caching the outputs of X; with persistent_bins the bins are recomputed from X.
  void cache_begin(ConstMatrixView<double> x) {
    if (n_features_ < 0) n_features_ = x.cols;
    check_x(x, "X");
    cache_x_.resize(x.rows, x.cols);
    for (index_t i = 0; i < x.rows; ++i)
      for (index_t j = 0; j < x.cols; ++j) cache_x_(i, j) = x(i, j);
    cache_out_ = predict(ConstMatrixView<double>(cache_x_));
    cache_trees_ = num_trees();
    cache_active_ = true;
    if (p_.persistent_bins) mapper_ = make_mapper(ConstMatrixView<double>(cache_x_));
  }
  /// Outputs of the cached buffer, adding only the trees grown since the last call.
  const RowMatrix& cache_predict() {
    if (!cache_active_) throw StateError("orchard::gbrl: cache_predict() before cache_begin()");
    predict_add(ConstMatrixView<double>(cache_x_), cache_trees_, num_trees(), cache_out_.data());
    cache_trees_ = num_trees();
    return cache_out_;
  }
  void cache_end() {
    cache_active_ = false;
    cache_x_.resize(0, 0);
    cache_out_.resize(0, 0);
  }

  /// Fixes the bins from X (persistent_bins); later steps bin their batch with them.
  void set_bins(ConstMatrixView<double> x) {
    if (n_features_ < 0) n_features_ = x.cols;
    check_x(x, "X");
    mapper_ = make_mapper(x);
  }

  // ---- supervised learning ----------------------------------------------------------------

  /// Fits n_trees trees to targets Y (N x D) by MultiRMSE (gradient prediction - y of
  /// 0.5 ||prediction - y||^2). The bias starts at the column means when the ensemble is empty.
  /// Predictions are updated with the new tree only: O(n_trees), not O(n_trees^2).
  void fit(ConstMatrixView<double> x, ConstMatrixView<double> y, std::int64_t n_trees,
           const std::function<bool(const FitProgress&)>& progress = {}) {
    require(n_trees >= 0, "n_trees", n_trees, "must be >= 0");
    require(y.rows == x.rows && y.cols == n_outputs(), "Y.shape",
            std::to_string(y.rows) + "x" + std::to_string(y.cols), "must be N x n_outputs");
    require(x.rows > 0, "X.rows", x.rows, "must be > 0");
    for (index_t i = 0; i < y.rows; ++i)
      for (index_t k = 0; k < y.cols; ++k) require(std::isfinite(y(i, k)), "Y", y(i, k), "must be finite");
    if (n_features_ < 0) n_features_ = x.cols;
    check_x(x, "X");
    if (num_trees() == 0) {
      for (int k = 0; k < n_outputs(); ++k) {
        double s = 0;
        for (index_t i = 0; i < y.rows; ++i) s += y(i, k);
        bias_[static_cast<std::size_t>(k)] = s / static_cast<double>(y.rows);
      }
    }
    RowMatrix pred = predict(x);
    RowMatrix grad(x.rows, n_outputs());
    for (std::int64_t t = 0; t < n_trees; ++t) {
      double se = 0;
      for (index_t i = 0; i < x.rows; ++i)
        for (int k = 0; k < n_outputs(); ++k) {
          grad(i, k) = pred(i, k) - y(i, k);
          se += grad(i, k) * grad(i, k);
        }
      if (progress) {
        FitProgress fp{t, n_trees, std::sqrt(se / static_cast<double>(grad.size()))};
        if (!progress(fp)) break;
      }
      step(x, ConstMatrixView<double>(grad));
      predict_add(x, num_trees() - 1, num_trees(), pred.data());
    }
  }

  /// A smaller ensemble (student params) fit to this ensemble's outputs on X.
  Ensemble distill(ConstMatrixView<double> x, Params student, std::int64_t n_trees) const {
    require(student.n_outputs == n_outputs(), "student.n_outputs", student.n_outputs,
            "must equal the teacher's n_outputs");
    const RowMatrix target = predict(x);
    Ensemble s(std::move(student), ctx_);
    s.fit(x, ConstMatrixView<double>(target), n_trees);
    return s;
  }

  // ---- persistence -------------------------------------------------------------------------

  nlohmann::json to_json() const {
    nlohmann::json j;
    j["format"] = "orchard-gbrl";
    j["version"] = kFormatVersion;
    j["params"] = gbrl::to_json(p_);
    j["n_features"] = n_features_;
    j["bias"] = bias_;
    nlohmann::json trees = nlohmann::json::array();
    for (const auto& t : trees_) trees.push_back(t.to_json());
    j["trees"] = trees;
    j["tree_lr"] = tree_lr_;
    if (mapper_) {
      std::vector<std::vector<double>> cuts;
      for (int f = 0; f < mapper_->num_features(); ++f) cuts.push_back(mapper_->cuts(f));
      j["bins"] = {{"max_bin", mapper_->max_bin()}, {"cuts", cuts}};
    } else {
      j["bins"] = nullptr;
    }
    return j;
  }

  static Ensemble from_json(const nlohmann::json& j, Context ctx = Context(1)) {
    try {
      if (!j.is_object() || j.value("format", std::string()) != "orchard-gbrl") {
        throw FormatError("orchard::gbrl: not an orchard-gbrl model");
      }
      const int v = json::get<int>(j, "version", "gbrl model");
      if (v != kFormatVersion) {
        throw FormatError("orchard::gbrl: model version " + std::to_string(v) +
                          " is not supported (expected " + std::to_string(kFormatVersion) + ")");
      }
      Params p;
      try {
        p = params_from_json(j.at("params"));
      } catch (const InvalidArgument& e) {
        throw FormatError(std::string("orchard::gbrl: bad params in model: ") + e.what());
      }
      Ensemble e = [&] {
        try {
          return Ensemble(p, ctx);
        } catch (const InvalidArgument& ex) {
          throw FormatError(std::string("orchard::gbrl: bad params in model: ") + ex.what());
        }
      }();
      e.n_features_ = json::get<index_t>(j, "n_features", "gbrl model");
      if (e.n_features_ < -1) throw FormatError("orchard::gbrl: n_features < -1");
      e.bias_ = j.at("bias").get<std::vector<double>>();
      if (static_cast<int>(e.bias_.size()) != p.n_outputs) throw FormatError("orchard::gbrl: bias size != n_outputs");
      const auto& trees = j.at("trees");
      const auto lrs = j.at("tree_lr").get<std::vector<std::vector<double>>>();
      if (!trees.is_array() || lrs.size() != trees.size()) throw FormatError("orchard::gbrl: tree_lr size != tree count");
      if (!trees.empty() && e.n_features_ < 1) throw FormatError("orchard::gbrl: trees without features");
      for (std::size_t t = 0; t < trees.size(); ++t) {
        tree::Tree tr = tree::Tree::from_json(trees[t], e.n_features_);
        if (tr.n_outputs != p.n_outputs) throw FormatError("orchard::gbrl: tree n_outputs != model's");
        if (static_cast<int>(lrs[t].size()) != p.n_outputs) throw FormatError("orchard::gbrl: tree_lr row size");
        e.append(std::move(tr), lrs[t]);
      }
      const auto& b = j.at("bins");
      if (!b.is_null()) {
        auto cuts = b.at("cuts").get<std::vector<std::vector<double>>>();
        if (static_cast<index_t>(cuts.size()) != e.n_features_) throw FormatError("orchard::gbrl: bins size");
        try {
          e.mapper_ = tree::BinMapper::from_cuts(std::move(cuts), p.categorical, json::get<int>(b, "max_bin", "gbrl bins"));
        } catch (const InvalidArgument& ex) {
          throw FormatError(std::string("orchard::gbrl: bad bins in model: ") + ex.what());
        }
      }
      return e;
    } catch (const nlohmann::json::exception& ex) {
      throw FormatError(std::string("orchard::gbrl: malformed model: ") + ex.what());
    }
  }

  void save(const std::string& path) const {
    std::ofstream f(path);
    if (!f) throw IoError("orchard::gbrl: cannot write " + path);
    f << to_json().dump();
    if (!f) throw IoError("orchard::gbrl: write failed for " + path);
  }

  static Ensemble load(const std::string& path, Context ctx = Context(1)) {
    std::ifstream f(path);
    if (!f) throw IoError("orchard::gbrl: cannot open " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::parse_error& e) {
      throw ParseError(path, 0, 0, std::string("model is not valid JSON: ") + e.what());
    } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond double
      throw ParseError(path, 0, 0, std::string("model is not valid JSON: ") + e.what());
    }
    return from_json(j, ctx);
  }

 private:
  struct Rate {
    Schedule schedule = Schedule::constant;
    double lr = 0.1, final_lr = 0.0;
    std::int64_t trees = 0;
  };
  template <int K>
  tree::Tree grow(const tree::BinnedMatrix& data, const double* shift, const double* scale,
                  std::vector<std::int32_t>& node_of_row) {
    GradientScore<K> pol;
    pol.d = n_outputs();
    pol.shift = shift;
    pol.scale = scale;
    return tree::grow_tree(ctx_, data, pol, stats_.data(), {}, {}, grow_, &node_of_row, &ws_);
  }

  void init() {
    require(p_.n_outputs >= 1, "n_outputs", p_.n_outputs, "must be >= 1");
    forest_ = Forest(p_.n_outputs);
    score_ = parse_score(p_.score);
    if (p_.growth == "greedy" || p_.growth == "depthwise") {
      grow_.growth = tree::Growth::depthwise;
    } else if (p_.growth == "oblivious") {
      grow_.growth = tree::Growth::oblivious;
    } else {
      throw InvalidArgument("orchard: argument 'growth' = " + p_.growth +
                            ": expected 'greedy' or 'oblivious'");
    }
    require(p_.max_depth >= 0 && p_.max_depth <= 30, "max_depth", p_.max_depth, "must lie in [0, 30]");
    require(grow_.growth != tree::Growth::oblivious || p_.max_depth <= 20, "max_depth", p_.max_depth,
            "oblivious trees allow at most 20 levels");
    require(p_.split_candidates == "quantile" || p_.split_candidates == "uniform",
            "split_candidates", p_.split_candidates, "expected 'quantile' or 'uniform'");
    require(p_.max_bin >= 2 && p_.max_bin <= 65535, "max_bin", p_.max_bin, "must lie in [2, 65535]");
    require(p_.min_data_in_leaf >= 1, "min_data_in_leaf", p_.min_data_in_leaf, "must be >= 1");
    require(p_.min_split_gain >= 0, "min_split_gain", p_.min_split_gain, "must be >= 0");
    for (double w : p_.feature_weights)
      require(w >= 0 && std::isfinite(w), "feature_weights", w, "must be finite and >= 0");
    for (int c : p_.categorical) require(c >= 0, "categorical", c, "must be a feature index");
    grow_.node_stats = tree::NodeStats::automatic;  // batches are small next to 255 bins
    grow_.max_depth = p_.max_depth;
    grow_.min_data_in_leaf = p_.min_data_in_leaf;
    grow_.min_split_gain = p_.min_split_gain;
    grow_.feature_weights = p_.feature_weights;
    // Learning-rate ranges must tile [0, D) without overlap.
    const int d = p_.n_outputs;
    require(!p_.lr.empty(), "lr", "empty", "needs at least one learning-rate range");
    std::vector<int> owner(static_cast<std::size_t>(d), -1);
    rate_.assign(static_cast<std::size_t>(d), Rate{});
    for (std::size_t r = 0; r < p_.lr.size(); ++r) {
      const LrRange& x = p_.lr[r];
      const int end = x.end < 0 ? d : x.end;
      const std::string range = "[" + std::to_string(x.begin) + ", " + std::to_string(end) + ")";
      require(x.begin >= 0 && x.begin < end && end <= d, "lr range", range,
              "must be a non-empty part of [0, n_outputs = " + std::to_string(d) + ")");
      require(std::isfinite(x.lr) && x.lr >= 0, "lr", x.lr, "must be finite and >= 0");
      const Schedule s = parse_schedule(x.schedule);
      if (s == Schedule::linear) {
        require(std::isfinite(x.final_lr) && x.final_lr >= 0, "final_lr", x.final_lr, "must be finite and >= 0");
        require(x.schedule_trees >= 1, "schedule_trees", x.schedule_trees, "must be >= 1");
      }
      for (int k = x.begin; k < end; ++k) {
        require(owner[static_cast<std::size_t>(k)] < 0, "lr range", range,
                "overlaps another range at output " + std::to_string(k));
        owner[static_cast<std::size_t>(k)] = static_cast<int>(r);
        rate_[static_cast<std::size_t>(k)] = Rate{s, x.lr, x.final_lr, x.schedule_trees};
      }
    }
    for (int k = 0; k < d; ++k)
      require(owner[static_cast<std::size_t>(k)] >= 0, "lr ranges", "incomplete",
              "output " + std::to_string(k) + " has no learning rate");
    if (p_.bias.empty()) {
      bias_.assign(static_cast<std::size_t>(d), 0.0);
    } else {
      require(static_cast<int>(p_.bias.size()) == d, "bias.size", p_.bias.size(), "must equal n_outputs");
      for (double b : p_.bias) require(std::isfinite(b), "bias", b, "must be finite");
      bias_ = p_.bias;
    }
  }

  void check_x(ConstMatrixView<double> x, const char* name) const {
    require(x.rows > 0, std::string(name) + ".rows", x.rows, "must be > 0");
    if (n_features_ >= 0) {
      require(x.cols == n_features_, std::string(name) + ".cols", x.cols,
              "must equal the model's feature count " + std::to_string(n_features_));
    }
    require(x.cols >= 1, std::string(name) + ".cols", x.cols, "must be >= 1");
    for (index_t i = 0; i < x.rows; ++i)
      for (index_t j = 0; j < x.cols; ++j)
        if (std::isinf(x(i, j)))
          require(false, std::string(name) + "(" + std::to_string(i) + "," + std::to_string(j) + ")",
                  x(i, j), "must not be infinite (NaN marks a missing value)");
  }

  tree::BinMapper make_mapper(ConstMatrixView<double> x) {
    if (n_features_ < 0) n_features_ = x.cols;
    require(p_.feature_weights.empty() || static_cast<index_t>(p_.feature_weights.size()) == x.cols,
            "feature_weights.size", p_.feature_weights.size(), "must be 0 or the feature count");
    for (int c : p_.categorical) require(c < x.cols, "categorical", c, "must be a feature index");
    if (p_.split_candidates == "quantile") {
      tree::BinParams bp;
      bp.max_bin = p_.max_bin;
      bp.sample_rows = 0;
      bp.categorical = p_.categorical;
      return tree::BinMapper::fit(x, bp, ctx_);
    }
    // Uniform: max_bin equal-width bins between each feature's minimum and maximum.
    std::vector<std::vector<double>> cuts(static_cast<std::size_t>(x.cols));
    parallel_for(ctx_, x.cols, [&](std::int64_t f) {
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (index_t i = 0; i < x.rows; ++i) {
        const double v = x(i, f);
        if (std::isnan(v)) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      auto& c = cuts[static_cast<std::size_t>(f)];
      if (!(hi > lo)) return;
      for (int b = 1; b < p_.max_bin; ++b) {
        const double t = lo + (hi - lo) * b / p_.max_bin;
        if (t < hi && (c.empty() || t > c.back())) c.push_back(t);
      }
    });
    return tree::BinMapper::from_cuts(std::move(cuts), p_.categorical, p_.max_bin);
  }

  // Per-batch quantile binning in one sort per feature: the cut points (BinMapper::find_cuts, as
  // BinMapper::fit) and every row's code from the same sorted order.
  tree::BinnedMatrix quantile_bins(ConstMatrixView<double> x) {
    if (n_features_ < 0) n_features_ = x.cols;
    require(p_.feature_weights.empty() || static_cast<index_t>(p_.feature_weights.size()) == x.cols,
            "feature_weights.size", p_.feature_weights.size(), "must be 0 or the feature count");
    std::vector<char> cat(static_cast<std::size_t>(x.cols), 0);
    for (int c : p_.categorical) {
      require(c < x.cols, "categorical", c, "must be a feature index");
      cat[static_cast<std::size_t>(c)] = 1;
    }
    const index_t n = x.rows;
    std::vector<std::vector<double>> cuts(static_cast<std::size_t>(x.cols));
    std::vector<int> codes(static_cast<std::size_t>(n * x.cols));
    parallel_for_dynamic(ctx_, x.cols, [&](std::int64_t f) {
      int* code = codes.data() + f * n;
      auto& cf = cuts[static_cast<std::size_t>(f)];
      if (cat[static_cast<std::size_t>(f)]) {
        for (index_t i = 0; i < n; ++i) {
          const double v = x(i, f);
          if (std::isnan(v)) {
            code[i] = p_.max_bin;
          } else {
            if (!(v >= 0 && v < p_.max_bin && v == std::floor(v)))
              require(false, "X(categorical feature " + std::to_string(f) + ")", v,
                      "category codes must be integers in [0, max_bin)");
            code[i] = static_cast<int>(v);
          }
        }
        return;
      }
      // Rows by value (ties by row): a radix sort of the values' order-preserving keys.
      std::vector<std::uint64_t> keys;
      std::vector<std::uint32_t> rows;
      keys.reserve(static_cast<std::size_t>(n));
      rows.reserve(static_cast<std::size_t>(n));
      for (index_t i = 0; i < n; ++i) {
        const double v = x(i, f);
        if (std::isnan(v)) continue;
        keys.push_back(tree::detail::sort_key(v));
        rows.push_back(static_cast<std::uint32_t>(i));
      }
      tree::detail::radix_sort_pairs(keys, rows);
      std::vector<double> sorted(rows.size());
      for (std::size_t k = 0; k < rows.size(); ++k) sorted[k] = x(static_cast<index_t>(rows[k]), f);
      cf = tree::BinMapper::find_cuts(sorted, p_.max_bin);
      const int missing = static_cast<int>(cf.size()) + 1;
      for (index_t i = 0; i < n; ++i) code[i] = missing;
      std::size_t b = 0;  // bin b holds cuts[b-1] < v <= cuts[b]
      for (std::size_t k = 0; k < rows.size(); ++k) {
        while (b < cf.size() && cf[b] < sorted[k]) ++b;
        code[rows[k]] = static_cast<int>(b);
      }
    });
    tree::BinMapper m = tree::BinMapper::from_cuts(std::move(cuts), p_.categorical, p_.max_bin);
    std::vector<std::uint8_t> c8;
    std::vector<std::uint16_t> c16;
    if (m.wide()) {
      c16.assign(codes.begin(), codes.end());
    } else {
      c8.resize(codes.size());
      for (std::size_t k = 0; k < codes.size(); ++k) c8[k] = static_cast<std::uint8_t>(codes[k]);
    }
    return tree::BinnedMatrix::from_codes(std::move(m), n, std::move(c8), std::move(c16));
  }

  void append(tree::Tree t, std::vector<double> lr) {
    forest_.add(t, grow_.growth == tree::Growth::oblivious);
    trees_.push_back(std::move(t));
    tree_lr_.push_back(std::move(lr));
  }

  Params p_;
  Context ctx_;
  Score score_ = Score::cosine;
  tree::GrowParams grow_;
  std::vector<Rate> rate_;
  std::vector<double> bias_;
  index_t n_features_ = -1;
  std::vector<tree::Tree> trees_;
  std::vector<std::vector<double>> tree_lr_;
  Forest forest_;  ///< the trees compiled for prediction
  std::optional<tree::BinMapper> mapper_;
  tree::GrowWorkspace ws_;
  std::vector<float> stats_;
  RowMatrix cache_x_, cache_out_;
  std::int64_t cache_trees_ = 0;
  bool cache_active_ = false;
};

}  // namespace orchard::gbrl
