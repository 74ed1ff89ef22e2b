#pragma once
// Methods that differentiate (or recompute) the Newton leaf values with the tree structures fixed:
//
// LeafInfluenceSP (single point): per training row, J accumulates over trees
//   dv_i^t = -eta [(g_i + (v_l/eta) h_i) + (h_i + (v_l/eta) k_i) J_i^{t-1}] / (H_l + lambda)
//   Influence(i, e) = -sum_c G_{e,c} sum_{t of class c} 1[same leaf] dv_i^t   (G at the final score)
// LeafInfluence (Sharchilev et al. 2018): for a removed row r the derivative of every row's
// prediction is propagated through the trees:
//   D_l = -eta [sum_{j in l, j in U} da_j (h_j + (v_l/eta) k_j) + 1[r in l] (g_r + (v_l/eta) h_r)] / (H_l + lambda)
//   da_j += D_{leaf(j)} for j in U;   Influence(r, e) = -sum_c G_{e,c} sum_{t of class c} D_{leaf_t(e)}
// U (update_set): every row (-1), only r (0), or r plus the rows of the k leaves with the largest
// sum |da| (k > 0). O(n^2 T) in total, computed per removed row and streamed (never stored).
// LeafRefit: every leaf recomputed as one Newton step without row r, with the gradients of the
// other rows refreshed at their changed score *before* each round (the reference refreshes after
// the tree, one round late); Influence(r, e) = L(y_e, F_without_r(x_e)) - L(y_e, F(x_e)), both
// with recomputed (Newton) leaf values, so removing nothing changes nothing.
// All three need Newton leaves and check them (Params::newton_atol).
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "explainer.hpp"

namespace orchard::influence::detail {

/// Final-score gradients of every training row (n x K).
inline std::vector<double> final_train_gradients(const Structure& st) {
  const int K = st.outputs();
  std::vector<double> Gf(static_cast<std::size_t>(st.n() * K));
  parallel_blocks(st.ctx(), st.n(), 1024, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
    std::vector<double> P(static_cast<std::size_t>(K));
    for (std::int64_t i = r0; i < r1; ++i) {
      const double* F = st.scores(st.rounds(), i);
      st.loss().transform(F, P.data());
      for (int c = 0; c < K; ++c) {
        Gf[static_cast<std::size_t>(i * K + c)] = st.loss().derivs(F, P.data(), st.y()[static_cast<std::size_t>(i)], c).g;
      }
    }
  });
  return Gf;
}

class LeafInfluenceSP : public Method {
 public:
  LeafInfluenceSP(std::string name, std::shared_ptr<const Structure> s, double atol)
      : Method(std::move(name), std::move(s)) {
    const Structure& st = *s_;
    st.require_newton(name_, atol);
    const double eta = st.learning_rate(), lambda = st.lambda_l2();
    const index_t n = st.n(), T = st.trees();
    const int K = st.outputs();
    dv_.assign(static_cast<std::size_t>(n * T), 0.0);
    const auto Gf = final_train_gradients(st);
    self_ = Eigen::VectorXd::Zero(n);
    parallel_blocks(st.ctx(), n, 256, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      std::vector<double> P(static_cast<std::size_t>(K)), J(static_cast<std::size_t>(K));
      for (std::int64_t i = r0; i < r1; ++i) {
        std::fill(J.begin(), J.end(), 0.0);
        for (index_t t = 0; t < T; ++t) {
          const index_t l = st.train_leaf(i, t);
          const int c = st.tree_class(t);
          const Derivs d = st.derivs(t, i, P.data());
          const double vr = st.leaf_value(l) / eta;
          const double num = (d.g + vr * d.h) + (d.h + vr * d.k) * J[static_cast<std::size_t>(c)];
          const double dv = -num / (st.leaf_H(l) + lambda) * eta;
          dv_[static_cast<std::size_t>(i * T + t)] = dv;
          J[static_cast<std::size_t>(c)] += dv;
        }
        double acc = 0;
        for (int c = 0; c < K; ++c) acc += -Gf[static_cast<std::size_t>(i * K + c)] * J[static_cast<std::size_t>(c)];
        self_[i] = acc;
      }
    });
  }

  const double* tile_values() const override { return dv_.data(); }
  double tile_coef(const TestSet& ts, index_t e, index_t t) const override {
    return -ts.Gf[static_cast<std::size_t>(e * s_->outputs() + s_->tree_class(t))];
  }

  void column(const TestSet& ts, index_t e, double* out) const override { columns(ts, e, e + 1, out, s_->n()); }

  Eigen::VectorXd self() const override { return self_; }

 private:
  std::vector<double> dv_;  ///< n x T, row-major
  Eigen::VectorXd self_;
};

class LeafInfluence : public Method {
 public:
  LeafInfluence(std::string name, std::shared_ptr<const Structure> s, double atol, int update_set)
      : Method(std::move(name), std::move(s)), update_set_(update_set) {
    const Structure& st = *s_;
    require(update_set >= -1, "update_set", update_set, "must be -1 (all rows), 0 (removed row only) or > 0 (leaves)");
    st.require_newton(name_, atol);
    eta_ = st.learning_rate();
    const double lambda = st.lambda_l2();
    const index_t n = st.n(), T = st.trees();
    add_.assign(static_cast<std::size_t>(T * n), 0.0);
    mult_.assign(static_cast<std::size_t>(T * n), 0.0);
    parallel_blocks(st.ctx(), n, 256, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      std::vector<double> P(static_cast<std::size_t>(st.outputs()));
      for (std::int64_t i = r0; i < r1; ++i) {
        for (index_t t = 0; t < T; ++t) {
          const Derivs d = st.derivs(t, i, P.data());
          const double vr = st.leaf_value(st.train_leaf(i, t)) / eta_;
          add_[static_cast<std::size_t>(t * n + i)] = d.g + vr * d.h;
          mult_[static_cast<std::size_t>(t * n + i)] = d.h + vr * d.k;
        }
      }
    });
    den_.resize(static_cast<std::size_t>(st.total_leaves()));
    for (index_t l = 0; l < st.total_leaves(); ++l) den_[static_cast<std::size_t>(l)] = st.leaf_H(l) + lambda;
    train_Gf_ = final_train_gradients(st);
  }

  bool by_test() const override { return false; }

  /// Derivatives of every leaf value with respect to the weight of training row r (D above).
  std::vector<double> leaf_derivatives(index_t r) const {
    const Structure& st = *s_;
    const index_t n = st.n(), T = st.trees();
    const int K = st.outputs();
    std::vector<double> D(static_cast<std::size_t>(st.total_leaves()), 0.0);
    std::vector<double> da(update_set_ == 0 ? static_cast<std::size_t>(K) : static_cast<std::size_t>(n * K), 0.0);
    std::vector<std::uint8_t> in_u;
    std::vector<std::pair<double, index_t>> order;
    const auto& rows = st.leaf_rows();
    for (index_t t = 0; t < T; ++t) {
      const int c = st.tree_class(t);
      const double* mult = mult_.data() + t * n;
      const index_t lr = st.train_leaf(r, t);
      if (update_set_ == 0) {
        // only r: its own leaf moves, with its own prediction derivative
        const double num = da[static_cast<std::size_t>(c)] * mult[r] + add_[static_cast<std::size_t>(t * n + r)];
        const double dl = -num / den_[static_cast<std::size_t>(lr)] * eta_;
        D[static_cast<std::size_t>(lr)] = dl;
        da[static_cast<std::size_t>(c)] += dl;
        continue;
      }
      if (update_set_ < 0) {
        // every row: two passes in row order (each leaf's sum still runs over its rows in
        // ascending order, as through the inverted index)
        const std::int32_t* leaf = st.tree_leaves(t);
        const index_t lb = st.leaf_base(t);
        double* num = D.data() + lb;  // numerators first, leaf derivatives after
        for (index_t i = 0; i < n; ++i) num[leaf[i] - lb] += da[static_cast<std::size_t>(i * K + c)] * mult[i];
        for (index_t l = lb; l < st.leaf_base(t + 1); ++l) {
          double v = D[static_cast<std::size_t>(l)];
          if (l == lr) v += add_[static_cast<std::size_t>(t * n + r)];
          D[static_cast<std::size_t>(l)] = -v / den_[static_cast<std::size_t>(l)] * eta_;
        }
        for (index_t i = 0; i < n; ++i) da[static_cast<std::size_t>(i * K + c)] += D[static_cast<std::size_t>(leaf[i])];
        continue;
      }
      // top update_set leaves by sum |da| (ties: the later leaf, like an ascending stable sort)
      const index_t L = st.leaf_base(t + 1) - st.leaf_base(t);
      order.clear();
      for (index_t l = st.leaf_base(t); l < st.leaf_base(t + 1); ++l) {
        double s = 0;
        for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
          s += std::fabs(da[static_cast<std::size_t>(rows[static_cast<std::size_t>(j)] * K + c)]);
        }
        order.emplace_back(s, l);
      }
      std::stable_sort(order.begin(), order.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      in_u.assign(static_cast<std::size_t>(L), 0);
      for (index_t q = std::max<index_t>(0, L - update_set_); q < L; ++q) {
        in_u[static_cast<std::size_t>(order[static_cast<std::size_t>(q)].second - st.leaf_base(t))] = 1;
      }
      for (index_t l = st.leaf_base(t); l < st.leaf_base(t + 1); ++l) {
        const bool whole = in_u[static_cast<std::size_t>(l - st.leaf_base(t))] != 0;
        double num = 0;
        if (whole) {
          for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
            const index_t i = rows[static_cast<std::size_t>(j)];
            num += da[static_cast<std::size_t>(i * K + c)] * mult[i];
          }
        } else if (l == lr) {
          num += da[static_cast<std::size_t>(r * K + c)] * mult[r];
        }
        if (l == lr) num += add_[static_cast<std::size_t>(t * n + r)];
        const double dl = -num / den_[static_cast<std::size_t>(l)] * eta_;
        D[static_cast<std::size_t>(l)] = dl;
        if (whole) {
          for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
            da[static_cast<std::size_t>(rows[static_cast<std::size_t>(j)] * K + c)] += dl;
          }
        } else if (l == lr) {
          da[static_cast<std::size_t>(r * K + c)] += dl;
        }
      }
    }
    return D;
  }

  void row(const TestSet& ts, index_t r, double* out) const override {
    const Structure& st = *s_;
    const auto D = leaf_derivatives(r);
    const int K = st.outputs();
    std::vector<double> dp(static_cast<std::size_t>(K));
    for (index_t e = 0; e < ts.m; ++e) {
      std::fill(dp.begin(), dp.end(), 0.0);
      for (index_t t = 0; t < st.trees(); ++t) {
        dp[static_cast<std::size_t>(st.tree_class(t))] += D[static_cast<std::size_t>(ts.leaf[static_cast<std::size_t>(e * st.trees() + t)])];
      }
      double acc = 0;
      for (int c = 0; c < K; ++c) acc += -ts.Gf[static_cast<std::size_t>(e * K + c)] * dp[static_cast<std::size_t>(c)];
      out[e] = acc;
    }
  }

  Eigen::VectorXd self() const override {
    const Structure& st = *s_;
    const int K = st.outputs();
    Eigen::VectorXd out(st.n());
    parallel_for_dynamic(st.ctx(), st.n(), [&](std::int64_t r) {
      const auto D = leaf_derivatives(r);
      std::vector<double> dp(static_cast<std::size_t>(K), 0.0);
      for (index_t t = 0; t < st.trees(); ++t) dp[static_cast<std::size_t>(st.tree_class(t))] += D[static_cast<std::size_t>(st.train_leaf(r, t))];
      double acc = 0;
      for (int c = 0; c < K; ++c) acc += -train_Gf_[static_cast<std::size_t>(r * K + c)] * dp[static_cast<std::size_t>(c)];
      out[r] = acc;
    });
    return out;
  }

 private:
  int update_set_;
  double eta_ = 0;
  std::vector<double> add_, mult_, den_, train_Gf_;
};

class LeafRefit : public Method {
 public:
  LeafRefit(std::string name, std::shared_ptr<const Structure> s, double atol) : Method(std::move(name), std::move(s)) {
    const Structure& st = *s_;
    st.require_newton(name_, atol);
    eta_ = st.learning_rate();
    lambda_ = st.lambda_l2();
    base_ = refit(-1);
  }

  bool by_test() const override { return false; }

  /// Newton leaf values (all trees, global leaf ids) refitted without training row r (-1: none).
  std::vector<double> refit(index_t r) const {
    const Structure& st = *s_;
    const index_t n = st.n();
    const int K = st.outputs();
    std::vector<double> nv(static_cast<std::size_t>(st.total_leaves()), 0.0);
    std::vector<double> delta(static_cast<std::size_t>(n * K), 0.0);
    std::vector<std::uint8_t> touched(static_cast<std::size_t>(n), 0);
    std::vector<double> gn(static_cast<std::size_t>(n * K)), hn(static_cast<std::size_t>(n * K));
    std::vector<double> F(static_cast<std::size_t>(K)), P(static_cast<std::size_t>(K));
    const auto& rows = st.leaf_rows();
    for (index_t rr = 0; rr < st.rounds(); ++rr) {
      // gradients of the rows whose score moved, at the score before this round
      for (index_t i = 0; i < n; ++i) {
        if (!touched[static_cast<std::size_t>(i)]) continue;
        const double* F0 = st.scores(rr, i);
        for (int c = 0; c < K; ++c) F[static_cast<std::size_t>(c)] = F0[c] + delta[static_cast<std::size_t>(i * K + c)];
        st.loss().transform(F.data(), P.data());
        for (int c = 0; c < K; ++c) {
          const Derivs d = st.loss().derivs(F.data(), P.data(), st.y()[static_cast<std::size_t>(i)], c);
          gn[static_cast<std::size_t>(i * K + c)] = d.g;
          hn[static_cast<std::size_t>(i * K + c)] = d.h;
        }
      }
      const std::vector<std::uint8_t> moved = touched;
      for (int c = 0; c < K; ++c) {
        const index_t t = rr * K + c;
        const int cls = st.tree_class(t);
        for (index_t l = st.leaf_base(t); l < st.leaf_base(t + 1); ++l) {
          double dG = 0, dH = 0;
          bool has_r = false;
          for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
            const index_t i = rows[static_cast<std::size_t>(j)];
            if (i == r) {
              has_r = true;
              continue;
            }
            if (moved[static_cast<std::size_t>(i)]) {
              dG += gn[static_cast<std::size_t>(i * K + cls)] - st.g(t, i);
              dH += hn[static_cast<std::size_t>(i * K + cls)] - st.h(t, i);
            }
          }
          if (has_r) {
            dG -= st.g(t, r);
            dH -= st.h(t, r);
          }
          const double G = st.leaf_G(l) + dG, H = st.leaf_H(l) + lambda_ + dH;
          const double v = H > 0 ? -G / H * eta_ : 0.0;
          nv[static_cast<std::size_t>(l)] = v;
          if (r < 0) continue;
          const double dv = v - base_[static_cast<std::size_t>(l)];
          if (dv == 0) continue;
          for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
            const index_t i = rows[static_cast<std::size_t>(j)];
            if (i == r) continue;
            delta[static_cast<std::size_t>(i * K + cls)] += dv;
            touched[static_cast<std::size_t>(i)] = 1;
          }
        }
      }
    }
    return nv;
  }

  std::shared_ptr<TestSet> prepare(ConstMatrixView<double> X, ConstVectorView<double> y) const override {
    auto ts = s_->prepare(X, y, false);
    ts->extra.resize(static_cast<std::size_t>(ts->m));  // loss with the refitted full model
    const int K = s_->outputs();
    std::vector<double> F(static_cast<std::size_t>(K));
    for (index_t e = 0; e < ts->m; ++e) {
      predict(ts->leaf.data() + e * s_->trees(), base_, F.data());
      ts->extra[static_cast<std::size_t>(e)] = s_->loss().value(F.data(), ts->y[static_cast<std::size_t>(e)]);
    }
    return ts;
  }

  void row(const TestSet& ts, index_t r, double* out) const override {
    const auto nv = refit(r);
    std::vector<double> F(static_cast<std::size_t>(s_->outputs()));
    for (index_t e = 0; e < ts.m; ++e) {
      predict(ts.leaf.data() + e * s_->trees(), nv, F.data());
      out[e] = s_->loss().value(F.data(), ts.y[static_cast<std::size_t>(e)]) - ts.extra[static_cast<std::size_t>(e)];
    }
  }

  Eigen::VectorXd self() const override {
    const Structure& st = *s_;
    Eigen::VectorXd out(st.n());
    parallel_for_dynamic(st.ctx(), st.n(), [&](std::int64_t r) {
      std::vector<std::int32_t> lv(static_cast<std::size_t>(st.trees()));
      for (index_t t = 0; t < st.trees(); ++t) lv[static_cast<std::size_t>(t)] = st.train_leaf(r, t);
      std::vector<double> F(static_cast<std::size_t>(st.outputs()));
      predict(lv.data(), base_, F.data());
      const double l0 = st.loss().value(F.data(), st.y()[static_cast<std::size_t>(r)]);
      predict(lv.data(), refit(r), F.data());
      out[r] = st.loss().value(F.data(), st.y()[static_cast<std::size_t>(r)]) - l0;
    });
    return out;
  }

  const std::vector<double>& base_values() const { return base_; }

 private:
  void predict(const std::int32_t* leaves, const std::vector<double>& values, double* F) const {
    const Structure& st = *s_;
    for (int c = 0; c < st.outputs(); ++c) F[c] = st.model().base_score[static_cast<std::size_t>(c)];
    for (index_t t = 0; t < st.trees(); ++t) F[st.tree_class(t)] += values[static_cast<std::size_t>(leaves[t])];
  }

  double eta_ = 0, lambda_ = 0;
  std::vector<double> base_;
};

}  // namespace orchard::influence::detail
