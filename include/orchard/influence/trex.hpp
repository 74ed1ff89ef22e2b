#pragma once
// TREX (tree-ensemble representer points, Brophy & Lowd 2021, as in tree-influence):
// feature map phi(x) = for every tree the one-hot of x's leaf weighted by w_l (kernel "lpw":
// 1/|D_l|; "lp": 1; "lo": the leaf value). An L2-regularised surrogate without bias,
//   min_W (1/N) sum_i l(y_i, phi(x_i) W) + lambda ||W||^2,
// (l: squared error sum (D-y)^2, logistic, softmax cross-entropy) is fitted with LBFGS++ on the
// sparse leaf design (T nonzeros per row, never the dense n x sum-leaves matrix). Targets are the
// labels or the model's predictions. Representer weights alpha_i = (p_i - y_i) / (-2 lambda N)
// (p: surrogate output after the link), kernel K(x_i, x_e) = sum_t 1[same leaf] w_l^2,
// S_e = sum_j alpha_j K(x_j, x_e) = sum_t w_l^2 A_l (A_l: alpha summed over leaf l) and
//   Influence(i, e) = L(y_e, S_e - alpha_i K(x_i, x_e)) - L(y_e, S_e).
#include <LBFGS.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "explainer.hpp"
#include "similarity.hpp"

namespace orchard::influence::detail {

class Trex : public Method {
 public:
  Trex(std::string name, std::shared_ptr<const Structure> s, const Params& p) : Method(std::move(name), std::move(s)) {
    const Structure& st = *s_;
    const Kernel kern = parse_kernel(p.kernel);
    require(p.target == "labels" || p.target == "predictions", "target", p.target, "expected 'labels' or 'predictions'");
    require(p.trex_lambda > 0 && std::isfinite(p.trex_lambda), "trex_lambda", p.trex_lambda, "must be > 0 and finite");
    require(p.trex_max_iter > 0, "trex_max_iter", p.trex_max_iter, "must be > 0");
    require(p.trex_epsilon > 0, "trex_epsilon", p.trex_epsilon, "must be > 0");
    lambda_ = p.trex_lambda;
    w_ = leaf_weights(st, kern);
    const index_t n = st.n(), T = st.trees();
    const auto obj = st.model().objective;
    C_ = obj == gbdt::Objective::softmax ? st.outputs() : 1;
    // targets
    Y_.assign(static_cast<std::size_t>(n * C_), 0.0);
    {
      std::vector<double> P(static_cast<std::size_t>(st.outputs()));
      for (index_t i = 0; i < n; ++i) {
        const double yi = st.y()[static_cast<std::size_t>(i)];
        if (p.target == "labels") {
          if (C_ == 1) {
            Y_[static_cast<std::size_t>(i)] = yi;
          } else {
            Y_[static_cast<std::size_t>(i * C_ + static_cast<index_t>(yi))] = 1.0;
          }
        } else {
          st.loss().transform(st.scores(st.rounds(), i), P.data());
          for (index_t c = 0; c < C_; ++c) Y_[static_cast<std::size_t>(i * C_ + c)] = P[static_cast<std::size_t>(c)];
        }
      }
    }
    // fit
    const index_t dim = st.total_leaves() * C_;
    Eigen::VectorXd W = Eigen::VectorXd::Zero(dim);
    Objective f{this, Eigen::VectorXd(), std::numeric_limits<double>::infinity()};
    LBFGSpp::LBFGSParam<double> lp;
    lp.epsilon = 1e-12;
    lp.epsilon_rel = p.trex_epsilon;
    lp.max_iterations = p.trex_max_iter;
    LBFGSpp::LBFGSSolver<double> solver(lp);
    double fx = 0;
    try {
      iterations_ = solver.minimize(f, W, fx);
    } catch (const std::exception&) {
      // the line search ran out of precision near the optimum: keep the best point seen
      W = f.best_x;
      iterations_ = -1;
    }
    if (f.best_f < fx || iterations_ < 0) W = f.best_x;
    // alpha
    std::vector<double> D(static_cast<std::size_t>(n * C_)), pr(static_cast<std::size_t>(C_));
    outputs(W, D);
    alpha_.assign(static_cast<std::size_t>(n * C_), 0.0);
    const double scale = -2.0 * lambda_ * static_cast<double>(n);
    for (index_t i = 0; i < n; ++i) {
      link(D.data() + i * C_, pr.data());
      for (index_t c = 0; c < C_; ++c) {
        alpha_[static_cast<std::size_t>(i * C_ + c)] = (pr[static_cast<std::size_t>(c)] - Y_[static_cast<std::size_t>(i * C_ + c)]) / scale;
      }
    }
    // per-leaf alpha sums and squared weights
    A_.assign(static_cast<std::size_t>(st.total_leaves() * C_), 0.0);
    for (index_t l = 0; l < st.total_leaves(); ++l) {
      for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
        const index_t i = st.leaf_rows()[static_cast<std::size_t>(j)];
        for (index_t c = 0; c < C_; ++c) A_[static_cast<std::size_t>(l * C_ + c)] += alpha_[static_cast<std::size_t>(i * C_ + c)];
      }
    }
    for (auto& v : w_) v *= v;  // from here on w_ holds w^2
    (void)T;
  }

  /// alpha (n x outputs, row-major) and LBFGS iterations (-1: stopped by the line search).
  const std::vector<double>& alpha() const { return alpha_; }
  int iterations() const { return iterations_; }

  void column(const TestSet& ts, index_t e, double* out) const override {
    const Structure& st = *s_;
    const index_t n = st.n(), T = st.trees();
    std::fill(out, out + n, 0.0);
    std::vector<double> S(static_cast<std::size_t>(C_), 0.0);
    const auto& rows = st.leaf_rows();
    for (index_t t = 0; t < T; ++t) {
      const index_t l = ts.leaf[static_cast<std::size_t>(e * T + t)];
      const double w2 = w_[static_cast<std::size_t>(l)];
      for (index_t c = 0; c < C_; ++c) S[static_cast<std::size_t>(c)] += w2 * A_[static_cast<std::size_t>(l * C_ + c)];
      for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) out[rows[static_cast<std::size_t>(j)]] += w2;
    }
    finish(S.data(), ts.y[static_cast<std::size_t>(e)], out);
  }

  Eigen::VectorXd self() const override {
    const Structure& st = *s_;
    Eigen::VectorXd out(st.n());
    parallel_blocks(st.ctx(), st.n(), 512, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      std::vector<double> S(static_cast<std::size_t>(C_)), F(static_cast<std::size_t>(C_));
      for (std::int64_t i = r0; i < r1; ++i) {
        std::fill(S.begin(), S.end(), 0.0);
        double kii = 0;
        for (index_t t = 0; t < st.trees(); ++t) {
          const index_t l = st.train_leaf(i, t);
          const double w2 = w_[static_cast<std::size_t>(l)];
          kii += w2;
          for (index_t c = 0; c < C_; ++c) S[static_cast<std::size_t>(c)] += w2 * A_[static_cast<std::size_t>(l * C_ + c)];
        }
        out[i] = delta_loss(S.data(), F.data(), i, kii, st.y()[static_cast<std::size_t>(i)]);
      }
    });
    return out;
  }

 private:
  // f(W) and its gradient on the sparse design, in a fixed order (thread-count independent).
  struct Objective {
    const Trex* self;
    Eigen::VectorXd best_x;
    double best_f = std::numeric_limits<double>::infinity();
    double operator()(const Eigen::VectorXd& W, Eigen::VectorXd& grad) {
      const double f = self->evaluate(W, grad);
      if (f < best_f) {
        best_f = f;
        best_x = W;
      }
      return f;
    }
  };

  void outputs(const Eigen::VectorXd& W, std::vector<double>& D) const {
    const Structure& st = *s_;
    parallel_blocks(st.ctx(), st.n(), 2048, [&](std::int64_t, std::int64_t r0, std::int64_t r1) {
      for (std::int64_t i = r0; i < r1; ++i) {
        double* d = D.data() + i * C_;
        for (index_t c = 0; c < C_; ++c) d[c] = 0;
        for (index_t t = 0; t < st.trees(); ++t) {
          const index_t l = st.train_leaf(i, t);
          const double w = w_[static_cast<std::size_t>(l)];
          for (index_t c = 0; c < C_; ++c) d[c] += w * W[l * C_ + c];
        }
      }
    });
  }

  void link(const double* D, double* p) const {
    const auto obj = s_->model().objective;
    if (obj == gbdt::Objective::squared_error) {
      p[0] = D[0];
    } else if (obj == gbdt::Objective::logistic) {
      p[0] = 1.0 / (1.0 + std::exp(-D[0]));
    } else {
      double m = D[0];
      for (index_t c = 1; c < C_; ++c) m = std::max(m, D[c]);
      double s = 0;
      for (index_t c = 0; c < C_; ++c) s += (p[c] = std::exp(D[c] - m));
      for (index_t c = 0; c < C_; ++c) p[c] /= s;
    }
  }

  double evaluate(const Eigen::VectorXd& W, Eigen::VectorXd& grad) const {
    const Structure& st = *s_;
    const index_t n = st.n();
    const auto obj = st.model().objective;
    std::vector<double> D(static_cast<std::size_t>(n * C_)), R(static_cast<std::size_t>(n * C_));
    outputs(W, D);
    const index_t block = 2048;
    std::vector<double> part(static_cast<std::size_t>(num_blocks(n, block)), 0.0);
    parallel_blocks(st.ctx(), n, block, [&](std::int64_t b, std::int64_t r0, std::int64_t r1) {
      std::vector<double> p(static_cast<std::size_t>(C_));
      double acc = 0;
      for (std::int64_t i = r0; i < r1; ++i) {
        const double* d = D.data() + i * C_;
        const double* y = Y_.data() + i * C_;
        double* r = R.data() + i * C_;
        if (obj == gbdt::Objective::squared_error) {
          acc += (d[0] - y[0]) * (d[0] - y[0]);
          r[0] = 2 * (d[0] - y[0]);
        } else if (obj == gbdt::Objective::logistic) {
          const double z = d[0];
          const double softplus = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
          acc += softplus - y[0] * z;
          r[0] = 1.0 / (1.0 + std::exp(-z)) - y[0];
        } else {
          double m = d[0];
          for (index_t c = 1; c < C_; ++c) m = std::max(m, d[c]);
          double s = 0, ysum = 0, yd = 0;
          for (index_t c = 0; c < C_; ++c) {
            s += (p[static_cast<std::size_t>(c)] = std::exp(d[c] - m));
            ysum += y[c];
            yd += y[c] * d[c];
          }
          acc += ysum * (m + std::log(s)) - yd;
          for (index_t c = 0; c < C_; ++c) r[c] = p[static_cast<std::size_t>(c)] / s * ysum - y[c];
        }
      }
      part[static_cast<std::size_t>(b)] = acc;
    });
    double loss = 0;
    for (double v : part) loss += v;
    const double invn = 1.0 / static_cast<double>(n);
    grad.resize(W.size());
    parallel_for(st.ctx(), st.trees(), [&](std::int64_t t) {
      for (index_t l = st.leaf_base(t); l < st.leaf_base(t + 1); ++l) {
        const double w = w_[static_cast<std::size_t>(l)];
        for (index_t c = 0; c < C_; ++c) {
          double g = 0;
          for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
            g += R[static_cast<std::size_t>(st.leaf_rows()[static_cast<std::size_t>(j)] * C_ + c)];
          }
          grad[l * C_ + c] = g * w * invn + 2 * lambda_ * W[l * C_ + c];
        }
      }
    });
    return loss * invn + lambda_ * W.squaredNorm();
  }

  // L(y, S - alpha_i k) - L(y, S); F is scratch of C_ values.
  double delta_loss(const double* S, double* F, index_t i, double k, double y) const {
    const Loss& L = s_->loss();
    const double before = L.value(S, y);
    for (index_t c = 0; c < C_; ++c) F[c] = S[c] - alpha_[static_cast<std::size_t>(i * C_ + c)] * k;
    return L.value(F, y) - before;
  }

  void finish(const double* S, double y, double* out) const {
    std::vector<double> F(static_cast<std::size_t>(C_));
    const Loss& L = s_->loss();
    const double before = L.value(S, y);
    for (index_t i = 0; i < s_->n(); ++i) {
      const double k = out[i];
      if (k == 0) continue;
      for (index_t c = 0; c < C_; ++c) F[static_cast<std::size_t>(c)] = S[c] - alpha_[static_cast<std::size_t>(i * C_ + c)] * k;
      out[i] = L.value(F.data(), y) - before;
    }
  }

  double lambda_ = 0.003;
  index_t C_ = 1;
  std::vector<double> w_, Y_, alpha_, A_;
  int iterations_ = 0;
};

}  // namespace orchard::influence::detail
