#pragma once
// What every tree-based influence method shares: the model's leaves numbered globally, the leaf
// of every training row in every tree, the inverted index leaf -> training rows, the per-round
// derivatives of the training rows, the boosting constants (eta, lambda, hessian factor) and the
// Newton-leaf check. Also the validated test set (leaves, final raw scores).
#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/matrix_view.hpp"
#include "../core/memory.hpp"
#include "../core/parallel.hpp"
#include "../gbdt/model.hpp"
#include "../tree/predict.hpp"
#include "loss.hpp"
#include "params.hpp"

namespace orchard::influence {

namespace detail {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline void check_rows(ConstMatrixView<double> X, std::int64_t d, const char* name) {
  require(X.rows > 0, std::string(name) + ".rows", X.rows, "must be > 0");
  require(X.cols == d, std::string(name) + ".cols", X.cols,
          "must equal the model's feature count " + std::to_string(d));
  for (index_t i = 0; i < X.rows; ++i) {
    for (index_t j = 0; j < X.cols; ++j) {
      const double v = X(i, j);
      if (!std::isinf(v)) continue;  // the message is built only for a bad value
      require(false, std::string(name) + "(" + std::to_string(i) + "," + std::to_string(j) + ")", v,
              "features must be finite or NaN (missing)");
    }
  }
}

inline std::vector<double> check_labels(const gbdt::Model& m, ConstVectorView<double> y, index_t n,
                                        const char* name) {
  require(y.size == n, std::string(name) + ".size", y.size,
          "must equal the row count (" + std::to_string(n) + ")");
  std::vector<double> out(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    const double v = y[i];
    const bool finite = std::isfinite(v);
    const bool binary_ok = m.objective != gbdt::Objective::logistic || v == 0 || v == 1;
    const bool class_ok = m.objective != gbdt::Objective::softmax || (v >= 0 && v == std::floor(v) && v < m.num_class);
    if (!(finite && binary_ok && class_ok)) {  // the message is built only for a bad label
      const std::string arg = std::string(name) + "[" + std::to_string(i) + "]";
      require(finite, arg, v, "labels must be finite");
      require(binary_ok, arg, v, "is not a class of this binary model (0 or 1)");
      require(class_ok, arg, v, "is not a class of this model (integers 0.." + std::to_string(m.num_class - 1) + ")");
    }
    out[static_cast<std::size_t>(i)] = v;
  }
  return out;
}

/// Arrays filled after allocation (no zero fill; the first touch happens in the parallel pass).
template <class T>
using RawVec = std::vector<T, UninitAllocator<T>>;

inline RowMatrix copy_rows(ConstMatrixView<double> X) {
  RowMatrix out(X.rows, X.cols);
  for (index_t i = 0; i < X.rows; ++i) {
    for (index_t j = 0; j < X.cols; ++j) out(i, j) = X(i, j);
  }
  return out;
}

}  // namespace detail

/// Test rows prepared for one local()/top_k() call.
struct TestSet {
  index_t m = 0;
  std::vector<double> y;
  std::vector<std::int32_t> leaf;  ///< m x T global leaf ids, row-major
  std::vector<double> F;           ///< m x K final raw scores
  std::vector<double> Gf;          ///< m x K loss gradients at the final raw scores
  std::vector<double> extra;       ///< method-specific per-test data
  std::vector<double> G;           ///< m x T gradient of tree t's output at the score before its round (when asked)
  detail::RowMatrix X;             ///< copy of the rows (methods that need features)
};

class Structure {
 public:
  /// keep_round_scores: also keep every training row's raw score before every round (n x R x K;
  /// needed by score(r < rounds()), scores() and derivs(): the LeafInfluence family). Without it
  /// only the final scores are kept. The tree-major leaf layout (tree_leaves()) and the inverted
  /// index (leaf_begin() / leaf_end() / leaf_rows()) are built in the constructor, or with
  /// lazy_index on first use (thread-safe; first use should be outside a parallel region), so a
  /// method that needs neither (BoostIn) does not pay for them.
  Structure(const Structure&) = delete;  // packed trees point into model_
  Structure& operator=(const Structure&) = delete;
  Structure(const gbdt::Model& model, ConstMatrixView<double> X, ConstVectorView<double> y,
            const Params& p, bool keep_round_scores = true, bool lazy_index = false)
      : model_(model), ctx_(p.threads), keep_rounds_(keep_round_scores) {
    require(!model.trees.empty(), "model", "no trees", "influence needs a model with at least one tree");
    model.check();
    for (std::size_t t = 0; t < model.trees.size(); ++t) {
      require(model.trees[t].n_outputs == 1, "model.trees[" + std::to_string(t) + "].n_outputs",
              model.trees[t].n_outputs, "influence supports single-output trees only");
    }
    detail::check_rows(X, model.num_features, "X_train");
    y_ = detail::check_labels(model, y, X.rows, "y_train");
    X_ = detail::copy_rows(X);
    n_ = X.rows;
    if (p.lightgbm_init_score) move_lightgbm_init_score();
    K_ = model.num_class;
    T_ = static_cast<index_t>(model.trees.size());
    R_ = T_ / K_;
    const double f = std::isnan(p.hessian_factor) ? hessian_factor(model) : p.hessian_factor;
    require(f > 0 && std::isfinite(f), "hessian_factor", f, "must be > 0 and finite");
    loss_ = Loss(model.objective, K_, f);
    number_leaves();
    train_leaf_.resize(static_cast<std::size_t>(n_ * T_));  // fully overwritten, not zero-filled
    leaves_into(X_, train_leaf_.data(), nullptr);
    derivatives();
    resolve_constants(p);
    if (!lazy_index) ensure_index();
  }

  const gbdt::Model& model() const { return model_; }
  const Context& ctx() const { return ctx_; }
  const Loss& loss() const { return loss_; }
  index_t n() const { return n_; }
  index_t trees() const { return T_; }
  index_t rounds() const { return R_; }
  int outputs() const { return static_cast<int>(K_); }
  index_t total_leaves() const { return leaf_base_.back(); }
  int tree_class(index_t t) const { return model_.tree_class[static_cast<std::size_t>(t)]; }
  index_t round_of(index_t t) const { return t / K_; }

  const std::vector<double>& y() const { return y_; }
  const detail::RowMatrix& X() const { return X_; }
  /// Global leaf ids of training row i in every tree (T values).
  const std::int32_t* row_leaves(index_t i) const { return train_leaf_.data() + i * T_; }
  /// Global leaf id of training row i in tree t.
  std::int32_t train_leaf(index_t i, index_t t) const { return train_leaf_[static_cast<std::size_t>(i * T_ + t)]; }
  /// Leaves of tree t are global ids [leaf_base(t), leaf_base(t + 1)).
  index_t leaf_base(index_t t) const { return leaf_base_[static_cast<std::size_t>(t)]; }
  double leaf_value(index_t l) const { return leaf_value_[static_cast<std::size_t>(l)]; }
  /// Training rows of global leaf l: rows()[leaf_begin(l) .. leaf_end(l)), ascending.
  index_t leaf_begin(index_t l) const { ensure_index(); return leaf_start_[static_cast<std::size_t>(l)]; }
  index_t leaf_end(index_t l) const { ensure_index(); return leaf_start_[static_cast<std::size_t>(l) + 1]; }
  const detail::RawVec<std::int32_t>& leaf_rows() const { ensure_index(); return leaf_rows_; }
  /// Global leaf ids of all training rows in tree t (n values, row order).
  const std::int32_t* tree_leaves(index_t t) const { ensure_tree_major(); return tree_leaf_.data() + t * n_; }
  double leaf_count(index_t l) const { return static_cast<double>(leaf_n_[static_cast<std::size_t>(l)]); }
  /// Derivatives of training row i for tree t at the raw score before t's round (tree-major).
  double g(index_t t, index_t i) const { return g_[static_cast<std::size_t>(t * n_ + i)]; }
  double h(index_t t, index_t i) const { return h_[static_cast<std::size_t>(t * n_ + i)]; }
  /// g / h of all training rows for tree t (n values, row order).
  const double* tree_g(index_t t) const { return g_.data() + t * n_; }
  const double* tree_h(index_t t) const { return h_.data() + t * n_; }
  /// Raw score of training row i, output c, before round r (r = rounds(): final; r < rounds()
  /// needs keep_round_scores).
  double score(index_t r, index_t i, int c) const { return scores(r, i)[c]; }
  const double* scores(index_t r, index_t i) const {
    if (r == R_) return Ffinal_.data() + i * K_;
    if (F_.empty()) throw StateError("orchard: influence structure built without per-round scores");
    return F_.data() + (r * n_ + i) * K_;
  }
  /// g, h and third derivative of training row i for tree t (recomputed from the stored scores).
  Derivs derivs(index_t t, index_t i, double* P) const {
    const double* F = scores(round_of(t), i);
    loss_.transform(F, P);
    return loss_.derivs(F, P, y_[static_cast<std::size_t>(i)], tree_class(t));
  }
  /// Gradient / hessian sums of the training rows in global leaf l.
  double leaf_G(index_t l) const { return leaf_G_[static_cast<std::size_t>(l)]; }
  double leaf_H(index_t l) const { return leaf_H_[static_cast<std::size_t>(l)]; }

  double learning_rate() const { require_constants(); return eta_; }
  double lambda_l2() const { require_constants(); return lambda_; }
  /// max over leaves of |v - (-eta G / (H + lambda))| (NaN when the constants are unknown).
  double newton_residual() const { return newton_residual_; }

  /// Throws InvalidArgument unless the leaves are Newton steps on the training rows.
  void require_newton(const std::string& method, double atol) const {
    require_constants();
    if (!(newton_residual_ <= atol)) {
      std::ostringstream os;
      os.precision(6);
      os << "orchard: influence method '" << method << "' needs Newton leaves, but the model's leaf "
         << "values differ from -eta*G/(H+lambda) on these training rows by up to " << newton_residual_
         << " (tolerance newton_atol = " << atol << ", eta = " << eta_ << ", lambda = " << lambda_
         << "); was the model trained on other rows, with row subsampling, L1 regularisation, or "
            "other learning_rate / lambda_l2 than given?";
      throw InvalidArgument(os.str());
    }
  }

  /// Leaves (global ids, n x T row-major) of arbitrary rows.
  std::vector<std::int32_t> leaves_of(const detail::RowMatrix& X) const {
    std::vector<std::int32_t> out(static_cast<std::size_t>(X.rows() * T_));
    leaves_into(X, out.data(), nullptr);
    return out;
  }

  /// Leaves of the rows of X: row-major (m x T) into rm and, when tm is given, tree-major (T x m).
  /// Rows are walked PackedTree::kLanes at a time in lockstep through the packed trees.
  void leaves_into(const detail::RowMatrix& X, std::int32_t* rm, std::int32_t* tm) const {
    const auto m = static_cast<index_t>(X.rows());
    const index_t d = static_cast<index_t>(X.cols());
    constexpr int kL = tree::PackedTree::kLanes;
    constexpr index_t kRowBlock = 256;
    static_assert(kRowBlock % kL == 0);
    parallel_blocks(ctx_, m, kRowBlock, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      const double* rows[kL];
      std::int32_t lv[kL];
      bool finite[kRowBlock / kL];
      tree::detail::nan_free_lane_groups<double>(X, r0, r1, finite);
      for (index_t t = 0; t < T_; ++t) {
        const auto& pt = packed_[static_cast<std::size_t>(t)];
        const auto& map = node_leaf_[static_cast<std::size_t>(t)];
        const index_t base = leaf_base_[static_cast<std::size_t>(t)];
        for (std::int64_t i0 = r0; i0 < r1; i0 += kL) {
          const int cnt = static_cast<int>(std::min<std::int64_t>(kL, r1 - i0));
          for (int r = 0; r < cnt; ++r) rows[r] = X.data() + (i0 + r) * d;
          pt.leaves(rows, cnt, lv, finite[(i0 - r0) / kL]);
          for (int r = 0; r < cnt; ++r) {
            const auto gl = static_cast<std::int32_t>(base + map[static_cast<std::size_t>(lv[r])]);
            rm[static_cast<std::size_t>((i0 + r) * T_ + t)] = gl;
            if (tm != nullptr) tm[static_cast<std::size_t>(t * m + i0 + r)] = gl;
          }
        }
      }
    });
  }

  /// Validates test rows and labels; fills leaves and final raw scores (and, when with_gradients,
  /// the per-tree gradients at the score before each round).
  std::shared_ptr<TestSet> prepare(ConstMatrixView<double> X, ConstVectorView<double> y,
                                   bool with_gradients) const {
    detail::check_rows(X, model_.num_features, "X_test");
    auto ts = std::make_shared<TestSet>();
    ts->y = detail::check_labels(model_, y, X.rows, "y_test");
    ts->m = X.rows;
    ts->X = detail::copy_rows(X);
    ts->leaf = leaves_of(ts->X);
    ts->F.assign(static_cast<std::size_t>(ts->m * K_), 0.0);
    ts->Gf.assign(static_cast<std::size_t>(ts->m * K_), 0.0);
    if (with_gradients) ts->G.assign(static_cast<std::size_t>(ts->m * T_), 0.0);
    parallel_blocks(ctx_, ts->m, 256, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      std::vector<double> F(static_cast<std::size_t>(K_)), P(static_cast<std::size_t>(K_));
      for (std::int64_t e = r0; e < r1; ++e) {
        for (index_t c = 0; c < K_; ++c) F[static_cast<std::size_t>(c)] = model_.base_score[static_cast<std::size_t>(c)];
        for (index_t r = 0; r < R_; ++r) {
          if (with_gradients) {
            loss_.transform(F.data(), P.data());
            for (index_t c = 0; c < K_; ++c) {
              const index_t t = r * K_ + c;
              ts->G[static_cast<std::size_t>(e * T_ + t)] =
                  loss_.derivs(F.data(), P.data(), ts->y[static_cast<std::size_t>(e)], tree_class(t)).g;
            }
          }
          for (index_t c = 0; c < K_; ++c) {
            const index_t t = r * K_ + c;
            F[static_cast<std::size_t>(tree_class(t))] +=
                leaf_value_[static_cast<std::size_t>(ts->leaf[static_cast<std::size_t>(e * T_ + t)])];
          }
        }
        for (index_t c = 0; c < K_; ++c) ts->F[static_cast<std::size_t>(e * K_ + c)] = F[static_cast<std::size_t>(c)];
        loss_.transform(F.data(), P.data());
        for (index_t c = 0; c < K_; ++c) {
          ts->Gf[static_cast<std::size_t>(e * K_ + c)] =
              loss_.derivs(F.data(), P.data(), ts->y[static_cast<std::size_t>(e)], static_cast<int>(c)).g;
        }
      }
    });
    return ts;
  }

 private:
  // LightGBM folds its initial score (boost_from_average: the label mean for regression, the
  // log-odds of the positive rate for binary, the log class priors for multiclass) into the first
  // round's trees and stores no bias; its first round's gradients were taken at that score. Move
  // it back into the bias so every tree is a Newton step at the score before its round
  // (tree-influence's bias convention for LightGBM).
  void move_lightgbm_init_score() {
    if (model_.source != "lightgbm") return;
    for (double b : model_.base_score) {
      if (b != 0) return;
    }
    const auto K = static_cast<std::size_t>(model_.num_class);
    std::vector<double> b(K, 0.0);
    if (model_.objective == gbdt::Objective::softmax) {
      std::vector<double> count(K, 0.0);
      for (double v : y_) count[static_cast<std::size_t>(v)] += 1;
      for (std::size_t c = 0; c < K; ++c) b[c] = std::log(std::max(count[c], 1e-15) / static_cast<double>(y_.size()));
    } else {
      double mean = 0;
      for (double v : y_) mean += v;
      mean /= static_cast<double>(y_.size());
      b[0] = mean;
      if (model_.objective == gbdt::Objective::logistic) {
        const double q = std::clamp(mean, 1e-15, 1 - 1e-15);
        b[0] = std::log(q / (1 - q));
      }
    }
    for (std::size_t t = 0; t < K && t < model_.trees.size(); ++t) {
      const auto c = static_cast<std::size_t>(model_.tree_class[t]);
      if (!std::isfinite(b[c])) continue;
      for (auto& v : model_.trees[t].value) v -= b[c];
    }
    for (std::size_t c = 0; c < K; ++c) {
      if (std::isfinite(b[c])) model_.base_score[c] = b[c];
    }
  }

  void number_leaves() {
    leaf_base_.assign(static_cast<std::size_t>(T_ + 1), 0);
    node_leaf_.resize(static_cast<std::size_t>(T_));
    for (index_t t = 0; t < T_; ++t) {
      const auto& tr = model_.trees[static_cast<std::size_t>(t)];
      auto& map = node_leaf_[static_cast<std::size_t>(t)];
      map.assign(static_cast<std::size_t>(tr.num_nodes()), -1);
      std::int32_t L = 0;
      for (std::int32_t i = 0; i < tr.num_nodes(); ++i) {
        if (tr.is_leaf(i)) {
          map[static_cast<std::size_t>(i)] = L++;
          leaf_value_.push_back(tr.values(i)[0]);
        }
      }
      leaf_base_[static_cast<std::size_t>(t + 1)] = leaf_base_[static_cast<std::size_t>(t)] + L;
    }
    packed_.reserve(static_cast<std::size_t>(T_));
    for (index_t t = 0; t < T_; ++t) packed_.emplace_back(model_.trees[static_cast<std::size_t>(t)], 1);
  }

  void ensure_tree_major() const {
    if (tree_ready_.load(std::memory_order_acquire)) return;
    std::call_once(tree_once_, [this] {
      // transpose of the row-major leaves, blocks of trees in parallel
      tree_leaf_.resize(static_cast<std::size_t>(n_ * T_));
      constexpr index_t kTB = 16;
      parallel_for(ctx_, (T_ + kTB - 1) / kTB, [&](std::int64_t b) {
        const index_t t0 = b * kTB, t1 = std::min(T_, t0 + kTB);
        for (index_t i = 0; i < n_; ++i) {
          const std::int32_t* li = train_leaf_.data() + i * T_;
          for (index_t t = t0; t < t1; ++t) tree_leaf_[static_cast<std::size_t>(t * n_ + i)] = li[t];
        }
      });
      tree_ready_.store(true, std::memory_order_release);
    });
  }

  void ensure_index() const {
    if (index_ready_.load(std::memory_order_acquire)) return;
    std::call_once(index_once_, [this] {
      ensure_tree_major();
      build_index();
      index_ready_.store(true, std::memory_order_release);
    });
  }

  // Inverted index, one counting sort per tree (trees in parallel): the slots of tree t are
  // [t n, (t + 1) n), its leaves in order, rows ascending within a leaf.
  void build_index() const {
    const index_t NL = leaf_base_.back();
    leaf_start_.assign(static_cast<std::size_t>(NL + 1), 0);
    leaf_rows_.resize(static_cast<std::size_t>(n_ * T_));  // fully overwritten
    parallel_for(ctx_, T_, [&](std::int64_t t) {
      const index_t base = leaf_base(t), L = leaf_base(t + 1) - base;
      const std::int32_t* lt = tree_leaf_.data() + t * n_;
      std::vector<index_t> fill(static_cast<std::size_t>(L) + 1, 0);
      for (index_t i = 0; i < n_; ++i) ++fill[static_cast<std::size_t>(lt[i] - base) + 1];
      fill[0] = t * n_;
      for (index_t k = 0; k < L; ++k) fill[static_cast<std::size_t>(k + 1)] += fill[static_cast<std::size_t>(k)];
      for (index_t k = 0; k < L; ++k) leaf_start_[static_cast<std::size_t>(base + k)] = fill[static_cast<std::size_t>(k)];
      for (index_t i = 0; i < n_; ++i) {
        leaf_rows_[static_cast<std::size_t>(fill[static_cast<std::size_t>(lt[i] - base)]++)] = static_cast<std::int32_t>(i);
      }
    });
    leaf_start_[static_cast<std::size_t>(NL)] = n_ * T_;
  }

  void derivatives() {
    if (keep_rounds_) F_.resize(static_cast<std::size_t>(R_ * n_ * K_));  // fully overwritten
    Ffinal_.assign(static_cast<std::size_t>(n_ * K_), 0.0);
    g_.resize(static_cast<std::size_t>(T_ * n_));  // fully overwritten, not zero-filled
    h_.resize(static_cast<std::size_t>(T_ * n_));
    // row blocks in parallel; within a block rounds outer and rows inner, so g and h (tree-major)
    // are written sequentially. Every row sees the same operations in the same order as a
    // row-at-a-time loop.
    if (K_ == 1) {
      // one output (squared / logistic): trees outer, rows inner, so g and h are written in order
      parallel_blocks(ctx_, n_, 256, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
        std::vector<double> Fb(static_cast<std::size_t>(r1 - r0));
        std::fill(Fb.begin(), Fb.end(), model_.base_score[0]);
        for (index_t t = 0; t < T_; ++t) {
          double* gt = g_.data() + t * n_;
          double* ht = h_.data() + t * n_;
          const std::int32_t* lt = train_leaf_.data() + t;
          for (std::int64_t i = r0; i < r1; ++i) {
            double& F = Fb[static_cast<std::size_t>(i - r0)];
            if (keep_rounds_) F_[static_cast<std::size_t>(t * n_ + i)] = F;
            double p;
            loss_.transform(&F, &p);
            const Derivs d = loss_.derivs(&F, &p, y_[static_cast<std::size_t>(i)], 0);
            gt[i] = d.g;
            ht[i] = d.h;
            F += leaf_value_[static_cast<std::size_t>(lt[i * T_])];
          }
        }
        std::copy(Fb.begin(), Fb.end(), Ffinal_.begin() + r0);
      });
    } else {
      parallel_blocks(ctx_, n_, 256, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
        const auto K = static_cast<std::size_t>(K_);
        std::vector<double> P(K), Fb(static_cast<std::size_t>(r1 - r0) * K);
        for (std::int64_t i = r0; i < r1; ++i) {
          for (std::size_t c = 0; c < K; ++c) Fb[static_cast<std::size_t>(i - r0) * K + c] = model_.base_score[c];
        }
        for (index_t r = 0; r < R_; ++r) {
          for (std::int64_t i = r0; i < r1; ++i) {
            double* F = Fb.data() + static_cast<std::size_t>(i - r0) * K;
            if (keep_rounds_) std::copy(F, F + K, F_.begin() + (r * n_ + i) * K_);
            loss_.transform(F, P.data());
            for (index_t c = 0; c < K_; ++c) {
              const index_t t = r * K_ + c;
              const Derivs d = loss_.derivs(F, P.data(), y_[static_cast<std::size_t>(i)], tree_class(t));
              g_[static_cast<std::size_t>(t * n_ + i)] = d.g;
              h_[static_cast<std::size_t>(t * n_ + i)] = d.h;
            }
            const std::int32_t* li = row_leaves(i);
            for (index_t c = 0; c < K_; ++c) {
              const index_t t = r * K_ + c;
              F[static_cast<std::size_t>(tree_class(t))] += leaf_value_[static_cast<std::size_t>(li[t])];
            }
          }
        }
        for (std::int64_t i = r0; i < r1; ++i) {
          std::copy(Fb.begin() + (i - r0) * K_, Fb.begin() + (i - r0 + 1) * K_, Ffinal_.begin() + i * K_);
        }
      });
    }
    // leaf sums and counts, rows ascending (the order of the inverted index); blocks of trees in
    // parallel, reading the row-major leaves (one cache line per row and block)
    const index_t NL = leaf_base_.back();
    leaf_G_.assign(static_cast<std::size_t>(NL), 0.0);
    leaf_H_.assign(static_cast<std::size_t>(NL), 0.0);
    leaf_n_.assign(static_cast<std::size_t>(NL), 0);
    constexpr index_t kTB = 8;  // enough blocks to balance two threads
    parallel_for(ctx_, (T_ + kTB - 1) / kTB, [&](std::int64_t b) {
      const index_t t0 = b * kTB, t1 = std::min(T_, t0 + kTB);
      for (index_t i = 0; i < n_; ++i) {
        const std::int32_t* li = train_leaf_.data() + i * T_;
        for (index_t t = t0; t < t1; ++t) {
          const auto l = static_cast<std::size_t>(li[t]);
          leaf_G_[l] += g_[static_cast<std::size_t>(t * n_ + i)];
          leaf_H_[l] += h_[static_cast<std::size_t>(t * n_ + i)];
          ++leaf_n_[l];
        }
      }
    });
  }

  // eta and lambda from the parameters, or the least-squares fit of v (H + lambda) = -eta G.
  void resolve_constants(const Params& p) {
    const index_t NL = leaf_base_.back();
    const bool have_eta = !std::isnan(p.learning_rate), have_lambda = !std::isnan(p.lambda_l2);
    if (have_eta) require(p.learning_rate > 0 && std::isfinite(p.learning_rate), "learning_rate", p.learning_rate, "must be > 0 and finite");
    if (have_lambda) require(p.lambda_l2 >= 0 && std::isfinite(p.lambda_l2), "lambda_l2", p.lambda_l2, "must be >= 0 and finite");
    // residual r_l = lambda * a_l + eta * b_l - c_l with a = v, b = G, c = -v H
    double saa = 0, sab = 0, sbb = 0, sac = 0, sbc = 0;
    for (index_t l = 0; l < NL; ++l) {
      const double a = leaf_value(l), b = leaf_G(l), c = -leaf_value(l) * leaf_H(l);
      saa += a * a;
      sab += a * b;
      sbb += b * b;
      sac += a * c;
      sbc += b * c;
    }
    eta_ = p.learning_rate;
    lambda_ = p.lambda_l2;
    std::string why;
    if (!have_eta && !have_lambda) {
      const double det = saa * sbb - sab * sab;
      if (!(std::fabs(det) > 1e-12 * saa * sbb) || saa == 0 || sbb == 0) {
        why = "the leaves do not determine learning_rate and lambda_l2 (degenerate system)";
      } else {
        lambda_ = (sac * sbb - sab * sbc) / det;
        eta_ = (saa * sbc - sab * sac) / det;
        // an exact zero regulariser comes out as round-off
        if (std::fabs(lambda_) < 1e-9 * (1 + std::fabs(eta_))) lambda_ = 0;
      }
    } else if (!have_eta) {
      if (sbb > 0) {
        eta_ = (sbc - lambda_ * sab) / sbb;
      } else {
        why = "every leaf gradient sum is zero";
      }
    } else if (!have_lambda) {
      if (saa > 0) {
        lambda_ = (sac - eta_ * sab) / saa;
        if (std::fabs(lambda_) < 1e-9 * (1 + std::fabs(eta_))) lambda_ = 0;
      } else {
        why = "every leaf value is zero";
      }
    }
    if (why.empty() && !(eta_ > 0 && std::isfinite(eta_) && lambda_ >= 0 && std::isfinite(lambda_))) {
      std::ostringstream os;
      os << "recovered learning_rate = " << eta_ << ", lambda_l2 = " << lambda_
         << " are not valid (leaves are not Newton steps on these rows)";
      why = os.str();
    }
    if (!why.empty()) {
      constants_error_ = "orchard: cannot recover the model's learning_rate / lambda_l2 from its leaves: " + why +
                         "; pass params.learning_rate and params.lambda_l2";
      newton_residual_ = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    double res = 0;
    for (index_t l = 0; l < NL; ++l) {
      const double v = -eta_ * leaf_G(l) / (leaf_H(l) + lambda_);
      res = std::max(res, std::fabs(v - leaf_value(l)));
    }
    newton_residual_ = res;
  }

  void require_constants() const {
    if (!constants_error_.empty()) throw InvalidArgument(constants_error_);
  }

  gbdt::Model model_;
  Context ctx_;
  bool keep_rounds_ = true;
  Loss loss_;
  index_t n_ = 0, K_ = 1, T_ = 0, R_ = 0;
  std::vector<double> y_;
  detail::RowMatrix X_;
  std::vector<std::vector<std::int32_t>> node_leaf_;
  std::vector<tree::PackedTree> packed_;
  std::vector<index_t> leaf_base_;
  std::vector<double> leaf_value_;
  detail::RawVec<std::int32_t> train_leaf_;
  // built on first use (ensure_tree_major / ensure_index)
  mutable std::once_flag tree_once_, index_once_;
  mutable std::atomic<bool> tree_ready_{false}, index_ready_{false};
  mutable std::vector<index_t> leaf_start_;
  mutable detail::RawVec<std::int32_t> leaf_rows_;
  mutable detail::RawVec<std::int32_t> tree_leaf_;
  detail::RawVec<double> F_;
  std::vector<double> Ffinal_;
  detail::RawVec<double> g_, h_;
  std::vector<double> leaf_G_, leaf_H_;
  std::vector<index_t> leaf_n_;
  double eta_ = std::numeric_limits<double>::quiet_NaN();
  double lambda_ = std::numeric_limits<double>::quiet_NaN();
  double newton_residual_ = std::numeric_limits<double>::quiet_NaN();
  std::string constants_error_;
};

}  // namespace orchard::influence
