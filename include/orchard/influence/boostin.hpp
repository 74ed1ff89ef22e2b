#pragma once
// BoostIn (TracIn adapted to boosted trees, Brophy et al. 2023) and its W1/W2 variants.
//   dv_i^t = eta (g_i^t + v_l h_i^t) / (sum_{j in l} h_j^t + lambda)     (i in leaf l of tree t)
//   Influence(i, e) = sum_t 1[leaf_t(x_i) = leaf_t(x_e)] dv_i^t G_e^t
// with G_e^t the test gradient at the score before tree t's round, for tree t's class. W1 / W2
// scale dv by 1/|D_l| / 1/|D_l|^2. Self-influence sum_t dv_i^t g_i^t in O(n T).
// Storage: dv row-major (n x T) next to the row-major leaves; local() streams them once per tile
// of 32 test rows (tiles.hpp: a leaf x test-row table of G, dense or factored, fused
// multiply-adds in vector registers, trees in order).
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
    const index_t n = st.n(), T = st.trees(), NL = st.total_leaves();
    std::vector<double> den(static_cast<std::size_t>(NL)), w(static_cast<std::size_t>(NL), 1.0);
    for (index_t l = 0; l < NL; ++l) {
      den[static_cast<std::size_t>(l)] = st.leaf_H(l) + lambda;
      if (weight == 1) w[static_cast<std::size_t>(l)] = 1.0 / st.leaf_count(l);
      if (weight == 2) w[static_cast<std::size_t>(l)] = 1.0 / (st.leaf_count(l) * st.leaf_count(l));
    }
    dv_.resize(static_cast<std::size_t>(n * T));  // fully overwritten, not zero-filled
    self_.resize(n);
    // row blocks in parallel; within a block trees in order (streams g, h of one tree at a time;
    // the block's row-major leaves and dv stay in cache). Only the row-major leaf layout is read,
    // so the structure's tree-major layout and inverted index are never built for BoostIn.
    const std::int32_t* leaves = st.row_leaves(0);
    parallel_blocks(st.ctx(), n, 256, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      std::vector<double> acc(static_cast<std::size_t>(r1 - r0), 0.0);
      for (index_t t = 0; t < T; ++t) {
        const double* g = st.tree_g(t);
        const double* h = st.tree_h(t);
        for (std::int64_t i = r0; i < r1; ++i) {
          const std::int32_t li = leaves[static_cast<std::size_t>(i * T + t)];
          const auto l = static_cast<std::size_t>(li);
          double dv = (g[i] + st.leaf_value(li) * h[i]) / den[l] * eta;
          if (weight != 0) dv *= w[l];  // (x * 1 == x)
          dv_[static_cast<std::size_t>(i * T + t)] = dv;
          acc[static_cast<std::size_t>(i - r0)] += dv * g[i];
        }
      }
      for (std::int64_t i = r0; i < r1; ++i) self_[i] = acc[static_cast<std::size_t>(i - r0)];
    });
  }

  bool needs_test_gradients() const override { return true; }
  const double* tile_values() const override { return dv_.data(); }
  double tile_coef(const TestSet& ts, index_t e, index_t t) const override {
    return ts.G[static_cast<std::size_t>(e * s_->trees() + t)];
  }

  void column(const TestSet& ts, index_t e, double* out) const override { columns(ts, e, e + 1, out, s_->n()); }

  Eigen::VectorXd self() const override { return self_; }

  /// dv of training row i in tree t at i * T + t.
  const RawVec<double>& dv() const { return dv_; }
  /// dv in the order of the inverted index (slot j of leaf_rows()), for the GPU path.
  std::vector<double> dv_index_order() const {
    const Structure& st = *s_;
    const index_t T = st.trees();
    std::vector<double> out(st.leaf_rows().size());  // builds the index outside the parallel region
    parallel_for(st.ctx(), T, [&](std::int64_t t) {
      for (index_t j = st.leaf_begin(st.leaf_base(t)); j < st.leaf_end(st.leaf_base(t + 1) - 1); ++j) {
        out[static_cast<std::size_t>(j)] = dv_[static_cast<std::size_t>(st.leaf_rows()[static_cast<std::size_t>(j)] * T + t)];
      }
    });
    return out;
  }

 private:
  RawVec<double> dv_;  ///< n x T, row-major
  Eigen::VectorXd self_;
};

}  // namespace orchard::influence::detail
