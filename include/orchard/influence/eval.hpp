#pragma once
// Evaluation harness (the measures of Brophy et al. 2023), so users can compare influence methods
// on their own data. Every measure retrains with orchard::gbdt and the given training parameters.
//   remove_single   for each chosen test row: remove the top f% most helpful training rows (by the
//                   method's influence on that row), retrain, record the change of that row's
//                   loss. Better methods raise the loss more.
//   relabel_single  the same, relabelling instead of removing (binary: flip; multiclass: next
//                   class, y+1 mod K).
//   remove_set      rank by influence summed over validation rows, remove the top f%, retrain,
//                   record the change of the mean test loss. Better methods raise it more.
//   label_noise     flip noise_fraction of the training labels, train, rank by self-influence
//                   (descending), report the fraction of the flipped rows found in the top f%.
// rank() orders methods by the mean of a curve (larger = better for all four measures).
#include <Eigen/Dense>
#include <algorithm>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "../core/random.hpp"
#include "../gbdt/train.hpp"
#include "make.hpp"

namespace orchard::influence::eval {

struct Options {
  gbdt::Params train;                     ///< hyperparameters of every (re)training
  Params influence;                       ///< parameters of the influence methods
  std::vector<double> fractions = {0.001, 0.005, 0.01, 0.02, 0.05};  ///< removal / check fractions
  int n_test = 10;                        ///< test rows used by remove_single / relabel_single
  double noise_fraction = 0.4;            ///< label_noise: fraction of labels flipped
  std::uint64_t seed = 1;                 ///< picks test rows and flipped labels
  int threads = 0;                        ///< retraining threads (0 = all)
  ProgressFn progress;                    ///< optional
};

/// One measure for one method: value[j] at fractions[j].
struct Curve {
  std::string method;
  std::string measure;
  std::vector<double> fractions;
  std::vector<double> value;
  double mean() const {
    return value.empty() ? 0.0 : std::accumulate(value.begin(), value.end(), 0.0) / static_cast<double>(value.size());
  }
};

namespace detail {

using RowMatrix = influence::detail::RowMatrix;

inline void check_fractions(const std::vector<double>& f) {
  require(!f.empty(), "fractions", "empty", "needs at least one fraction");
  for (double v : f) require(v > 0 && v < 1, "fractions", v, "each must lie in (0, 1)");
}

inline gbdt::Model fit(const Options& o, const RowMatrix& X, const Eigen::VectorXd& y, int num_class) {
  gbdt::Params p = o.train;
  p.threads = o.threads;
  if (num_class > 2) p.num_class = num_class;
  return gbdt::train(p, cview<double>(X), ConstVectorView<double>(y.data(), y.size()));
}

inline RowMatrix copy(ConstMatrixView<double> X) { return influence::detail::copy_rows(X); }
inline Eigen::VectorXd copy(ConstVectorView<double> y) {
  Eigen::VectorXd v(y.size);
  for (index_t i = 0; i < y.size; ++i) v[i] = y[i];
  return v;
}

inline double row_loss(const Loss& L, const gbdt::Model& m, const RowMatrix& X, index_t e, double y) {
  const Eigen::MatrixXd F = m.predict_raw(ConstMatrixView<double>(X.data() + e * X.cols(), 1, X.cols()), -1, 1);
  std::vector<double> f(static_cast<std::size_t>(F.cols()));
  for (index_t c = 0; c < F.cols(); ++c) f[static_cast<std::size_t>(c)] = F(0, c);
  return L.value(f.data(), y);
}

inline double mean_loss(const Loss& L, const gbdt::Model& m, const RowMatrix& X, const Eigen::VectorXd& y) {
  const Eigen::MatrixXd F = m.predict_raw(cview<double>(X), -1, 0);
  std::vector<double> f(static_cast<std::size_t>(F.cols()));
  double s = 0;
  for (index_t e = 0; e < X.rows(); ++e) {
    for (index_t c = 0; c < F.cols(); ++c) f[static_cast<std::size_t>(c)] = F(e, c);
    s += L.value(f.data(), y[e]);
  }
  return s / static_cast<double>(X.rows());
}

// Rows sorted by descending score (ties: smaller index first).
inline std::vector<index_t> order_desc(const Eigen::VectorXd& s) {
  std::vector<index_t> idx(static_cast<std::size_t>(s.size()));
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](index_t a, index_t b) { return s[a] > s[b]; });
  return idx;
}

inline index_t count_of(double f, index_t n) {
  return std::max<index_t>(1, static_cast<index_t>(std::llround(f * static_cast<double>(n))));
}

inline double flip(double y, gbdt::Objective o, int K) {
  if (o == gbdt::Objective::logistic) return 1 - y;
  return static_cast<double>((static_cast<int>(y) + 1) % K);
}

// Single-test-row measures (remove / relabel).
inline Curve single(const std::string& method, const gbdt::Model& model, ConstMatrixView<double> Xtr,
                    ConstVectorView<double> ytr, ConstMatrixView<double> Xte, ConstVectorView<double> yte,
                    const Options& o, bool relabel) {
  check_fractions(o.fractions);
  require(o.n_test >= 1, "n_test", o.n_test, "must be >= 1");
  if (relabel) {
    require(model.objective != gbdt::Objective::squared_error, "measure", "relabel_single",
            "needs a classification model");
  }
  const RowMatrix X = copy(Xtr), Xt = copy(Xte);
  const Eigen::VectorXd y = copy(ytr), yt = copy(yte);
  const Explainer ex = make(method, model, Xtr, ytr, o.influence);
  const Loss& L = ex.method().structure().loss();
  const index_t n = X.rows(), m = Xt.rows();
  Rng rng(o.seed);
  const auto tests = rng.sample_without_replacement(m, std::min<index_t>(m, o.n_test));
  Curve c{method, relabel ? "relabel_single" : "remove_single", o.fractions, std::vector<double>(o.fractions.size(), 0.0)};
  influence::detail::Stopwatch sw;
  std::int64_t done = 0;
  for (index_t e : tests) {
    const RowMatrix xe = Xt.row(e);
    const Eigen::VectorXd ye = yt.segment(e, 1);
    const Eigen::MatrixXd I = ex.local(cview<double>(xe), ConstVectorView<double>(ye.data(), 1));
    const auto ord = order_desc(I.col(0));
    const double base = row_loss(L, model, Xt, e, yt[e]);
    for (std::size_t j = 0; j < o.fractions.size(); ++j) {
      const index_t k = std::min<index_t>(n - 1, count_of(o.fractions[j], n));
      std::vector<std::uint8_t> hit(static_cast<std::size_t>(n), 0);
      for (index_t q = 0; q < k; ++q) hit[static_cast<std::size_t>(ord[static_cast<std::size_t>(q)])] = 1;
      RowMatrix Xn;
      Eigen::VectorXd yn;
      if (relabel) {
        Xn = X;
        yn = y;
        for (index_t i = 0; i < n; ++i) {
          if (hit[static_cast<std::size_t>(i)]) yn[i] = flip(y[i], model.objective, model.num_class);
        }
      } else {
        Xn.resize(n - k, X.cols());
        yn.resize(n - k);
        for (index_t i = 0, q = 0; i < n; ++i) {
          if (hit[static_cast<std::size_t>(i)]) continue;
          Xn.row(q) = X.row(i);
          yn[q++] = y[i];
        }
      }
      const gbdt::Model mr = fit(o, Xn, yn, model.num_class);
      c.value[j] += (row_loss(L, mr, Xt, e, yt[e]) - base) / static_cast<double>(tests.size());
    }
    influence::detail::report(o.progress, ++done, static_cast<std::int64_t>(tests.size()), sw, c.measure + " " + method);
  }
  return c;
}

}  // namespace detail

inline Curve remove_single(const std::string& method, const gbdt::Model& model, ConstMatrixView<double> X_train,
                           ConstVectorView<double> y_train, ConstMatrixView<double> X_test,
                           ConstVectorView<double> y_test, const Options& o) {
  return detail::single(method, model, X_train, y_train, X_test, y_test, o, false);
}

inline Curve relabel_single(const std::string& method, const gbdt::Model& model, ConstMatrixView<double> X_train,
                            ConstVectorView<double> y_train, ConstMatrixView<double> X_test,
                            ConstVectorView<double> y_test, const Options& o) {
  return detail::single(method, model, X_train, y_train, X_test, y_test, o, true);
}

/// Ranks training rows by influence summed over (X_val, y_val), removes the top fractions and
/// reports the change of the mean loss on (X_test, y_test).
inline Curve remove_set(const std::string& method, const gbdt::Model& model, ConstMatrixView<double> X_train,
                        ConstVectorView<double> y_train, ConstMatrixView<double> X_val, ConstVectorView<double> y_val,
                        ConstMatrixView<double> X_test, ConstVectorView<double> y_test, const Options& o) {
  using namespace detail;
  check_fractions(o.fractions);
  const RowMatrix X = copy(X_train), Xt = copy(X_test);
  const Eigen::VectorXd y = copy(y_train), yt = copy(y_test);
  const Explainer ex = make(method, model, X_train, y_train, o.influence);
  const Loss& L = ex.method().structure().loss();
  (void)ex.method().prepare(X_test, y_test);  // validates the test rows
  const Eigen::VectorXd total = ex.local(X_val, y_val).rowwise().sum();
  const auto ord = order_desc(total);
  const index_t n = X.rows();
  const double base = mean_loss(L, model, Xt, yt);
  Curve c{method, "remove_set", o.fractions, {}};
  influence::detail::Stopwatch sw;
  for (std::size_t j = 0; j < o.fractions.size(); ++j) {
    const index_t k = std::min<index_t>(n - 1, count_of(o.fractions[j], n));
    std::vector<std::uint8_t> hit(static_cast<std::size_t>(n), 0);
    for (index_t q = 0; q < k; ++q) hit[static_cast<std::size_t>(ord[static_cast<std::size_t>(q)])] = 1;
    RowMatrix Xn(n - k, X.cols());
    Eigen::VectorXd yn(n - k);
    for (index_t i = 0, q = 0; i < n; ++i) {
      if (hit[static_cast<std::size_t>(i)]) continue;
      Xn.row(q) = X.row(i);
      yn[q++] = y[i];
    }
    c.value.push_back(mean_loss(L, fit(o, Xn, yn, model.num_class), Xt, yt) - base);
    influence::detail::report(o.progress, static_cast<std::int64_t>(j + 1), static_cast<std::int64_t>(o.fractions.size()),
                              sw, "remove_set " + method);
  }
  return c;
}

/// Flips noise_fraction of the labels (binary / multiclass data; objective from o.train),
/// trains, ranks rows by the method's self-influence and reports the fraction of flipped rows
/// among the top fractions[j] of the ranking.
inline Curve label_noise(const std::string& method, ConstMatrixView<double> X_train, ConstVectorView<double> y_train,
                         const Options& o) {
  using namespace detail;
  check_fractions(o.fractions);
  require(o.noise_fraction > 0 && o.noise_fraction < 1, "noise_fraction", o.noise_fraction, "must lie in (0, 1)");
  const auto obj = gbdt::parse_objective(o.train.objective);
  require(obj != gbdt::Objective::squared_error, "train.objective", o.train.objective,
          "label_noise needs a classification objective");
  const RowMatrix X = copy(X_train);
  Eigen::VectorXd y = copy(y_train);
  const index_t n = X.rows();
  int K = 2;
  for (index_t i = 0; i < n; ++i) K = std::max(K, static_cast<int>(y[i]) + 1);
  if (obj == gbdt::Objective::softmax && o.train.num_class > 0) K = o.train.num_class;
  Rng rng(o.seed);
  const auto noisy = rng.sample_without_replacement(n, count_of(o.noise_fraction, n));
  std::vector<std::uint8_t> is_noisy(static_cast<std::size_t>(n), 0);
  for (auto i : noisy) {
    y[i] = flip(y[i], obj, K);
    is_noisy[static_cast<std::size_t>(i)] = 1;
  }
  const gbdt::Model m = fit(o, X, y, obj == gbdt::Objective::softmax ? K : 2);
  const Explainer ex = make(method, m, cview<double>(X), ConstVectorView<double>(y.data(), y.size()), o.influence);
  const auto ord = order_desc(ex.self());
  Curve c{method, "label_noise", o.fractions, {}};
  for (double f : o.fractions) {
    const index_t k = count_of(f, n);
    index_t found = 0;
    for (index_t q = 0; q < k; ++q) found += is_noisy[static_cast<std::size_t>(ord[static_cast<std::size_t>(q)])];
    c.value.push_back(static_cast<double>(found) / static_cast<double>(noisy.size()));
  }
  return c;
}

/// Methods ordered by the mean of their curves (best first).
inline std::vector<std::pair<std::string, double>> rank(const std::vector<Curve>& curves) {
  std::vector<std::pair<std::string, double>> r;
  for (const auto& c : curves) r.emplace_back(c.method, c.mean());
  std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return r;
}

}  // namespace orchard::influence::eval
