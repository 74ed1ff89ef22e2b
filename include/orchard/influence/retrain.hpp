#pragma once
// Ground truth by retraining with orchard::gbdt (parallel over retrains, one thread each):
//   LOO        Influence(i, e) = L(y_e, F_without_i(x_e)) - L(y_e, F(x_e))
//   SubSample  (Feldman & Zhang) mean test loss of the models trained without i minus the mean of
//              those trained with i, over models on random subsets (subsample_fraction of rows).
// The retrained models are kept; their test predictions are computed once per local()/top_k()
// call and reused for every training row.
#include <Eigen/Dense>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../core/random.hpp"
#include "../gbdt/train.hpp"
#include "explainer.hpp"

namespace orchard::influence::detail {

inline gbdt::Model retrain_rows(const Structure& st, const gbdt::Params& base, const std::vector<index_t>& rows) {
  gbdt::Params p = base;
  p.threads = 1;
  p.early_stopping_rounds = 0;
  p.num_rounds = static_cast<int>(st.rounds());
  detail::RowMatrix X(static_cast<index_t>(rows.size()), st.X().cols());
  Eigen::VectorXd y(static_cast<index_t>(rows.size()));
  for (std::size_t q = 0; q < rows.size(); ++q) {
    X.row(static_cast<index_t>(q)) = st.X().row(rows[q]);
    y[static_cast<index_t>(q)] = st.y()[static_cast<std::size_t>(rows[q])];
  }
  if (st.model().objective == gbdt::Objective::softmax) p.num_class = st.outputs();
  return gbdt::train(p, cview<double>(X), ConstVectorView<double>(y.data(), y.size()));
}

inline void check_retrain(const Structure& st, const gbdt::Params& p, const std::string& method) {
  std::vector<index_t> all(static_cast<std::size_t>(st.n()));
  for (index_t i = 0; i < st.n(); ++i) all[static_cast<std::size_t>(i)] = i;
  const gbdt::Model m = retrain_rows(st, p, all);
  const Eigen::MatrixXd a = m.predict_raw(cview<double>(st.X()), -1, st.ctx().threads());
  const Eigen::MatrixXd b = st.model().predict_raw(cview<double>(st.X()), -1, st.ctx().threads());
  const double diff = (a - b).cwiseAbs().maxCoeff();
  if (!(diff <= 1e-6 * (1 + b.cwiseAbs().maxCoeff()))) {
    std::ostringstream os;
    os << "orchard: influence method '" << method << "': retraining on all training rows with params.train "
       << "does not reproduce the model (max raw difference " << diff
       << "); pass the model's training parameters, or set check_retrain = false";
    throw InvalidArgument(os.str());
  }
}

/// Losses (m) of a model's predictions on the test rows.
inline std::vector<double> test_losses(const Structure& st, const gbdt::Model& m, const TestSet& ts) {
  const Eigen::MatrixXd F = m.predict_raw(cview<double>(ts.X), -1, 1);
  std::vector<double> out(static_cast<std::size_t>(ts.m));
  std::vector<double> f(static_cast<std::size_t>(st.outputs()));
  for (index_t e = 0; e < ts.m; ++e) {
    for (int c = 0; c < st.outputs(); ++c) f[static_cast<std::size_t>(c)] = F(e, c);
    out[static_cast<std::size_t>(e)] = st.loss().value(f.data(), ts.y[static_cast<std::size_t>(e)]);
  }
  return out;
}

class Loo : public Method {
 public:
  Loo(std::string name, std::shared_ptr<const Structure> s, const Params& p) : Method(std::move(name), std::move(s)) {
    const Structure& st = *s_;
    if (p.check_retrain) check_retrain(st, p.train, name_);
    models_.resize(static_cast<std::size_t>(st.n()));
    Stopwatch sw;
    const index_t chunk = std::max<index_t>(8, 2 * st.ctx().threads());
    for (index_t r0 = 0; r0 < st.n(); r0 += chunk) {
      const index_t r1 = std::min(st.n(), r0 + chunk);
      parallel_for_dynamic(st.ctx(), r1 - r0, [&](std::int64_t q) {
        const index_t r = r0 + q;
        std::vector<index_t> rows;
        rows.reserve(static_cast<std::size_t>(st.n() - 1));
        for (index_t i = 0; i < st.n(); ++i) {
          if (i != r) rows.push_back(i);
        }
        models_[static_cast<std::size_t>(r)] = retrain_rows(st, p.train, rows);
      });
      report(p.progress, r1, st.n(), sw, name_ + " retrain");
    }
  }

  bool by_test() const override { return false; }

  std::shared_ptr<TestSet> prepare(ConstMatrixView<double> X, ConstVectorView<double> y) const override {
    auto ts = s_->prepare(X, y, false);
    const Structure& st = *s_;
    const index_t n = st.n(), m = ts->m;
    ts->extra.assign(static_cast<std::size_t>((n + 1) * m), 0.0);  // row n: the model's own losses
    std::vector<double> F(static_cast<std::size_t>(st.outputs()));
    for (index_t e = 0; e < m; ++e) {
      ts->extra[static_cast<std::size_t>(n * m + e)] = st.loss().value(ts->F.data() + e * st.outputs(), ts->y[static_cast<std::size_t>(e)]);
    }
    parallel_for_dynamic(st.ctx(), n, [&](std::int64_t r) {
      const auto l = test_losses(st, models_[static_cast<std::size_t>(r)], *ts);
      std::copy(l.begin(), l.end(), ts->extra.begin() + r * m);
    });
    return ts;
  }

  void row(const TestSet& ts, index_t r, double* out) const override {
    const index_t n = s_->n(), m = ts.m;
    for (index_t e = 0; e < m; ++e) {
      out[e] = ts.extra[static_cast<std::size_t>(r * m + e)] - ts.extra[static_cast<std::size_t>(n * m + e)];
    }
  }

  Eigen::VectorXd self() const override {
    const Structure& st = *s_;
    Eigen::VectorXd out(st.n());
    parallel_for_dynamic(st.ctx(), st.n(), [&](std::int64_t r) {
      const Eigen::MatrixXd F = models_[static_cast<std::size_t>(r)].predict_raw(
          ConstMatrixView<double>(st.X().data() + r * st.X().cols(), 1, st.X().cols()), -1, 1);
      std::vector<double> f(static_cast<std::size_t>(st.outputs()));
      for (int c = 0; c < st.outputs(); ++c) f[static_cast<std::size_t>(c)] = F(0, c);
      const double yr = st.y()[static_cast<std::size_t>(r)];
      out[r] = st.loss().value(f.data(), yr) - st.loss().value(st.scores(st.rounds(), r), yr);
    });
    return out;
  }

 private:
  std::vector<gbdt::Model> models_;
};

class SubSample : public Method {
 public:
  SubSample(std::string name, std::shared_ptr<const Structure> s, const Params& p) : Method(std::move(name), std::move(s)) {
    const Structure& st = *s_;
    require(p.subsample_fraction > 0 && p.subsample_fraction < 1, "subsample_fraction", p.subsample_fraction, "must lie in (0, 1)");
    require(p.subsample_models >= 2, "subsample_models", p.subsample_models, "must be >= 2");
    const auto k = static_cast<index_t>(std::floor(p.subsample_fraction * static_cast<double>(st.n())));
    require(k >= 1 && k < st.n(), "subsample_fraction", p.subsample_fraction,
            "leaves no rows in or out of the subsets for n = " + std::to_string(st.n()));
    if (p.check_retrain) check_retrain(st, p.train, name_);
    const auto M = static_cast<std::size_t>(p.subsample_models);
    models_.resize(M);
    in_.assign(M, std::vector<std::uint8_t>(static_cast<std::size_t>(st.n()), 0));
    Rng rng(p.seed);
    Stopwatch sw;
    const index_t chunk = std::max<index_t>(8, 2 * st.ctx().threads());
    for (index_t q0 = 0; q0 < static_cast<index_t>(M); q0 += chunk) {
      const index_t q1 = std::min<index_t>(static_cast<index_t>(M), q0 + chunk);
      parallel_for_dynamic(st.ctx(), q1 - q0, [&](std::int64_t d) {
        const auto q = static_cast<std::size_t>(q0 + d);
        Rng r = rng.split(q);
        std::vector<index_t> rows;
        for (auto i : r.sample_without_replacement(st.n(), k)) {
          rows.push_back(i);
          in_[q][static_cast<std::size_t>(i)] = 1;
        }
        models_[q] = retrain_rows(st, p.train, rows);
      });
      report(p.progress, q1, static_cast<std::int64_t>(M), sw, name_ + " retrain");
    }
    self_losses_.assign(M * static_cast<std::size_t>(st.n()), 0.0);
    parallel_for_dynamic(st.ctx(), static_cast<std::int64_t>(M), [&](std::int64_t q) {
      const Eigen::MatrixXd F = models_[static_cast<std::size_t>(q)].predict_raw(cview<double>(st.X()), -1, 1);
      std::vector<double> f(static_cast<std::size_t>(st.outputs()));
      for (index_t i = 0; i < st.n(); ++i) {
        for (int c = 0; c < st.outputs(); ++c) f[static_cast<std::size_t>(c)] = F(i, c);
        self_losses_[static_cast<std::size_t>(q) * static_cast<std::size_t>(st.n()) + static_cast<std::size_t>(i)] =
            st.loss().value(f.data(), st.y()[static_cast<std::size_t>(i)]);
      }
    });
  }

  bool by_test() const override { return false; }

  std::shared_ptr<TestSet> prepare(ConstMatrixView<double> X, ConstVectorView<double> y) const override {
    auto ts = s_->prepare(X, y, false);
    const index_t M = static_cast<index_t>(models_.size()), m = ts->m;
    ts->extra.assign(static_cast<std::size_t>(M * m), 0.0);
    parallel_for_dynamic(s_->ctx(), M, [&](std::int64_t q) {
      const auto l = test_losses(*s_, models_[static_cast<std::size_t>(q)], *ts);
      std::copy(l.begin(), l.end(), ts->extra.begin() + q * m);
    });
    return ts;
  }

  void row(const TestSet& ts, index_t r, double* out) const override {
    combine(r, ts.m, [&](index_t q, index_t e) { return ts.extra[static_cast<std::size_t>(q * ts.m + e)]; }, out);
  }

  Eigen::VectorXd self() const override {
    const index_t n = s_->n();
    Eigen::VectorXd out(n);
    for (index_t r = 0; r < n; ++r) {
      double v = 0;
      combine(r, 1, [&](index_t q, index_t) { return self_losses_[static_cast<std::size_t>(q * n + r)]; }, &v);
      out[r] = v;
    }
    return out;
  }

 private:
  template <class LossAt>
  void combine(index_t r, index_t m, LossAt loss_at, double* out) const {
    for (index_t e = 0; e < m; ++e) {
      double sin = 0, sout = 0;
      index_t cin = 0, cout = 0;
      for (std::size_t q = 0; q < models_.size(); ++q) {
        const double l = loss_at(static_cast<index_t>(q), e);
        if (in_[q][static_cast<std::size_t>(r)]) {
          sin += l;
          ++cin;
        } else {
          sout += l;
          ++cout;
        }
      }
      out[e] = (cout > 0 && cin > 0) ? sout / static_cast<double>(cout) - sin / static_cast<double>(cin) : 0.0;
    }
  }

  std::vector<gbdt::Model> models_;
  std::vector<std::vector<std::uint8_t>> in_;
  std::vector<double> self_losses_;
};

}  // namespace orchard::influence::detail
