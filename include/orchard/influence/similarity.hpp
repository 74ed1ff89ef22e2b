#pragma once
// Baselines of Brophy et al. 2023:
//   TreeSim   similarity in a tree-kernel space (kernel lpw / lp / lo; measure dot_prod, cosine,
//             euclidean = 1/distance) times the sign of label agreement.
//   LeafSim   TreeSim with lpw and dot_prod: sign * sum_t 1[same leaf] / |D_l|^2.
//   InputSim  the same in input space (default 1 / euclidean distance; missing values count as 0).
//   Target    same label: U(0, 1), else U(-1, 0).
//   Random    U(-1, 1).
//   Loss      self-influence only: the training row's loss under the model.
// Sign (classification): +1 when the training label equals the test label, else -1. Regression:
// with p the model's prediction of the test row, +1 when the training label lies on the other
// side of p than the test label (y_i >= p) != (p >= y_e), else -1 (the reference's rule).
#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../core/random.hpp"
#include "explainer.hpp"

namespace orchard::influence::detail {

enum class Kernel { lpw, lp, lo };
enum class Measure { dot_prod, cosine, euclidean };

inline Kernel parse_kernel(const std::string& s) {
  if (s == "lpw") return Kernel::lpw;
  if (s == "lp" || s == "lp_") return Kernel::lp;
  if (s == "lo" || s == "lo_") return Kernel::lo;
  throw InvalidArgument("orchard: argument 'kernel' = " + s + ": expected 'lpw', 'lp' or 'lo'");
}
inline Measure parse_measure(const std::string& s) {
  if (s == "dot_prod" || s == "dot") return Measure::dot_prod;
  if (s == "cosine") return Measure::cosine;
  if (s == "euclidean") return Measure::euclidean;
  throw InvalidArgument("orchard: argument 'measure' = " + s + ": expected 'dot_prod', 'cosine' or 'euclidean'");
}

/// Feature weight of each global leaf in a tree kernel (0 for leaves no training row reaches).
inline std::vector<double> leaf_weights(const Structure& st, Kernel k) {
  std::vector<double> w(static_cast<std::size_t>(st.total_leaves()));
  for (index_t l = 0; l < st.total_leaves(); ++l) {
    const double c = st.leaf_count(l);
    w[static_cast<std::size_t>(l)] = k == Kernel::lpw ? (c > 0 ? 1.0 / c : 0.0) : k == Kernel::lp ? 1.0 : st.leaf_value(l);
  }
  return w;
}

/// +1 / -1 label agreement of training row i with test label ye (prediction pe for regression).
inline double agreement(const Structure& st, index_t i, double ye, double pe) {
  const double yi = st.y()[static_cast<std::size_t>(i)];
  if (st.model().objective != gbdt::Objective::squared_error) return yi == ye ? 1.0 : -1.0;
  const bool test_up = pe >= ye, train_up = yi >= pe;
  return train_up != test_up ? 1.0 : -1.0;
}

inline double safe_inverse(double d) {
  return d == 0 ? std::numeric_limits<double>::max() : 1.0 / d;
}

class TreeSim : public Method {
 public:
  TreeSim(std::string name, std::shared_ptr<const Structure> s, Kernel k, Measure m)
      : Method(std::move(name), std::move(s)), measure_(m) {
    const Structure& st = *s_;
    w2_ = leaf_weights(st, k);
    for (auto& v : w2_) v *= v;
    norm2_.assign(static_cast<std::size_t>(st.n()), 0.0);
    for (index_t i = 0; i < st.n(); ++i) {
      double a = 0;
      for (index_t t = 0; t < st.trees(); ++t) a += w2_[static_cast<std::size_t>(st.train_leaf(i, t))];
      norm2_[static_cast<std::size_t>(i)] = a;
    }
  }

  void column(const TestSet& ts, index_t e, double* out) const override {
    const Structure& st = *s_;
    const index_t n = st.n(), T = st.trees();
    std::fill(out, out + n, 0.0);
    std::vector<std::int32_t> shared;
    if (measure_ == Measure::euclidean) shared.assign(static_cast<std::size_t>(n), 0);
    double ne = 0;
    const auto& rows = st.leaf_rows();
    for (index_t t = 0; t < T; ++t) {
      const index_t l = ts.leaf[static_cast<std::size_t>(e * T + t)];
      const double w = w2_[static_cast<std::size_t>(l)];
      ne += w;
      for (index_t j = st.leaf_begin(l); j < st.leaf_end(l); ++j) {
        const auto i = static_cast<std::size_t>(rows[static_cast<std::size_t>(j)]);
        out[i] += w;
        if (!shared.empty()) ++shared[i];
      }
    }
    finish(ts, e, ne, shared, out);
  }

  Eigen::VectorXd self() const override {
    const Structure& st = *s_;
    Eigen::VectorXd out(st.n());
    const double pe_dummy = 0;
    for (index_t i = 0; i < st.n(); ++i) {
      const double yi = st.y()[static_cast<std::size_t>(i)];
      const double pi = st.model().objective == gbdt::Objective::squared_error ? st.score(st.rounds(), i, 0) : pe_dummy;
      const double nn = norm2_[static_cast<std::size_t>(i)];
      double sim = nn;
      if (measure_ == Measure::cosine) sim = nn > 0 ? nn / nn : 0.0;
      if (measure_ == Measure::euclidean) sim = safe_inverse(0.0);
      out[i] = sim * agreement(st, i, yi, pi);
    }
    return out;
  }

 private:
  void finish(const TestSet& ts, index_t e, double ne, const std::vector<std::int32_t>& shared, double* out) const {
    const Structure& st = *s_;
    const double ye = ts.y[static_cast<std::size_t>(e)];
    const double pe = ts.F[static_cast<std::size_t>(e * st.outputs())];
    for (index_t i = 0; i < st.n(); ++i) {
      const double dot = out[i], ni = norm2_[static_cast<std::size_t>(i)];
      double sim = dot;
      if (measure_ == Measure::cosine) {
        const double den = std::sqrt(ni) * std::sqrt(ne);
        sim = den > 0 ? dot / den : 0.0;
      } else if (measure_ == Measure::euclidean) {
        const double d2 = shared[static_cast<std::size_t>(i)] == st.trees() ? 0.0 : std::max(0.0, ni + ne - 2 * dot);
        sim = safe_inverse(std::sqrt(d2));
      }
      out[i] = sim * agreement(st, i, ye, pe);
    }
  }

  Measure measure_;
  std::vector<double> w2_, norm2_;
};

class InputSim : public Method {
 public:
  InputSim(std::string name, std::shared_ptr<const Structure> s, Measure m) : Method(std::move(name), std::move(s)), measure_(m) {
    const Structure& st = *s_;
    X_ = st.X();
    for (index_t i = 0; i < X_.rows(); ++i) {
      for (index_t j = 0; j < X_.cols(); ++j) {
        if (std::isnan(X_(i, j))) X_(i, j) = 0.0;
      }
    }
    norm_ = X_.rowwise().norm();
  }

  void column(const TestSet& ts, index_t e, double* out) const override {
    const Structure& st = *s_;
    Eigen::VectorXd x = ts.X.row(e).transpose();
    for (index_t j = 0; j < x.size(); ++j) {
      if (std::isnan(x[j])) x[j] = 0.0;
    }
    const double nx = x.norm();
    const double ye = ts.y[static_cast<std::size_t>(e)];
    const double pe = ts.F[static_cast<std::size_t>(e * st.outputs())];
    for (index_t i = 0; i < st.n(); ++i) {
      double sim;
      if (measure_ == Measure::euclidean) {
        sim = safe_inverse((X_.row(i).transpose() - x).norm());
      } else {
        const double dot = X_.row(i).dot(x);
        sim = dot;
        if (measure_ == Measure::cosine) {
          const double den = norm_[i] * nx;
          sim = den > 0 ? dot / den : 0.0;
        }
      }
      out[i] = sim * agreement(st, i, ye, pe);
    }
  }

  Eigen::VectorXd self() const override {
    const Structure& st = *s_;
    Eigen::VectorXd out(st.n());
    for (index_t i = 0; i < st.n(); ++i) {
      double sim = measure_ == Measure::euclidean ? safe_inverse(0.0)
                   : measure_ == Measure::cosine  ? (norm_[i] > 0 ? 1.0 : 0.0)
                                                  : norm_[i] * norm_[i];
      const double pi = st.score(st.rounds(), i, 0);
      out[i] = sim * agreement(st, i, st.y()[static_cast<std::size_t>(i)], pi);
    }
    return out;
  }

 private:
  Measure measure_;
  detail::RowMatrix X_;
  Eigen::VectorXd norm_;
};

/// Target (signed uniform by label agreement) and Random (uniform in [-1, 1)).
class RandomLike : public Method {
 public:
  RandomLike(std::string name, std::shared_ptr<const Structure> s, bool by_target, std::uint64_t seed)
      : Method(std::move(name), std::move(s)), target_(by_target), rng_(seed) {}

  void column(const TestSet& ts, index_t e, double* out) const override {
    const Structure& st = *s_;
    Rng r = rng_.split(static_cast<std::uint64_t>(e));
    const double ye = ts.y[static_cast<std::size_t>(e)];
    const double pe = ts.F[static_cast<std::size_t>(e * st.outputs())];
    for (index_t i = 0; i < st.n(); ++i) out[i] = draw(r, i, ye, pe);
  }

  Eigen::VectorXd self() const override {
    const Structure& st = *s_;
    Rng r = rng_.split(0xFFFFFFFFFFFFull);
    Eigen::VectorXd out(st.n());
    for (index_t i = 0; i < st.n(); ++i) out[i] = draw(r, i, st.y()[static_cast<std::size_t>(i)], st.score(st.rounds(), i, 0));
    return out;
  }

 private:
  double draw(Rng& r, index_t i, double ye, double pe) const {
    const double u = r.uniform();
    if (!target_) return 2 * u - 1;
    return agreement(*s_, i, ye, pe) > 0 ? u : u - 1;
  }
  bool target_;
  Rng rng_;
};

class LossSelf : public Method {
 public:
  LossSelf(std::string name, std::shared_ptr<const Structure> s) : Method(std::move(name), std::move(s)) {}
  bool has_local() const override { return false; }
  Eigen::VectorXd self() const override {
    const Structure& st = *s_;
    Eigen::VectorXd out(st.n());
    for (index_t i = 0; i < st.n(); ++i) out[i] = st.loss().value(st.scores(st.rounds(), i), st.y()[static_cast<std::size_t>(i)]);
    return out;
  }
};

}  // namespace orchard::influence::detail
