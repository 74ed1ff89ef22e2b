#pragma once
// The conventional baseline GBNN is compared with: the same one hidden layer of logistic units,
// the same loss, all weights trained at once by full-batch L-BFGS or minibatch Adam.
#include <chrono>
#include <cmath>
#include <vector>

#include "../core/random.hpp"
#include "common.hpp"
#include "lbfgs.hpp"
#include "network.hpp"
#include "objective.hpp"
#include "params.hpp"
#include "targets.hpp"

namespace orchard::gbnn {

template <class T = double>
class Mlp {
 public:
  /// Trains on X (n × d) and y (regression values or class indices 0..C−1).
  void fit(ConstMatrixView<T> Xv, ConstVectorView<T> yv, const MlpParams& p,
           const Context& ctx = Context(), const ProgressFn& progress = {}) {
    p.validate();
    require(Xv.rows > 0, "X.rows", Xv.rows, "must be > 0");
    require(Xv.cols > 0, "X.cols", Xv.cols, "must be > 0");
    detail::EigenSingleThread single;
    const auto t0 = std::chrono::steady_clock::now();
    RowMatrix<T> X;
    detail::copy_checked(Xv, X, "X");
    const index_t n = X.rows(), d = X.cols(), H = p.hidden;
    const auto tg = detail::make_targets(yv, p.task, n, "y");
    const index_t K = tg.K;
    const OutputLoss ol = tg.loss == Loss::squared  ? OutputLoss::squared
                          : tg.loss == Loss::binary ? OutputLoss::logistic
                                                    : OutputLoss::softmax;
    const index_t P = d * H + H * K + H + K;
    Vector<T> w(P);
    Rng rng(p.seed);
    Rng ri = rng.split(0);
    detail::glorot_init(ri, d, H, K, w);
    loss_curve_.clear();
    auto report = [&](int it, double loss) {
      loss_curve_.push_back(loss);
      if (!progress) return true;
      Progress pr;
      pr.step = it;
      pr.total = p.max_iter;
      pr.train_loss = loss;
      pr.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return progress(pr);
    };

    if (p.solver == Solver::lbfgs) {
      // The objective on the Context's device (CPU, or the registered CUDA path).
      const auto obj = detail::make_objective<T>(ctx, n, d, H, K, ol, static_cast<T>(p.alpha));
      obj->bind(X.data(), tg.y.data(), n, ctx);
      detail::LbfgsDriver<T> lbfgs(P, p.lbfgs_memory, p.tol, p.ftol, p.max_iter);
      iterations_ = lbfgs.minimize(*obj, w);
      report(iterations_, static_cast<double>(lbfgs.best_value()));
    } else {
      const index_t bs = std::min<index_t>(p.batch_size, n);
      const auto obj = detail::make_objective<T>(ctx, bs, d, H, K, ol, static_cast<T>(p.alpha));
      RowMatrix<T> Xb(bs, d);
      Vector<T> yb(bs), g(P), m = Vector<T>::Zero(P), v = Vector<T>::Zero(P);
      std::vector<index_t> order(static_cast<std::size_t>(n));
      long step = 0;
      for (int epoch = 0; epoch < p.max_iter; ++epoch) {
        for (index_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
        Rng rs = rng.split(static_cast<std::uint64_t>(epoch) + 1);
        rs.shuffle(order.begin(), order.end());
        double epoch_loss = 0;
        for (index_t s = 0; s < n; s += bs) {
          const index_t e = std::min(n, s + bs), mrows = e - s;
          for (index_t r = 0; r < mrows; ++r) {
            const index_t src = order[static_cast<std::size_t>(s + r)];
            Xb.row(r) = X.row(src);
            yb[r] = tg.y[src];
          }
          obj->bind(Xb.data(), yb.data(), mrows, ctx);
          const T loss = (*obj)(w, g);
          epoch_loss += static_cast<double>(loss) * static_cast<double>(mrows);
          ++step;
          const double c1 = 1 - std::pow(p.beta1, static_cast<double>(step));
          const double c2 = 1 - std::pow(p.beta2, static_cast<double>(step));
          const T lr = static_cast<T>(p.learning_rate * std::sqrt(c2) / c1);
          const T b1 = static_cast<T>(p.beta1), b2 = static_cast<T>(p.beta2);
          m = b1 * m + (T(1) - b1) * g;
          v = b2 * v + (T(1) - b2) * g.cwiseProduct(g);
          w.array() -= lr * m.array() / (v.array().sqrt() + static_cast<T>(p.epsilon));
        }
        iterations_ = epoch + 1;
        if (!report(epoch + 1, epoch_loss / static_cast<double>(n))) break;
      }
    }
    net_.output = ol == OutputLoss::squared    ? Output::identity
                  : ol == OutputLoss::logistic ? Output::logistic
                                               : Output::softmax;
    net_.W1 = Eigen::Map<const RowMatrix<T>>(w.data(), d, H);
    net_.W2 = Eigen::Map<const RowMatrix<T>>(w.data() + d * H, H, K);
    net_.b1 = w.segment(d * H + H * K, H);
    net_.b2 = w.segment(d * H + H * K + H, K);
    net_.units_per_step = 0;
    net_.stage_b2.resize(0, K);
  }

  const Network<T>& network() const { return net_; }
  /// Training loss after L-BFGS, or after each Adam epoch.
  const std::vector<double>& loss_curve() const { return loss_curve_; }
  /// L-BFGS iterations (−1 if the line search stopped early) or Adam epochs run.
  int iterations() const { return iterations_; }

  RowMatrix<T> predict_proba(ConstMatrixView<T> X, const Context& ctx = Context()) const {
    return net_.predict_proba(X, -1, ctx);
  }
  Vector<T> predict(ConstMatrixView<T> X, const Context& ctx = Context()) const {
    return net_.predict(X, -1, ctx);
  }

 private:
  Network<T> net_;
  std::vector<double> loss_curve_;
  int iterations_ = 0;
};

}  // namespace orchard::gbnn
