#pragma once
// BoostIn (TracIn adapted to boosted trees, Brophy et al. 2023) and its W1/W2 variants.
//   dv_i^t = eta (g_i^t + v_l h_i^t) / (sum_{j in l} h_j^t + lambda)     (i in leaf l of tree t)
//   Influence(i, e) = sum_t 1[leaf_t(x_i) = leaf_t(x_e)] dv_i^t G_e^t
// with G_e^t the test gradient at the score before tree t's round, for tree t's class. W1 / W2
// scale dv by 1/|D_l| / 1/|D_l|^2. Self-influence sum_t dv_i^t g_i^t in O(n T).
// Storage: dv in the order of the inverted index (leaf -> rows), so one test row touches only the
// rows sharing its leaves: ~ n T / leaves operations.
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "explainer.hpp"

namespace orchard::influence::detail {

class BoostIn : public Method {
 public:
  /// weight: 0 plain, 1 = W1, 2 = W2.
  BoostIn(std::string name, std::shared_ptr<const Structure> s, int weight) : Method(std::move(name), std::move(s)) {
    const Structure& st = *s_;
    const double eta = st.learning_rate(), lambda = st.lambda_l2();
    dv_.assign(st.leaf_rows().size(), 0.0);
    self_ = Eigen::VectorXd::Zero(st.n());
    // per tree: dv of every row, written at the row's slot of the inverted index
    parallel_for(st.ctx(), st.trees(), [&](std::int64_t t) {
      for (index_t l = st.leaf_base(t); l < st.leaf_base(t + 1); ++l) {
        const double v = st.leaf_value(l), den = st.leaf_H(l) + lambda;
        double w = 1.0;
        if (weight == 1) w = 1.0 / st.leaf_count(l);
        if (weight == 2) w = 1.0 / (st.leaf_count(l) * st.leaf_count(l));
        for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
          const index_t i = st.leaf_rows()[static_cast<std::size_t>(j)];
          dv_[static_cast<std::size_t>(j)] = (st.g(t, i) + v * st.h(t, i)) / den * eta * w;
        }
      }
    });
    // self: rows in parallel, trees in order
    std::vector<index_t> slot(static_cast<std::size_t>(st.n() * st.trees()));
    for (index_t t = 0; t < st.trees(); ++t) {
      for (index_t l = st.leaf_base(t); l < st.leaf_base(t + 1); ++l) {
        for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
          slot[static_cast<std::size_t>(st.leaf_rows()[static_cast<std::size_t>(j)] * st.trees() + t)] = j;
        }
      }
    }
    parallel_for(st.ctx(), st.n(), [&](std::int64_t i) {
      double acc = 0;
      for (index_t t = 0; t < st.trees(); ++t) {
        acc += dv_[static_cast<std::size_t>(slot[static_cast<std::size_t>(i * st.trees() + t)])] * st.g(t, i);
      }
      self_[i] = acc;
    });
  }

  bool needs_test_gradients() const override { return true; }

  void column(const TestSet& ts, index_t e, double* out) const override {
    const Structure& st = *s_;
    std::fill(out, out + st.n(), 0.0);
    const auto& rows = st.leaf_rows();
    for (index_t t = 0; t < st.trees(); ++t) {
      const index_t l = ts.leaf[static_cast<std::size_t>(e * st.trees() + t)];
      const double G = ts.G[static_cast<std::size_t>(e * st.trees() + t)];
      for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
        out[rows[static_cast<std::size_t>(j)]] += dv_[static_cast<std::size_t>(j)] * G;
      }
    }
  }

  void columns(const TestSet& ts, index_t e0, index_t e1, double* out, index_t ld) const override {
    const index_t T = s_->trees();
    scatter_columns(*s_, dv_, ts, e0, e1, out, ld,
                    [&](index_t e, index_t t) { return ts.G[static_cast<std::size_t>(e * T + t)]; });
  }

  Eigen::VectorXd self() const override { return self_; }

  /// dv in inverted-index order (for the GPU path).
  const std::vector<double>& dv() const { return dv_; }

 private:
  std::vector<double> dv_;
  Eigen::VectorXd self_;
};

}  // namespace orchard::influence::detail
